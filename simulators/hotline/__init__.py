"""A simulator of the unified 12345 hotline platform, as huiju sees it (docs/platform12345.md).

`build_platform(...)` gives the aiohttp application; `running(app)` serves it on a free loopback port.
"""

from simulators.hotline.app import build_platform
from simulators.national.run import running, serve

__all__ = ["build_platform", "running", "serve"]
