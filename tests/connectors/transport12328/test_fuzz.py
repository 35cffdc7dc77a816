"""Property tests: whatever the platform sends, the 12328 parsers answer or refuse with a reason, never crash."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import MappingError, Position
from connectors.transport12328 import Transport12328Dialect
from connectors.transport12328.mapping import TOP_LEVEL, map_ticket
from core.errors import ChannelError
from normalizer import NormalizationError
from normalizer.record import AppealDraft
from simulators.national.dialect import FeedQuery, ReceivedEvent
from simulators.national.transport12328 import Transport12328ServerDialect
from tests.connectors.transport12328.support import first_page_tickets, normalized

CLIENT = Transport12328Dialect()
SERVER = Transport12328ServerDialect()
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with everything a JSON string can carry once decoded, lone surrogates included.
any_text = st.text(st.characters(blacklist_categories=()), max_size=40)
words = st.sampled_from(
    ["", " ", "complaint", "taxi", "出租车拒载", "2024-11-25T09:31:47+08:00", "0000-00-00", "JT1", "360702", "NaN"]
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), any_text, words
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(any_text, words), inner, max_size=4)
    ),
    max_leaves=20,
)
known_keys = st.sampled_from(sorted(TOP_LEVEL))
sub_keys = st.sampled_from(
    ["name", "phone", "address", "adcode", "lng", "lat", "credit_code", "url", "content_type", "size_bytes"]
)
# Ticket-shaped objects: the protocol's keys with values of any shape, so the fuzzing reaches the nested fields.
nested = st.one_of(
    json_values,
    st.dictionaries(sub_keys, json_values, max_size=5),
    st.lists(st.dictionaries(sub_keys, json_values, max_size=4), max_size=3),
)
tickets = st.dictionaries(st.one_of(known_keys, any_text), nested, max_size=12)


def mutated_ticket(data: st.DataObject) -> dict[str, Any]:
    """A saved ticket with a few of its values replaced by anything."""
    ticket = dict(data.draw(st.sampled_from(first_page_tickets())))
    for key in data.draw(st.lists(st.sampled_from(sorted(ticket)), max_size=4, unique=True)):
        ticket[key] = data.draw(nested)
    return ticket


def check_refusal(e: Exception) -> None:
    """A refusal names what was wrong: "<field>: <reason>"."""
    field, _, reason = str(e).partition(": ")
    assert field and reason, f"reason without a field: {e!r}"


def check_map(item: Any) -> None:
    """map answers a draft that the normalizer takes or refuses with a reason, or refuses with a reason."""
    try:
        draft = map_ticket(item)
    except MappingError as e:
        check_refusal(e)
        return
    assert isinstance(draft, AppealDraft)
    assert draft.enterprise is None
    assert all(isinstance(w, str) for w in draft.warnings)
    try:
        normalized(draft)
    except NormalizationError as e:
        check_refusal(e)


@FUZZ
@given(json_values)
def test_map_of_any_json_value_answers_or_refuses_with_a_reason(item):
    check_map(item)


@FUZZ
@given(tickets)
def test_map_of_any_ticket_shaped_object_answers_or_refuses_with_a_reason(item):
    check_map(item)


@FUZZ
@given(st.data())
def test_map_of_a_real_ticket_with_values_replaced_answers_or_refuses_with_a_reason(data):
    check_map(mutated_ticket(data))


@FUZZ
@given(st.data())
def test_a_real_ticket_with_only_optional_values_replaced_always_maps(data):
    ticket = dict(data.draw(st.sampled_from(first_page_tickets())))
    optional = sorted(TOP_LEVEL - {"ticket_id", "subject", "description"})
    for key in data.draw(st.lists(st.sampled_from(optional), max_size=5, unique=True)):
        ticket[key] = data.draw(nested)
    assert map_ticket(ticket).source_id == ticket["ticket_id"]


@FUZZ
@given(st.one_of(json_values, tickets))
def test_item_id_and_position_never_raise(item):
    ticket_id = CLIENT.item_id(item) if isinstance(item, dict) else None
    position = CLIENT.item_position(item) if isinstance(item, dict) else None
    assert ticket_id is None or isinstance(ticket_id, str)
    assert position is None or (isinstance(position, Position) and position.id == ticket_id)


def check_parse(parse, body: bytes) -> None:
    try:
        parse(200, body)
    except ChannelError as e:
        assert str(e).startswith("12328 "), str(e)
        check_refusal(e)


@FUZZ
@given(st.binary(max_size=200))
def test_parse_page_of_any_bytes_answers_or_raises_a_classified_error(body):
    check_parse(CLIENT.parse_page, body)


@FUZZ
@given(st.dictionaries(st.sampled_from(["tickets", "has_more", "server_time", "error"]), nested, max_size=4))
def test_parse_page_of_any_envelope_answers_or_raises_a_classified_error(doc):
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    check_parse(CLIENT.parse_page, body)


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.builds(lambda d: json.dumps(d).encode(), json_values)))
def test_parse_receipt_and_check_of_any_body_answer_or_raise_a_classified_error(body):
    check_parse(CLIENT.parse_receipt, body)
    check_parse(CLIENT.parse_check, body)


@FUZZ
@given(st.dictionaries(st.sampled_from(["since", "after", "limit", "x"]), st.one_of(any_text, words), max_size=4))
def test_the_simulator_reads_any_poll_query_or_refuses_it_with_a_reason(query):
    try:
        assert isinstance(SERVER.parse_feed_query(query, b""), FeedQuery)
    except ValueError as e:
        check_refusal(e)


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.builds(lambda d: json.dumps(d).encode(), json_values)))
def test_the_simulator_reads_any_event_or_refuses_it_with_a_reason(body):
    try:
        assert isinstance(SERVER.parse_event("JT1", body), ReceivedEvent)
    except ValueError as e:
        check_refusal(e)
