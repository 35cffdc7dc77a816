"""12328 交通运输服务监督电话 (transport hotline, 交通运输局): a polled interconnect channel.

See docs/channels/12328.md for the protocol and the mapping.
"""

from connectors.transport12328.connector import Transport12328Connector
from connectors.transport12328.dialect import Transport12328Dialect

__all__ = ["Transport12328Connector", "Transport12328Dialect"]
