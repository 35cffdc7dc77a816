"""The matcher's remembered appeals: a row reads back as it was kept, changes go through the store, strings
shared by many rows are stored once, and a forgotten row keeps everything but its text and address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from dedup.priors import Prior, Priors, at_micros, micros

BEIJING = timezone(timedelta(hours=8))
AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=BEIJING)


def kept(priors: Priors, n: int, case: str = "case-1", cluster: str | None = None) -> int:
    return priors.append(
        f"appeal-{n}", case, n, "wechat", AT + timedelta(minutes=n), f"路灯坏了{n}", "360702", "解放街道",
        "章贡区解放街道景蓉华苑", cluster,
    )  # fmt: skip


def test_a_row_reads_back_as_it_was_kept():
    priors = Priors()
    row = kept(priors, 0)
    assert priors[row] == Prior(
        0, "appeal-0", "case-1", 0, "wechat", AT, "路灯坏了0", "360702", "解放街道", "章贡区解放街道景蓉华苑", None
    )
    assert priors[row].received_at == AT  # the same moment, whatever zone it was given in


def test_missing_person_place_and_cluster_read_back_as_none():
    priors = Priors()
    row = priors.append("a", "c", None, "board", AT, "", None, None, None, None)
    prior = priors[row]
    assert (prior.person, prior.division_code, prior.township, prior.address, prior.cluster_id) == (None,) * 5


def test_case_and_cluster_change_through_the_store_and_other_rows_keep_theirs():
    priors = Priors()
    first, second = kept(priors, 0), kept(priors, 1)
    priors.set_case(first, "case-2")
    priors.set_cluster(first, "cluster-9")
    assert (priors[first].case_id, priors[first].cluster_id) == ("case-2", "cluster-9")
    assert (priors[second].case_id, priors[second].cluster_id) == ("case-1", None)
    priors.set_cluster(first, None)
    assert priors[first].cluster_id is None


def test_a_case_id_shared_by_many_rows_is_stored_once():
    priors = Priors()
    for n in range(100):
        kept(priors, n, case=f"case-{1}")  # a new string object each time, as rows read from a database
    assert priors.cases.names == ["case-1"]


def test_a_forgotten_row_keeps_all_but_its_text_and_address():
    priors = Priors()
    row = kept(priors, 0)
    priors.forget(row)
    prior = priors[row]
    assert (prior.text, prior.address) == ("", None)
    assert (prior.id, prior.case_id, prior.township, prior.received_at) == ("appeal-0", "case-1", "解放街道", AT)


def test_rows_are_read_in_order_and_from_the_end():
    priors = Priors()
    for n in range(3):
        kept(priors, n)
    assert [p.id for p in priors] == ["appeal-0", "appeal-1", "appeal-2"]
    assert priors[-1].id == "appeal-2" and len(priors) == 3


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_a_time_survives_its_microseconds_exactly(t):
    assert at_micros(micros(t)) == t
