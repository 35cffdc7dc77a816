"""What the three national platforms' connector tests share: events, mapping-only connectors, refusals, fuzzing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from hypothesis import strategies as st

from connectors.base import MappingError, OutboundEvent
from connectors.national.client import NationalConnector
from core.config import ChannelSettings

C = TypeVar("C", bound=NationalConnector)


def events(**defaults: Any) -> Callable[..., OutboundEvent]:
    """A maker of outbound events: a reply (status "replied") with these defaults, each call changing any field."""
    base = {"kind": "reply", "status": "replied"} | defaults

    def event(**changes: Any) -> OutboundEvent:
        """The event of the defaults, with changes."""
        return OutboundEvent(**(base | changes))

    return event


def mapping_connector(cls: type[C], channel_id: str) -> C:
    """A connector of cls with placeholder settings and no HTTP client: enough to map stored payloads."""
    settings = {"base_url": "http://127.0.0.1:1", "app_key": "huiju", "app_secret": "s" * 32}
    return cls(ChannelSettings(id=channel_id, kind=cls.kind, mode="interconnect", settings=settings))


def outcomes(items: Iterable[Any], produce: Callable[[Any], Any]) -> list[Any]:
    """What produce makes of each item, or, where it refuses one, the MappingError's reason."""
    results = []
    for item in items:
        try:
            results.append(produce(item))
        except MappingError as e:
            results.append(str(e))
    return results


def assert_says_why(e: Exception) -> None:
    """A refusal carries a reason."""
    assert str(e).strip(), f"{type(e).__name__} without a reason"


def any_json(*scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Any decoded JSON value, nested: null, booleans, huge integers, NaN, infinities, short text, scalars."""
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), *scalars,
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )
