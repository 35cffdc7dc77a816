"""The matcher: for each new appeal, exactly one decision — absorb, merge, link or new — and why.

- **absorb**: the same item again (the same person, the same channel, within minutes, nearly the same text),
  such as a resubmitted form: kept for the record in the case it repeats; nothing new is sent.
- **merge**: the same person about the same matter, on any channel, within the window: a repeat appeal
  (重复件) of that case.
- **link**: a different person (or one huiju cannot tell) about the same matter at the same place: a case of
  its own, linked to the matter's hot-issue cluster (群体诉求), since each person is owed a reply.
- **new**: anything else.

"Same person" is a shared identifier — phone, ID number, WeChat openid or unionid, a channel's user id — or a
chain of them: a phone seen with an openid links the two for every later appeal. A name alone never is.
"Same matter" is a text score (character-bigram Jaccard, or containment when one text is much shorter, as a
WeChat message beside a board post), checked against the place (division code, township, address) and the
time window. For one person's two appeals the text score is raised when they name the same object on a new
channel (dedup/topics.py), open alike, are at the very same place, or one is a short addition to the other, and
lowered when they name different objects; different persons' look-alike texts that name two estates, shops or
roads (dedup/names.py) are not linked. Candidates come from the LSH index (similar texts) and from the person's
own recent appeals (so that a short message and a long post by one person still meet). Precision comes first: a
false merge hides a citizen's appeal in someone else's case, so merging needs the same person, and linking needs
the place to agree.
"""

from __future__ import annotations

import difflib
import functools
import re
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from dedup.counts import GramCounts, shared, total
from dedup.index import LshIndex
from dedup.minhash import SHINGLE, MinHasher, shingle_hashes, shingle_hashes_many
from dedup.names import differ as names_differ
from dedup.names import names
from dedup.names import share as names_share
from dedup.places import Address, divisions_differ, parse_address
from dedup.priors import Chains, Prior, Priors, micros
from dedup.topics import agreement as topic_agreement
from dedup.topics import topics

RULE = "text-identity-place"
VERIFY_GRAM = 2  # verification scores character bigrams: most Chinese words are two characters, so a
# paraphrase keeps many of them while it keeps few 3-grams (the LSH index, which must be selective, uses 3-grams)
VERSION = "3"
NEGLIGIBLE = 0.08  # below this share of common bigrams, a text score is 0 without weighing it
WEIGHT_EPOCH = 8192  # appeals between refreshes of the bigram weights (and at 1, 2, 4 ... 4096 before)
FORGET_MARGIN_DAYS = 7  # a prior keeps its text this long after it left the window (late arrivals)
EXCERPT_SPAN = 240  # characters of each text searched for the shared excerpt


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What the matcher decides by; [dedup] in config.toml, and the batch interface's defaults."""

    window_days: float = 30.0  # merges and links look this far back
    absorb_minutes: float = 10.0  # the same item again: within minutes ...
    absorb_score: float = 0.85  # ... and nearly the same text
    merge_score: float = 0.3  # the same person: this text score is the same matter ...
    merge_score_same_place: float = 0.15  # ... or this one at the very same address or township
    link_score: float = 0.62  # a different person: this text score, at the same place, is the same matter
    candidate_floor: float = 0.2  # LSH candidates estimated below this are not verified
    max_candidates: int = 64  # verified per appeal at most: the person's own recent ones and ...
    max_text_candidates: int = 24  # ... the most similar texts of the index
    short_text: int = 12  # shingles: below this, containment is not trusted
    containment_weight: float = 0.9  # containment counts for a little less than Jaccard
    # The same person's two appeals: the text score is raised or lowered by what else they say of the matter.
    topic_agrees: float = 0.5  # topics (dedup/topics.py) this close are the same object ...
    topic_differs: float = 0.2  # ... and this far apart different ones
    same_topic_bonus: float = 0.25  # the same object, in a case told only on other channels (in their own words)
    other_topic_penalty: float = 0.2  # different objects (垃圾站 and 下水道 at one community)
    follow_up_hours: float = 72.0  # a short addition (补充…) to the person's latest appeal within this ...
    follow_up_chars: int = 60  # ... of at most this many characters is about that appeal's matter
    opening_chars: int = 30  # two appeals that open alike (a board post's title, the first words) ...
    opening_agrees: float = 0.5  # ... sharing this weighted share of their opening bigrams ...
    same_opening_bonus: float = 0.2  # ... are about one matter, unless they name different objects

    @property
    def version(self) -> str:
        """The rule version recorded with each decision: the rule's and, if not the defaults, the thresholds'."""
        if self == Thresholds():
            return VERSION
        digest = uuid.uuid5(uuid.NAMESPACE_OID, repr(self)).hex[:8]
        return f"{VERSION}+{digest}"


@dataclass(frozen=True, slots=True)
class Probe:
    """A new appeal as the matcher sees it (folded text, identifiers, place, time)."""

    id: str
    channel: str
    received_at: datetime
    text: str  # folded title + content
    identities: tuple[tuple[str, str], ...]  # (kind, value); user ids scoped by channel
    division_code: str | None = None
    township: str | None = None
    address: str | None = None  # folded


@dataclass(frozen=True, slots=True)
class Decision:
    """One appeal's decision and its explanation (what the merge log records)."""

    appeal_id: str
    decision: str  # absorb | merge | link | new
    case_id: str
    new_case: bool
    cluster_id: str | None
    score: float | None
    evidence: dict[str, Any] = field(default_factory=dict)
    rule: str = RULE
    rule_version: str = VERSION
    joined_cluster: tuple[str, ...] = ()  # earlier cases that joined the cluster with this decision


class People:
    """Who is who: identifiers joined into persons, a union-find over everything ever seen together."""

    def __init__(self) -> None:
        self._of: dict[str, int] = {}  # "kind\x1fvalue" -> person: one string, not a tuple of two, per identifier
        self._parent: list[int] = []
        self.joined: list[tuple[int, int]] = []  # (absorbed, into): unions since the caller last looked

    def find(self, person: int) -> int:
        """The person's representative (path-halving union-find)."""
        parent = self._parent
        while parent[person] != person:
            parent[person] = parent[parent[person]]
            person = parent[person]
        return person

    def resolve(self, identities: Iterable[tuple[str, str]]) -> int | None:
        """The person these identifiers belong to (joining persons they link); None without identifiers."""
        ids = [f"{kind}\x1f{value}" for kind, value in identities]
        found = {self.find(self._of[i]) for i in ids if i in self._of}
        if not ids:
            return None
        if found:
            person = min(found)
            for other in found - {person}:
                self._parent[other] = person
                self.joined.append((other, person))
        else:
            person = len(self._parent)
            self._parent.append(person)
        for i in ids:
            self._of.setdefault(i, person)
        return person

    def known(self, identities: Iterable[tuple[str, str]]) -> int | None:
        """The person of these identifiers if any was seen before (joins nothing)."""
        for kind, value in identities:
            person = self._of.get(f"{kind}\x1f{value}")
            if person is not None:
                return self.find(person)
        return None


class Matcher:
    """Decides appeals one at a time, in arrival order, remembering each for the next."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        hasher: MinHasher | None = None,
        new_case_id: Callable[[], str] | None = None,
    ) -> None:
        self.t = thresholds or Thresholds()
        self.new_case_id = new_case_id or (lambda: str(uuid.uuid4()))
        self.known: dict[str, int] = {}  # appeal ids decided or replayed -> their row
        self.distinct: dict[str, set[str]] = {}  # pairs an auditor marked "not the same matter", both ways
        self.hasher = hasher or MinHasher()
        self.index = LshIndex()
        self.people = People()
        self.priors = Priors()
        self.person_rows = Chains()  # a person's rows
        self.clusters: dict[str, set[str]] = {}  # cluster id -> case ids
        self.cluster_of_case: dict[str, str] = {}
        self.case_rows = Chains()  # a case's rows, by the case's code in self.priors
        self._grams: OrderedDict[int, np.ndarray] = OrderedDict()  # priors' bigrams, most recent asked
        self.counts = GramCounts()  # how many appeals have each bigram: the weights of the text score
        self._newest = -(2**63)  # the latest arrival (microseconds): priors far older than it keep no text
        self._kept_micros = timedelta(days=self.t.window_days + FORGET_MARGIN_DAYS) // timedelta(microseconds=1)
        self._forgotten = 0  # rows before this one keep no text
        self._row_weight: dict[int, float] = {}  # priors' total weights, until the next refresh
        self._told: OrderedDict[int, _Told] = OrderedDict()  # priors' topics and openings, most recent asked
        self._probe: tuple[str, _Teller] | None = None  # the appeal being decided, as _score needs it
        self._case_channels: dict[str, tuple[int, frozenset[str]]] = {}  # case -> (its appeals seen, channels)

    def decide(self, probe: Probe) -> Decision:
        """The decision for a new appeal, which is then remembered."""
        person = self._person(probe)
        mine = self._bigrams(probe.text)
        w_each = self.counts.weights(mine)
        w_mine = total(w_each)
        signature = self.hasher.signature(shingle_hashes(probe.text, SHINGLE))
        best_merge: tuple[float, Prior, dict[str, Any]] | None = None
        best_link: tuple[float, Prior, dict[str, Any]] | None = None
        candidates = self._candidates(probe, person, signature)
        scored = [(p, *self._score(probe, mine, w_each, w_mine, p)) for p in candidates]
        if self.distinct:
            scored = self._respecting_distinct(person, scored)
        for prior, score, evidence in scored:
            place = evidence["place"]
            if self._same_person(person, prior):
                if (
                    score >= self.t.merge_score
                    and not place["conflict"]
                    and (best_merge is None or score > best_merge[0])
                ):
                    best_merge = (score, prior, evidence)
            elif score >= self.t.link_score and place["agrees"] and (best_link is None or score > best_link[0]):
                best_link = (score, prior, evidence)
        decision = self._choose(probe, person, best_merge, best_link)
        self._remember(probe, person, mine, signature, decision)
        return decision

    def replay(self, probe: Probe, case_id: str, cluster_id: str | None) -> None:
        """Remember an appeal decided before (by this process or another instance), as its case stands now."""
        self.replay_many([(probe, case_id, cluster_id)])

    def replay_many(self, appeals: Iterable[tuple[Probe, str, str | None]]) -> None:
        """Remember appeals decided before, in order, as `replay` one by one would: (probe, case, cluster) each.

        A rebuild's pace: signatures, bigram counts and index entries are computed for all of them at once.
        """
        todo: list[tuple[Probe, str, str | None]] = []
        taken: set[str] = set()
        for probe, case_id, cluster_id in appeals:
            if probe.id not in self.known and probe.id not in taken:
                taken.add(probe.id)
                todo.append((probe, case_id, cluster_id))
        if not todo:
            return
        texts = [probe.text for probe, _, _ in todo]
        grams, offsets = shingle_hashes_many(texts, VERIFY_GRAM)
        self._count_documents(grams, offsets)
        rows = []
        for probe, case_id, cluster_id in todo:
            person = self._person(probe)
            rows.append(
                self._keep(probe, person, Decision(probe.id, "replayed", case_id, False, cluster_id, None))
            )
        days = [_day(probe.received_at) for probe, _, _ in todo]
        self.index.add_many(np.array(rows), self.hasher.signatures(texts, SHINGLE), np.array(days))

    def move(self, appeal_id: str, case_id: str, cluster_id: str | None) -> None:
        """An auditor moved an appeal (unmerged it, merged its case into another): remember it where it is now."""
        row = self.known.get(appeal_id)
        if row is None:
            return
        old_case = self.priors.case_id(row)
        if old_case != case_id:
            self.case_rows.remove(self.priors.case_code(row), row)
            self.priors.set_case(row, case_id)
            self.case_rows.append(self.priors.case_code(row), row)
            for changed in (old_case, case_id):  # their channels are counted again when next asked
                self._case_channels.pop(changed, None)
        if self.cluster_of_case.get(case_id) != cluster_id:
            old = self.cluster_of_case.pop(case_id, None)
            if old is not None:
                self.clusters[old].discard(case_id)
            if cluster_id is not None:
                self.clusters.setdefault(cluster_id, set()).add(case_id)
                self.cluster_of_case[case_id] = cluster_id
        for r in self._rows_of_case(case_id):
            self.priors.set_cluster(r, cluster_id)

    def forbid(self, a: str, b: str) -> None:
        """An auditor marked two appeals "not the same matter": no appeal is merged or linked into the case of
        one of them on the strength of the other (nor of an appeal that matches the other as well)."""
        self.distinct.setdefault(a, set()).add(b)
        self.distinct.setdefault(b, set()).add(a)

    def citizens(self, cluster_id: str, since: datetime, enough: int | None = None) -> int:
        """How many different identified persons appealed about a cluster's matter since a moment (counting
        stops at `enough`)."""
        persons, priors, since_us = set(), self.priors, micros(since)
        for case_id in self.clusters.get(cluster_id, ()):
            for r in self._rows_of_case(case_id):
                person = priors.person(r)
                if person is not None and priors.micros(r) >= since_us:
                    persons.add(self.people.find(person))
                    if enough is not None and len(persons) >= enough:
                        return len(persons)
        return len(persons)

    def _respecting_distinct(
        self, person: int | None, scored: list[tuple[Prior, float, dict[str, Any]]]
    ) -> list[tuple[Prior, float, dict[str, Any]]]:
        """The candidates without the cases an auditor's marks bar: going from the best match down, each
        matching candidate bars the cases of the appeals marked distinct from it (the new appeal is its matter,
        so not theirs); a candidate in a case already barred bars nothing."""
        matching = sorted(
            (
                (score, p)
                for p, score, _ in scored
                if score >= (self.t.merge_score if self._same_person(person, p) else self.t.link_score)
            ),
            key=lambda m: -m[0],
        )
        barred: set[str] = set()
        for _, p in matching:
            if p.case_id in barred:
                continue
            for other in self.distinct.get(p.id, ()):
                row = self.known.get(other)
                if row is not None and self.priors.case_id(row) != p.case_id:
                    barred.add(self.priors.case_id(row))
        return [c for c in scored if c[0].case_id not in barred] if barred else scored

    def _person(self, probe: Probe) -> int | None:
        person = self.people.resolve(probe.identities)
        for absorbed, into in self.people.joined:  # two persons became one: so do their appeals
            self.person_rows.merge(into, absorbed)
        self.people.joined.clear()
        return person

    def _same_person(self, person: int | None, prior: Prior) -> bool:
        return person is not None and prior.person is not None and self.people.find(prior.person) == person

    def _choose(self, probe: Probe, person: int | None, merge: Any, link: Any) -> Decision:
        for chosen in (merge, link):
            if chosen is not None:  # the excerpt only for the evidence that decided: it is the slow part
                chosen[2]["text"]["excerpt"] = _excerpt(probe.text, chosen[1].text)
        if merge is not None:
            score, prior, evidence = merge
            quick = probe.received_at - prior.received_at <= timedelta(minutes=self.t.absorb_minutes)
            absorb = quick and prior.channel == probe.channel and score >= self.t.absorb_score
            kind = "absorb" if absorb else "merge"
            return Decision(
                probe.id,
                kind,
                prior.case_id,
                False,
                prior.cluster_id,
                round(score, 4),
                evidence,
                rule_version=self.t.version,
            )
        case_id = self.new_case_id()
        if link is not None:
            score, prior, evidence = link
            joined: tuple[str, ...] = ()
            cluster = prior.cluster_id
            if cluster is None:
                cluster = str(uuid.uuid4())
                joined = (prior.case_id,)
            return Decision(
                probe.id,
                "link",
                case_id,
                True,
                cluster,
                round(score, 4),
                evidence,
                rule_version=self.t.version,
                joined_cluster=joined,
            )
        return Decision(
            probe.id,
            "new",
            case_id,
            True,
            None,
            None,
            {"reason": "no matching appeal"},
            rule_version=self.t.version,
        )

    def _candidates(self, probe: Probe, person: int | None, signature: np.ndarray) -> list[Prior]:
        since = probe.received_at - timedelta(days=self.t.window_days)
        rows: dict[int, float] = {}
        found = self.index.candidates(signature, since_day=_day(since))
        if len(found):
            estimates = self.index.estimate(found, signature)
            best = sorted(zip(estimates.tolist(), found.tolist(), strict=True), reverse=True)
            for est, row in best[: self.t.max_text_candidates]:
                if est >= self.t.candidate_floor:
                    rows[row] = est
        if person is not None:
            for row in self.person_rows.rows(person, most=self.t.max_candidates):
                rows.setdefault(row, 1.0)
        ranked = sorted(rows, key=lambda r: -rows[r])[: self.t.max_candidates]
        since_us = micros(since)
        return [self.priors[r] for r in ranked if self.priors.micros(r) >= since_us]

    def _score(
        self, probe: Probe, mine: np.ndarray, w_each: np.ndarray, w_mine: float, prior: Prior
    ) -> tuple[float, dict[str, Any]]:
        theirs = self._bigrams(prior.text, prior.row)
        n_shared, common = shared(mine, w_each, theirs)
        w_theirs = self._total_weight(theirs, prior.row)
        if n_shared < NEGLIGIBLE * min(len(mine), len(theirs)):
            common = 0.0  # too little in common to be the same matter, however rare the words
        jaccard = common / ((w_mine + w_theirs - common) or 1.0)
        short = min(len(mine), len(theirs)) < self.t.short_text
        containment = 0.0 if short else common / (min(w_mine, w_theirs) or 1.0)
        score = max(jaccard, containment * self.t.containment_weight)
        place = _place(probe, prior)
        evidence = {
            "candidate": prior.id,
            "text": {"jaccard": round(jaccard, 4), "containment": round(containment, 4)},
            "place": place,
            "hours_apart": round((probe.received_at - prior.received_at).total_seconds() / 3600, 2),
            "channels": [prior.channel, probe.channel],
        }
        teller = self._teller(probe)
        if self._same_person(teller.person, prior) and score < self.t.absorb_score:  # the same text is enough
            score = self._same_persons_matter(probe, teller, prior, score, evidence)
        elif place["agrees"] and score >= self.t.link_score:  # (below it, no link: the names need not be read)
            mine_named, theirs_named = teller.told.names, self._told_of(prior.text, prior.row).names
            if names_differ(mine_named, theirs_named):
                place["agrees"] = False  # look-alike texts about two estates, shops or bus lines
                place["names_differ"] = True
            elif not (
                place["same"]
                or place["division_code"][0] == place["division_code"][1] is not None
                or names_share(mine_named, theirs_named)
            ):  # nothing says where they are: a lift, a 25栋, anywhere
                place["agrees"] = False
                place["unknown"] = True
        return score, evidence

    def _teller(self, probe: Probe) -> _Teller:
        """Who tells the appeal being decided and what it names (computed once per appeal)."""
        if self._probe is None or self._probe[0] != probe.id:
            person = self.people.known(probe.identities)
            follow_up = len(probe.text) <= self.t.follow_up_chars and bool(
                _FOLLOW_UP.match(probe.text) or _STILL.search(probe.text)
            )
            self._probe = (probe.id, _Teller(person, self._told_of(probe.text), follow_up))
        return self._probe[1]

    def _same_persons_matter(
        self, probe: Probe, teller: _Teller, prior: Prior, text_score: float, evidence: dict[str, Any]
    ) -> float:
        """The text score of one person's two appeals, raised or lowered by what else tells their matter.

        A person tells one matter on another channel in that channel's words (a long board post, a short WeChat
        message, an operator's summary): few words are shared, but the object is the same (下水道堵了 and
        污水井冒水 are both drainage). Two matters of one person, even at one building, name different objects.
        A short addition that begins 补充 or 还有 is about the person's latest appeal.
        """
        mine, theirs = teller.told, self._told_of(prior.text, prior.row)
        agreement = topic_agreement(mine.topics, theirs.topics)
        adjust = 0.0
        if agreement is not None and agreement >= self.t.topic_agrees:
            if self._told_elsewhere(probe.channel, prior.case_id):
                adjust += self.t.same_topic_bonus
        elif agreement is not None and agreement < self.t.topic_differs:
            adjust -= self.t.other_topic_penalty
        follow_up = (
            teller.follow_up
            and self.person_rows.last(teller.person) == prior.row
            and probe.received_at - prior.received_at <= timedelta(hours=self.t.follow_up_hours)
        )
        if follow_up:
            adjust += self.t.merge_score
        if evidence["place"]["same"] and (agreement is None or agreement >= self.t.topic_agrees):
            adjust += self.t.merge_score - self.t.merge_score_same_place
        opening = self._containment(mine.opening, theirs.opening)
        if opening >= self.t.opening_agrees and (agreement is None or agreement >= self.t.topic_differs):
            adjust += self.t.same_opening_bonus
        score = text_score + adjust
        if adjust > 0:  # raised to a merge, never to an absorb: that takes the same text
            score = min(score, max(text_score, self.t.absorb_score - 0.01))
        evidence["matter"] = {
            "topics": [sorted(theirs.topics), sorted(mine.topics)],
            "agreement": None if agreement is None else round(agreement, 4),
            "opening": round(opening, 4),
            "follow_up": follow_up,
            "adjustment": round(adjust, 4),
        }
        return max(0.0, min(1.0, score))

    def _rows_of_case(self, case_id: str) -> list[int]:
        return self.case_rows.rows(self.priors.code_of_case(case_id))

    def _told_elsewhere(self, channel: str, case_id: str) -> bool:
        """Whether a case was told only on other channels: on this one it would have been told in these words."""
        rows = self._rows_of_case(case_id)
        seen, channels = self._case_channels.get(case_id, (0, frozenset()))
        if seen < len(rows):  # the case grew since: add the channels of its new appeals
            channels = channels | {self.priors.channel(r) for r in rows[seen:]}
            self._case_channels[case_id] = (len(rows), channels)
        return channel not in channels

    def _told_of(self, text: str, row: int | None = None) -> _Told:
        """What a text names and how it opens (a prior's kept for the most recent 50,000 asked for)."""
        found = self._told.get(row) if row is not None else None
        if found is not None:
            self._told.move_to_end(row)  # type: ignore[arg-type]
            return found
        opening = shingle_hashes(text[: self.t.opening_chars], VERIFY_GRAM)
        found = _Told(topics(text), opening, names(text))
        if row is not None:
            self._told[row] = found
            if len(self._told) > 50_000:
                self._told.popitem(last=False)
        return found

    def _containment(self, a: np.ndarray, b: np.ndarray) -> float:
        """The weighted share of the smaller set of bigrams that the other has too."""
        w_a = self.counts.weights(a)
        n, common = shared(a, w_a, b)
        if not n:
            return 0.0
        return common / (min(total(w_a), total(self.counts.weights(b))) or 1.0)

    def _total_weight(self, grams: np.ndarray, row: int) -> float:
        """The weight of a prior's bigrams (kept until the weights are refreshed)."""
        found = self._row_weight.get(row)
        if found is None:
            found = self._row_weight[row] = total(self.counts.weights(grams))
        return found

    @property
    def documents(self) -> int:
        """Appeals counted (decided or replayed)."""
        return self.counts.documents

    def _remember(
        self, probe: Probe, person: int | None, grams: np.ndarray, signature: np.ndarray, d: Decision
    ) -> None:
        self.counts.add(grams, 1)
        if _refreshes(self.counts.documents):
            self._refresh()
        row = self._keep(probe, person, d)
        self.index.add(row, signature, _day(probe.received_at))

    def _count_documents(self, grams: np.ndarray, offsets: np.ndarray) -> None:
        """Count the bigrams of many texts (each text's distinct bigrams, concatenated at `offsets`), as many
        `_remember`s would: up to the last refresh point among them, then the rest."""
        d0, m = self.counts.documents, len(offsets) - 1
        points = [n for n in range(d0 + 1, d0 + m + 1) if _refreshes(n)]
        split = points[-1] - d0 if points else 0
        if split:
            self.counts.add(grams[offsets[0] : offsets[split]], split)
            self._refresh()
        self.counts.add(grams[offsets[split] : offsets[m]], m - split)

    def _refresh(self) -> None:
        """The weights follow the counts as they are now."""
        self.counts.refresh()
        self._row_weight.clear()

    def _keep(self, probe: Probe, person: int | None, d: Decision) -> int:
        """Keep an appeal as a prior (its case, person and cluster); its row."""
        row = self.known[probe.id] = self.priors.append(
            probe.id,
            d.case_id,
            person,
            probe.channel,
            probe.received_at,
            probe.text,
            probe.division_code,
            probe.township,
            probe.address,
            d.cluster_id,
        )
        self._forget_old_texts(self.priors.micros(row), row)
        self.case_rows.append(self.priors.case_code(row), row)
        if person is not None:
            self.person_rows.append(person, row)
        if d.cluster_id is not None:
            members = self.clusters.setdefault(d.cluster_id, set())
            for case_id in (d.case_id, *d.joined_cluster):
                members.add(case_id)
                self.cluster_of_case[case_id] = d.cluster_id
                for r in self._rows_of_case(case_id):
                    self.priors.set_cluster(r, d.cluster_id)
        return row

    def _forget_old_texts(self, at: int, row: int) -> None:
        """Drop the text and address of priors that fell out of the window (and a margin, for appeals that
        arrive a little late): only appeals in the window are ever scored, and text is most of a prior's memory.
        Rows are dropped in arrival order, up to the first one still in the window (`at`: the new row's time
        of receipt, in microseconds)."""
        if at <= self._newest:
            return  # no later than the latest arrival: the cutoff has not moved
        self._newest = at
        cutoff = at - self._kept_micros
        priors, n = self.priors, self._forgotten
        while n < row and priors.micros(n) < cutoff:
            priors.forget(n)
            n += 1
        self._forgotten = n

    def _bigrams(self, text: str, row: int | None = None) -> np.ndarray:
        """A text's distinct bigram hashes, sorted (a prior's kept for the most recent 50,000 asked for)."""
        if row is not None:
            found = self._grams.get(row)
            if found is not None:
                self._grams.move_to_end(row)
                return found
        value = shingle_hashes(text, VERIFY_GRAM)
        if row is not None:
            self._grams[row] = value
            if len(self._grams) > 50_000:
                self._grams.popitem(last=False)
        return value


@dataclass(frozen=True, slots=True)
class _Told:
    """What an appeal is about (its topics), the bigrams of its opening (a title, the first words) and the
    estates, businesses, bus lines and plates it names."""

    topics: Counter[str]
    opening: np.ndarray  # its bigrams, as _bigrams
    names: dict[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class _Teller:
    """The appeal being decided: its person, what it tells, whether it is a short addition (补充…)."""

    person: int | None
    told: _Told
    follow_up: bool


# A short message that adds to one's own appeal: 补充一下，…; 还有，…; 另外：…; 就是…那几盏
_FOLLOW_UP = re.compile(r"^\s*(?:再?补充|追加|就是|(?:还有|另外)\s*[,，:：])")
# ... or that says the matter is still there, or back again: 还是没修好, 还在冒, 今晚又开始了
_STILL = re.compile(r"还是|还在|还没|仍然|依然|又|到现在")


def _refreshes(n: int) -> bool:
    """Whether the weights are refreshed once n appeals are counted: often while few, then every epoch."""
    return n & (n - 1) == 0 or n % WEIGHT_EPOCH == 0


def _day(t: datetime) -> int:
    return int(t.timestamp() // 86400)


def _place(probe: Probe, prior: Prior) -> dict[str, Any]:
    """Whether the two appeals are at the same place: conflict (both known, different), same (the same address
    or township), agrees (nothing differs and something matches, or nothing is known of either)."""
    division_conflict = (
        bool(probe.division_code and prior.division_code) and probe.division_code != prior.division_code
    )
    township_conflict = bool(probe.township and prior.township) and probe.township != prior.township
    same_address, address_conflict = _addresses(probe.address, prior.address)
    same = same_address or bool(probe.township and probe.township == prior.township)
    matches = same or bool(probe.division_code and probe.division_code == prior.division_code)
    unknown = not (probe.division_code or probe.township or probe.address) or not (
        prior.division_code or prior.township or prior.address
    )
    conflict = division_conflict or township_conflict or address_conflict
    return {
        "conflict": conflict,
        "same": same and not conflict,
        "agrees": not conflict and (matches or unknown),
        "division_code": [prior.division_code, probe.division_code],
        "address": [prior.address, probe.address],
    }


def _addresses(a: str | None, b: str | None) -> tuple[bool, bool]:
    """(the same place, different places) for two addresses; both False when either is unknown.

    One containing the other is the same place (景蓉华苑 in 章贡区解放街道景蓉华苑). Otherwise what tells two
    addresses apart is what is left once their common beginning and end are cut off: 时代阳光大道银行门口 and
    星沙大道银行门口 leave 时代阳光 and 星沙, which share nothing — two places; 柏林雅居门口 and
    芙蓉中路柏林雅居附近 share most of the shorter one's bigrams — one place. Both are first cut to the place
    itself (A8县枫林街道芙蓉佳园二期 to 芙蓉佳园二期, 书香苑13栋4单元402 to 书香苑 in its 13栋), and differ when
    they name two counties or townships, or two buildings of one place.
    """
    if not a or not b:
        return False, False
    if a in b or b in a:
        return True, False
    pa, pb = _parsed(a), _parsed(b)
    if divisions_differ(pa, pb):
        return False, True
    a, b = pa.core, pb.core
    if a in b or b in a:  # one place; in two buildings of it if both name one and neither contains the other
        other_building = pa.unit and pb.unit and not (pa.unit.startswith(pb.unit) or pb.unit.startswith(pa.unit))
        return not other_building, bool(other_building)
    start, end = _common_prefix(a, b), _common_prefix(a[::-1], b[::-1])
    ra, rb = a[start : len(a) - end or None], b[start : len(b) - end or None]
    if not ra or not rb:
        return True, False
    if min(len(ra), len(rb)) < 2:
        shared = bool(set(ra) & set(rb))
    else:
        grams_a, grams_b = ({r[i : i + 2] for i in range(len(r) - 1)} for r in (ra, rb))
        shared = len(grams_a & grams_b) / min(len(grams_a), len(grams_b)) >= 0.5
    return shared, not shared


@functools.lru_cache(maxsize=65536)
def _parsed(address: str) -> Address:
    return parse_address(address)


def _common_prefix(a: str, b: str) -> int:
    """How many leading characters two texts share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _excerpt(a: str, b: str, limit: int = 40) -> str:
    """The longest stretch of text the two share (the evidence an auditor reads first)."""
    a, b = a[:EXCERPT_SPAN], b[:EXCERPT_SPAN]  # the opening, where a title and its matter are
    m = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[m.a : m.a + min(m.size, limit)]
