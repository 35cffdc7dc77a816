"""The 12328 connector: the shared national interconnect client, spoken in the 12328 dialect."""

from __future__ import annotations

from typing import ClassVar

from connectors.national.client import NationalConnector
from connectors.national.dialect import Dialect
from connectors.transport12328.dialect import Transport12328Dialect


class Transport12328Connector(NationalConnector):
    """12328 交通运输服务监督电话 (transport hotline): polls tickets, pushes status and replies back."""

    kind: ClassVar[str] = "12328"
    dialect: ClassVar[Dialect] = Transport12328Dialect()
