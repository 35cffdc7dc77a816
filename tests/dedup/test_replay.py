"""Rebuilding the matcher's memory: replaying many appeals at once remembers them as replaying one by one."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from bench.dedup_corpus import build_corpus
from dedup.batch import probe_of
from dedup.matcher import Decision, Matcher, Probe

HALF = 400


@pytest.fixture(scope="module")
def probes() -> list[Probe]:
    corpus = build_corpus(seed=3, size=2 * HALF, teddy_dir=None)
    return [probe_of(a, n) for n, a in enumerate(corpus.appeals, 1)]


def numbered_cases() -> Matcher:
    counter = itertools.count()
    return Matcher(new_case_id=lambda: f"case-{next(counter)}")


def as_decided(probes: list[Probe], matcher: Matcher) -> list[tuple[Probe, str, str | None]]:
    """(probe, case, cluster) of every appeal, as a database would hold them after the matcher decided them."""
    decisions = [matcher.decide(p) for p in probes]
    return [(p, d.case_id, matcher.cluster_of_case.get(d.case_id)) for p, d in zip(probes, decisions, strict=True)]


def outcomes(matcher: Matcher, probes: list[Probe]) -> list[tuple[str, str, float | None]]:
    out = []
    for d in map(matcher.decide, probes):
        out.append((d.decision, "new" if d.new_case else d.case_id, d.score))
    return out


def test_replaying_in_batches_decides_later_appeals_as_replaying_one_by_one(probes):
    first = as_decided(probes[:HALF], numbered_cases())
    one_by_one, batched = numbered_cases(), numbered_cases()
    for appeal in first:
        one_by_one.replay(*appeal)
    for i in range(0, HALF, 97):  # batches that do not fall on the weights' refresh points
        batched.replay_many(first[i : i + 97])
    assert batched.documents == one_by_one.documents == HALF
    assert batched.counts.counts() == one_by_one.counts.counts()
    assert outcomes(batched, probes[HALF:]) == outcomes(one_by_one, probes[HALF:])


def test_an_appeal_replayed_twice_is_remembered_once(probes):
    matcher = Matcher()
    first = as_decided(probes[:10], numbered_cases())
    matcher.replay_many(first + first[:3])
    matcher.replay_many(first[5:])
    assert len(matcher.priors) == matcher.documents == len(matcher.index) == 10


def test_replaying_nothing_changes_nothing():
    matcher = Matcher()
    matcher.replay_many([])
    assert matcher.documents == len(matcher.priors) == 0


def test_a_replayed_appeal_is_remembered_as_decided(probes):
    replayed = Matcher()
    replayed.replay_many([(probes[0], "case-a", "cluster-1")])
    [prior] = replayed.priors
    assert (prior.id, prior.case_id, prior.cluster_id, prior.text) == (
        probes[0].id,
        "case-a",
        "cluster-1",
        probes[0].text,
    )
    assert isinstance(replayed.decide(probes[0]), Decision)


def test_appeals_of_one_channel_share_one_copy_of_its_name(probes):
    read = [dataclasses.replace(p, channel="".join(p.channel)) for p in probes[:50]]  # a string each, as read
    matcher = Matcher()
    matcher.replay_many([(p, f"case-{n}", None) for n, p in enumerate(read)])
    by_name = {}
    for prior in matcher.priors:
        assert by_name.setdefault(prior.channel, prior.channel) is prior.channel


def test_an_instance_that_restarted_decides_exactly_as_one_that_never_did(probes):
    cut = HALF - 37  # not on a refresh point of the weights
    never = numbered_cases()
    decided = as_decided(probes[:cut], never)
    restarted = numbered_cases()
    restarted.replay_many(decided)
    for _ in range(len({case for _, case, _ in decided})):  # its new cases are numbered on from the first's
        restarted.new_case_id()
    assert outcomes(restarted, probes[cut:]) == outcomes(never, probes[cut:])
