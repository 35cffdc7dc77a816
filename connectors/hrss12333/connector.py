"""The 12333 connector: the shared national interconnect, spoken in the 12333 platform's dialect."""

from __future__ import annotations

from typing import ClassVar

from connectors.hrss12333.dialect import Hrss12333Dialect
from connectors.national.client import NationalConnector
from connectors.national.dialect import Dialect


class Hrss12333Connector(NationalConnector):
    """人社服务热线 12333 (HR and social security): polls work orders, pushes status and replies back."""

    kind: ClassVar[str] = "12333"
    dialect: ClassVar[Dialect] = Hrss12333Dialect()
