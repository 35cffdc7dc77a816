"""Which class implements each connector kind: an explicit table, plus third-party entry points."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.base import Connector

ENTRY_POINT_GROUP = "huiju.connectors"

BUILTIN: dict[str, str] = {
    "api": "connectors.api:ApiConnector",
    "12315": "connectors.market12315:Market12315Connector",
    "12333": "connectors.hrss12333:Hrss12333Connector",
    "12328": "connectors.transport12328:Transport12328Connector",
}


class UnknownConnector(LookupError):
    """No connector is registered under that kind."""


@cache
def connector_class(kind: str) -> type[Connector]:
    """The connector class for a kind: built in first, then the `huiju.connectors` entry point group."""
    target = BUILTIN.get(kind)
    if target is None:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == kind]
        if not found:
            known = ", ".join(sorted(set(BUILTIN) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}))
            raise UnknownConnector(f"unknown connector kind {kind!r} (known: {known})")
        return found[0].load()
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
