"""The 12315 platform (全国12315平台, market regulation, 市场监管局): an interconnect channel.

huiju polls 12315's work orders and pushes the 12345 platform's status and replies back. The signing, paging
and error handling are shared with 12333 and 12328 (connectors/national); what is 12315's own is its dialect
(paths, parameters, envelope, codes) and its mapping. Protocol: docs/channels/12315.md.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.market12315.dialect import Market12315Dialect
from connectors.national.client import NationalConnector
from connectors.national.dialect import Dialect


class Market12315Connector(NationalConnector):
    """Polls 12315 work orders and delivers status and replies back to 12315."""

    kind: ClassVar[str] = "12315"
    dialect: ClassVar[Dialect] = Market12315Dialect()


__all__ = ["Market12315Connector"]
