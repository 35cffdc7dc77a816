"""The matcher's remembered appeals: a row reads back as it was kept, changes go through the store, strings
shared by many rows are stored once, a forgotten row keeps everything but its text and address; rows listed
under keys (cases, persons) as a dict of lists would list them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from dedup.priors import Chains, Prior, Priors, at_micros, micros

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


def test_rows_are_listed_under_their_key_in_order_and_the_last_few_on_request():
    chains = Chains()
    for row, key in enumerate([0, 1, 0, 0, 2, 0]):
        chains.append(key, row)
    assert chains.rows(0) == [0, 2, 3, 5]
    assert chains.rows(0, most=2) == [3, 5]
    assert chains.last(0) == 5 and chains.last(1) == 1
    assert chains.rows(7) == [] and chains.last(7) is None and chains.rows(None) == []


def test_a_removed_row_leaves_its_key_and_the_others_stay_linked():
    chains = Chains()
    for row in range(4):
        chains.append(3, row)
    chains.remove(3, 2)  # from the middle
    chains.remove(3, 3)  # the last
    chains.remove(3, 0)  # the first
    assert chains.rows(3) == [1] and chains.last(3) == 1
    chains.append(4, 2)  # a removed row can be listed under another key
    assert chains.rows(4) == [2]


def test_merging_two_keys_lists_all_their_rows_in_row_order_under_one():
    chains = Chains()
    for row, key in enumerate([5, 6, 5, 6, 6]):
        chains.append(key, row)
    chains.merge(5, 6)
    assert chains.rows(5) == [0, 1, 2, 3, 4]
    assert chains.rows(6) == [] and chains.last(6) is None
    chains.append(5, 5)
    assert chains.rows(5, most=3) == [3, 4, 5]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(0, 5)),
        st.tuples(st.just("remove"), st.integers(0, 5)),
        st.tuples(st.just("merge"), st.tuples(st.integers(0, 5), st.integers(0, 5))),
    ),
    max_size=60,
)


@given(operations)
def test_chains_keep_the_same_lists_as_a_dict_of_lists(ops):
    chains, lists, row = Chains(), {k: [] for k in range(6)}, 0
    for op, arg in ops:
        if op == "append":
            chains.append(arg, row)
            lists[arg].append(row)
            row += 1
        elif op == "remove" and lists[arg]:
            gone = lists[arg].pop(len(lists[arg]) // 2)
            chains.remove(arg, gone)
        elif op == "merge" and arg[0] != arg[1]:
            into, absorbed = arg
            chains.merge(into, absorbed)
            lists[into] = sorted(lists[into] + lists[absorbed])
            lists[absorbed] = []
        for key, rows in lists.items():
            assert chains.rows(key) == rows
            assert chains.last(key) == (rows[-1] if rows else None)
