#!/usr/bin/env python3
"""Merge and hot-issue quality of the dedup batch interface on the labelled corpus (issue #5).

    .venv/bin/python bench/dedup_quality.py                                  # default corpus, gateway.py dedup
    .venv/bin/python bench/dedup_quality.py --corpus var/dedup-corpus --size 10000 --seed 7
    .venv/bin/python bench/dedup_quality.py --corpus DIR --assignments out.jsonl     # score an existing output
    .venv/bin/python bench/dedup_quality.py --command "python mine.py --in {input} --out {output}"

Runs `python gateway.py dedup --input appeals.jsonl --output assignments.jsonl` as a subprocess (or --command,
with {input} and {output} in it) on the corpus of bench/dedup_corpus.py, built into --corpus if that folder
has none yet (a temporary folder without --corpus), and prints:
  merges           precision, recall and F1 over pairs of appeals put in the same case (`case_id`); a pair is
                   correct when both appeals have the same person and the same matter in labels.jsonl.
                   Targets: precision >= 0.99, recall >= 0.95.
  hot-issue links  the same over pairs of appeals in the same cluster but different cases; a pair is correct
                   when both have the same matter and different persons. An appeal's cluster is its own
                   `cluster_id`, or else the last one named by an appeal of its case (a case joins a cluster
                   when a later appeal links to it).
  decisions        counts of each decision against the expected one, and per scenario.
  false merges     the worst few (another citizen's appeal in a case first, then the most confident), phones
                   and ID numbers masked; and a few missed merges.
With no predicted pair a precision is 1 (nothing wrong was claimed); with no true pair a recall is 1.
--check makes the exit status 1 when a merge target is missed or the output is incomplete.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dedup_corpus import DECISIONS, TEDDY_DIR, build_corpus, summary
from core.masking import mask_openid, mask_phone, mask_text

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = f"{shlex.quote(sys.executable)} gateway.py dedup --input {{input}} --output {{output}}"
MERGE_PRECISION_TARGET = 0.99
MERGE_RECALL_TARGET = 0.95
MISSING = "missing"  # the decision column of an appeal the output has no line for
# (another person, another matter) -> what a false merge did; both false cannot be a false merge
WHY = {
    (True, True): "another citizen and matter",
    (True, False): "another citizen",
    (False, True): "another matter",
}
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PairScore:
    """Pairs predicted, pairs that should be, and pairs both."""

    predicted: int
    true: int
    correct: int

    @property
    def precision(self) -> float:
        """Correct share of predicted pairs (1 when none was predicted)."""
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Found share of true pairs (1 when there is none)."""
        return self.correct / self.true if self.true else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Example:
    """One appeal in the wrong place, beside the appeal of the place it should (or should not) share."""

    appeal: str
    case: str
    decision: str
    score: float | None
    scenario: str
    other: str  # the appeal it was (or should have been) put with
    why: str  # "another citizen", "another matter", "another citizen and matter", "split"
    lines: tuple[str, str]  # the two appeals as shown: channel, masked identity, masked excerpt


@dataclass
class Report:
    """What the scorer found."""

    appeals: int
    merge: PairScore
    link: PairScore
    decisions: Counter[tuple[str, str]]
    scenarios: dict[str, tuple[int, int]]  # scenario -> (appeals, decided as expected)
    false_merges: list[Example] = field(default_factory=list)
    false_merge_count: int = 0
    missed_merges: list[Example] = field(default_factory=list)
    missed_merge_count: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def targets_met(self) -> bool:
        """Merge precision and recall at their targets, and every appeal assigned."""
        return (
            self.merge.precision >= MERGE_PRECISION_TARGET
            and self.merge.recall >= MERGE_RECALL_TARGET
            and not self.problems
        )

    def as_json(self) -> dict[str, object]:
        """The report as plain JSON values."""
        out = asdict(self)
        for name in ("merge", "link"):
            score: PairScore = getattr(self, name)
            out[name] |= {"precision": score.precision, "recall": score.recall, "f1": score.f1}
        out["decisions"] = [
            {"expected": e, "decision": d, "count": n} for (e, d), n in sorted(self.decisions.items())
        ]
        out["targets_met"] = self.targets_met
        return out


def read_jsonl(path: Path) -> list[dict]:
    """One JSON object a line (blank lines skipped)."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def pair_count(keys: Iterable[Hashable]) -> int:
    """How many pairs share a key."""
    return sum(n * (n - 1) // 2 for n in Counter(keys).values())


def score(
    labels: Sequence[dict],
    assignments: Sequence[dict],
    appeals: Sequence[dict] | None = None,
    examples: int = 5,
) -> Report:
    """Score assignments (the batch output) against labels (and show examples from the appeals)."""
    problems: list[str] = []
    by_id: dict[str, dict] = {}
    for n, line in enumerate(assignments, 1):
        if not isinstance(line, dict) or "id" not in line or "case_id" not in line:
            problems.append(f"output line {n}: no id or no case_id")
            continue
        key = str(line["id"])
        if key in by_id:
            problems.append(f"output line {n}: appeal {key} assigned twice (the first one counts)")
            continue
        by_id[key] = line
    ids = [str(label["id"]) for label in labels]
    known = set(ids)
    unknown = [k for k in by_id if k not in known]
    if unknown:
        problems.append(f"{len(unknown)} output lines for appeals not in the corpus, e.g. {unknown[0]}")
    missing = [k for k in ids if k not in by_id]
    if missing:
        problems.append(
            f"{len(missing)} appeals have no output line, e.g. {missing[0]} (each counted as its own case)"
        )

    case = [f"case:{by_id[k]['case_id']}" if k in by_id else f"missing:{k}" for k in ids]
    decision = [str(by_id[k].get("decision")) if k in by_id else MISSING for k in ids]
    odd = sorted({d for d in decision if d not in DECISIONS and d != MISSING})
    if odd:
        problems.append(f"decisions outside {'|'.join(DECISIONS)}: {', '.join(odd)}")
    person = [str(label["person"]) for label in labels]
    matter = [str(label["matter"]) for label in labels]
    truth = list(zip(person, matter, strict=True))

    merge = PairScore(
        predicted=pair_count(case),
        true=pair_count(truth),
        correct=pair_count(zip(case, person, matter, strict=True)),
    )
    link = link_score(ids, by_id, case, person, matter)
    decisions = Counter(zip((str(label["expected"]) for label in labels), decision, strict=True))
    scenarios: dict[str, tuple[int, int]] = {}
    for label, decided in zip(labels, decision, strict=True):
        n, agree = scenarios.get(label.get("scenario", "-"), (0, 0))
        scenarios[label.get("scenario", "-")] = (n + 1, agree + (decided == label["expected"]))

    shown = Shown(ids, labels, by_id, appeals)
    false_merges, missed = wrong_places(ids, case, truth, shown)
    false_merges.sort(
        key=lambda e: (e.why == "another matter", -(e.score if e.score is not None else -1.0), e.appeal)
    )
    return Report(
        appeals=len(labels),
        merge=merge,
        link=link,
        decisions=decisions,
        scenarios=dict(sorted(scenarios.items())),
        false_merges=false_merges[:examples],
        false_merge_count=len(false_merges),
        missed_merges=missed[:examples],
        missed_merge_count=len(missed),
        problems=problems,
    )


def link_score(
    ids: Sequence[str], by_id: dict[str, dict], case: Sequence[str], person: Sequence[str], matter: Sequence[str]
) -> PairScore:
    """Pairs in one cluster and different cases, against pairs of one matter and different persons."""
    case_cluster: dict[str, str] = {}
    for k, c in zip(ids, case, strict=True):
        if k in by_id and by_id[k].get("cluster_id") is not None:
            case_cluster[c] = str(by_id[k]["cluster_id"])
    cluster = [
        str(by_id[k]["cluster_id"])
        if k in by_id and by_id[k].get("cluster_id") is not None
        else case_cluster.get(c)
        for k, c in zip(ids, case, strict=True)
    ]
    rows = [(cl, c, p, m) for cl, c, p, m in zip(cluster, case, person, matter, strict=True) if cl is not None]
    same_matter = pair_count((cl, m) for cl, _, _, m in rows)
    return PairScore(
        predicted=pair_count(cl for cl, _, _, _ in rows) - pair_count((cl, c) for cl, c, _, _ in rows),
        true=pair_count(matter) - pair_count(zip(matter, person, strict=True)),
        correct=same_matter
        - pair_count((cl, m, c) for cl, c, _, m in rows)
        - pair_count((cl, m, p) for cl, _, p, m in rows)
        + pair_count((cl, m, c, p) for cl, c, p, m in rows),
    )


class Shown:
    """How an appeal is shown in an example: no phone, ID number or openid in clear."""

    def __init__(
        self, ids: Sequence[str], labels: Sequence[dict], by_id: dict[str, dict], appeals: Sequence[dict] | None
    ) -> None:
        self.ids = ids
        self.labels = labels
        self.by_id = by_id
        self.appeals = {str(a["id"]): a for a in appeals or ()}

    def example(self, i: int, other: int, why: str) -> Example:
        """Appeal i, put with (or kept from) appeal `other`."""
        line = self.by_id.get(self.ids[i], {})
        raw_score = line.get("score")
        return Example(
            appeal=self.ids[i],
            case=str(line.get("case_id", "-")),
            decision=str(line.get("decision", MISSING)),
            score=float(raw_score) if isinstance(raw_score, int | float) else None,
            scenario=str(self.labels[i].get("scenario", "-")),
            other=self.ids[other],
            why=why,
            lines=(self.line(i), self.line(other)),
        )

    def line(self, i: int) -> str:
        """id, channel, masked identity and the first words, masked."""
        appeal = self.appeals.get(self.ids[i])
        if appeal is None:
            return self.ids[i]
        citizen = appeal.get("citizen") or {}
        who = (
            mask_phone(citizen.get("phone"))
            or (citizen.get("openid") and f"openid {mask_openid(citizen['openid'])}")
            or (citizen.get("user") and f"user {citizen['user']}")
            or "anonymous"
        )
        text = " / ".join(str(appeal.get(k) or "") for k in ("title", "content") if appeal.get(k))
        excerpt = mask_text(" ".join(text.split()))[:70]
        return f"{self.ids[i]} [{appeal.get('channel')}, {who}] {excerpt}"


def wrong_places(
    ids: Sequence[str], case: Sequence[str], truth: Sequence[tuple[str, str]], shown: Shown
) -> tuple[list[Example], list[Example]]:
    """Appeals in a case that belongs to another (person, matter), and appeals kept out of their own."""
    members: dict[str, list[int]] = {}
    for i, c in enumerate(case):
        members.setdefault(c, []).append(i)
    false_merges = []
    for rows in members.values():
        own = main_key([truth[i] for i in rows])
        anchor = next(i for i in rows if truth[i] == own)
        for i in rows:
            if truth[i] != own:
                why = WHY[(truth[i][0] != own[0], truth[i][1] != own[1])]
                false_merges.append(shown.example(i, anchor, why))
    groups: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(truth):
        groups.setdefault(key, []).append(i)
    missed = []
    for rows in groups.values():
        home = main_key([case[i] for i in rows])
        anchor = next(i for i in rows if case[i] == home)
        missed += [shown.example(i, anchor, "split") for i in rows if case[i] != home]
    return false_merges, missed


def main_key(keys: Sequence[K]) -> K:
    """The most frequent key; on a tie, the one seen first."""
    counts = Counter(keys)
    top = max(counts.values())
    return next(k for k in keys if counts[k] == top)


def render(report: Report, header: str = "") -> str:
    """The report as text, targets beside the figures."""

    def tick(ok: bool) -> str:
        return "met" if ok else "MISSED"

    def row(name: str, s: PairScore) -> str:
        figures = f"{s.precision:>10.4f}{s.recall:>8.4f}{s.f1:>7.4f}"
        return f"{name:18}{figures}   {'':7}{s.predicted:>9}{s.true:>8}{s.correct:>9}"

    m = report.merge
    out = [header] if header else []
    out += [
        f"{'':18}{'precision':>10}{'recall':>8}{'F1':>7}   pairs: {'predicted':>9}{'true':>8}{'correct':>9}",
        row("merges", m),
        f"{'':18}target: precision >= {MERGE_PRECISION_TARGET} ({tick(m.precision >= MERGE_PRECISION_TARGET)}), "
        f"recall >= {MERGE_RECALL_TARGET} ({tick(m.recall >= MERGE_RECALL_TARGET)})",
        row("hot-issue links", report.link),
        "",
        "decisions (rows: expected, columns: decided)",
    ]
    columns = [*DECISIONS, *sorted({d for _, d in report.decisions if d not in DECISIONS})]
    out.append(f"{'':10}" + "".join(f"{c:>9}" for c in columns))
    for e in DECISIONS:
        out.append(f"{e:10}" + "".join(f"{report.decisions.get((e, d), 0):>9}" for d in columns))
    out += ["", f"{'scenario':20}{'appeals':>8}{'as expected':>13}"]
    for name, (n, agree) in report.scenarios.items():
        out.append(f"{name:20}{n:>8}{agree / n:>13.1%}")
    for title, shown, count in (
        ("worst false merges", report.false_merges, report.false_merge_count),
        ("missed merges", report.missed_merges, report.missed_merge_count),
    ):
        out += ["", f"{title}: {count} appeals" + (f", the first {len(shown)}:" if shown else "")]
        for ex in shown:
            s = "-" if ex.score is None else f"{ex.score:.3f}"
            out.append(f"  {ex.appeal} ({ex.decision}, score {s}, case {ex.case}, {ex.scenario}): {ex.why}")
            out += [f"    {line}" for line in ex.lines]
    if report.problems:
        out += ["", "problems with the output:"] + [f"  {p}" for p in report.problems]
    return "\n".join(out)


def run_batch(command: str, appeals: Path, output: Path) -> float:
    """Run the batch command on the appeals; the seconds it took. Exits with status 2 if the command fails."""
    argv = [part.format(input=appeals, output=output) for part in shlex.split(command)]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        print(
            f"the batch command failed (exit status {done.returncode}): {' '.join(argv)}\n{tail}", file=sys.stderr
        )
        raise SystemExit(2)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    """Build or read the corpus, run or read the assignments, print the report."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--corpus", type=Path, help="folder with appeals.jsonl and labels.jsonl (built there if absent)"
    )
    p.add_argument("--size", type=int, default=3000, help="appeals in a corpus built here (default 3000)")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--teddy", type=Path, default=TEDDY_DIR, help="the Teddy data folder for a corpus built here")
    p.add_argument("--assignments", type=Path, help="score this batch output instead of running the command")
    p.add_argument(
        "--command", default=GATEWAY, help="batch command with {input} and {output} (default: gateway.py dedup)"
    )
    p.add_argument("--examples", type=int, default=5, help="false and missed merges to show (default 5)")
    p.add_argument("--json", type=Path, help="also write the report as JSON here")
    p.add_argument("--check", action="store_true", help="exit status 1 when a merge target is missed")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="dedup-quality-") as scratch:
        folder = args.corpus or Path(scratch)
        if not (folder / "appeals.jsonl").is_file() or not (folder / "labels.jsonl").is_file():
            corpus = build_corpus(args.seed, args.size, args.teddy)
            corpus.write(folder)
            print(summary(corpus), file=sys.stderr)
        appeals_path = folder / "appeals.jsonl"
        appeals = read_jsonl(appeals_path)
        if args.assignments:
            output, ran = args.assignments, f"assignments from {args.assignments}"
        else:
            output = folder / "assignments.jsonl"
            seconds = run_batch(args.command, appeals_path, output)
            ran = f"batch run {seconds:.1f} s ({len(appeals) / seconds:,.0f} appeals/s)"
        report = score(read_jsonl(folder / "labels.jsonl"), read_jsonl(output), appeals, args.examples)
        print(render(report, f"dedup quality: {report.appeals} appeals from {appeals_path}; {ran}\n"))
        if args.json:
            args.json.write_text(json.dumps(report.as_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if args.check and not report.targets_met else 0


if __name__ == "__main__":
    sys.exit(main())
