"""A simulator of an Open311 GeoReport v2 server, the second kind of target huiju pushes cases to.

`build_open311(api_key, ...)` gives the aiohttp application; `running(app)` serves it on a free loopback port.
See docs/targets/open311.md § The simulator.
"""

from simulators.national.run import running, serve
from simulators.open311.app import build_open311

__all__ = ["build_open311", "running", "serve"]
