"""Bigram counts and weights: exact counts however the table grows, weights by the counts at the last refresh,
and the shared weight of two texts."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.counts import GramCounts, shared, total

grams32 = st.integers(min_value=0, max_value=2**32 - 1)
# The first call of a fresh checkout compiles the table's loops (numba): no deadline on an example.
compiled_on_first_use = settings(deadline=None)
texts = st.lists(st.lists(grams32, max_size=40, unique=True), max_size=30)  # each appeal's distinct bigrams


def counted(appeals: list[list[int]]) -> GramCounts:
    counts = GramCounts()
    for grams in appeals:
        counts.add(np.array(grams, dtype=np.uint32), 1)
    return counts


@compiled_on_first_use
@given(texts)
def test_counts_are_those_of_counting_every_appeal_by_hand(appeals):
    counts = counted(appeals)
    expected = Counter(g for grams in appeals for g in grams)
    assert {g: now for g, (now, _) in counts.counts().items()} == dict(expected)
    assert counts.documents == len(appeals)
    assert counts.size == len(expected)


def test_counts_stay_exact_as_the_table_grows_far_past_its_first_size():
    rng = np.random.default_rng(7)
    appeals = [rng.integers(0, 2**32, size=500, dtype=np.uint64).astype(np.uint32) for _ in range(600)]
    counts = GramCounts()
    first_slots = counts.keys.size
    for grams in appeals:
        counts.add(np.unique(grams), 1)
    expected = Counter(g for grams in appeals for g in np.unique(grams).tolist())
    assert counts.keys.size > first_slots
    assert {g: now for g, (now, _) in counts.counts().items()} == dict(expected)


def test_many_appeals_added_at_once_count_as_adding_them_one_by_one():
    appeals = [[1, 2, 3], [2, 3], [3, 4_000_000_000]]
    together = GramCounts()
    together.add(np.array([g for grams in appeals for g in grams], dtype=np.uint32), len(appeals))
    assert together.counts() == counted(appeals).counts()
    assert together.documents == 3


def test_a_weight_follows_the_counts_at_the_last_refresh_not_the_counts_since():
    counts = counted([[10, 11], [10], [10]])
    counts.refresh()  # 3 appeals: 10 in all three, 11 in one
    counts.add(np.array([10, 11, 12], dtype=np.uint32), 1)
    weights = counts.weights(np.array([10, 11, 12, 13], dtype=np.uint32)).tolist()
    assert weights == [
        math.log(4 / 4) + 1.0,
        math.log(4 / 2) + 1.0,
        math.log(4 / 1) + 1.0,  # counted since the refresh: still unseen for the weights
        math.log(4 / 1) + 1.0,  # never seen
    ]
    counts.refresh()
    assert counts.weights(np.array([12], dtype=np.uint32)).tolist() == [math.log(5 / 2) + 1.0]


def test_a_rarer_bigram_weighs_more():
    counts = counted([[1, 2]] * 9 + [[2]])
    counts.refresh()
    common, rare = counts.weights(np.array([2, 1], dtype=np.uint32)).tolist()
    assert rare > common


sorted_sets = st.lists(grams32, max_size=60, unique=True).map(lambda g: np.array(sorted(g), dtype=np.uint32))


@compiled_on_first_use
@given(sorted_sets, sorted_sets)
def test_shared_counts_and_weighs_the_bigrams_both_texts_have(mine, theirs):
    weights = np.arange(1, mine.size + 1, dtype=np.float64) / 7
    n, weight = shared(mine, weights, theirs)
    both = set(mine.tolist()) & set(theirs.tolist())
    assert n == len(both)
    assert math.isclose(weight, sum(w for g, w in zip(mine.tolist(), weights, strict=True) if g in both))


@compiled_on_first_use
@given(sorted_sets, st.data())
def test_a_text_within_another_shares_exactly_its_whole_weight(mine, data):
    counts = counted([mine.tolist(), mine[::2].tolist()])
    counts.refresh()
    part = np.array(sorted(data.draw(st.sets(st.sampled_from(mine.tolist())))) if mine.size else [], np.uint32)
    n, weight = shared(mine, counts.weights(mine), part)
    assert n == part.size
    assert weight == total(counts.weights(part))  # equal, not close: containment is then exactly 1
