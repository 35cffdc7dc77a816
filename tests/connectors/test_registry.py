"""The registry: built-in kinds by an explicit table, third-party kinds by the huiju.connectors entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

import connectors.registry as registry
from connectors.api import ApiConnector
from connectors.market12315 import Market12315Connector


@pytest.fixture(autouse=True)
def fresh_cache():
    registry.connector_class.cache_clear()
    yield
    registry.connector_class.cache_clear()


def test_built_in_kinds_resolve_to_their_classes():
    assert registry.connector_class("api") is ApiConnector
    assert registry.connector_class("12315") is Market12315Connector
    assert registry.connector_class("12315").kind == "12315"


def test_a_third_party_connector_registers_through_an_entry_point(monkeypatch):
    ep = EntryPoint(name="myboard", value="connectors.api:ApiConnector", group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [ep] if group == registry.ENTRY_POINT_GROUP else []
    )
    assert registry.connector_class("myboard") is ApiConnector


def test_an_unknown_kind_names_the_known_ones():
    with pytest.raises(registry.UnknownConnector, match=r"unknown connector kind 'fax' \(known: 12315, 12328"):
        registry.connector_class("fax")


def test_every_built_in_kind_declares_what_it_can_do():
    for kind in registry.BUILTIN:
        cls = registry.connector_class(kind)
        assert cls.kind == kind
        assert cls.polls or cls.receives, kind
