"""12333 人社服务热线 (HR and social security hotline, 人社局): a polled interconnect channel.

See docs/channels/12333.md for the protocol and the mapping.
"""

from connectors.hrss12333.connector import Hrss12333Connector
from connectors.hrss12333.dialect import Hrss12333Dialect
from connectors.hrss12333.mapping import map_work_order

__all__ = ["Hrss12333Connector", "Hrss12333Dialect", "map_work_order"]
