"""bench/dedup_quality.py: pair precision and recall for merges and hot-issue links, on hand-written outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.dedup_quality import PairScore, score

ROOT = Path(__file__).resolve().parents[2]

# Two citizens about matter m1 (two appeals each: one case each, one hot issue), one citizen with two matters.
LABELS = [
    {"id": "a1", "person": "p1", "matter": "m1", "expected": "new", "scenario": "hot-issue"},
    {"id": "a2", "person": "p1", "matter": "m1", "expected": "merge", "scenario": "hot-issue"},
    {"id": "a3", "person": "p2", "matter": "m1", "expected": "link", "scenario": "hot-issue"},
    {"id": "a4", "person": "p2", "matter": "m1", "expected": "merge", "scenario": "hot-issue"},
    {"id": "a5", "person": "p3", "matter": "m2", "expected": "new", "scenario": "same-person-new"},
    {"id": "a6", "person": "p3", "matter": "m3", "expected": "new", "scenario": "same-person-new"},
]
TRUE_MERGE_PAIRS = 2  # a1-a2, a3-a4
TRUE_LINK_PAIRS = 4  # a1/a2 with a3/a4


def out(
    case: dict[str, str], cluster: dict[str, str] | None = None, decision: dict[str, str] | None = None
) -> list:
    """Batch output lines: case per appeal, cluster and decision where given."""
    cluster, decision = cluster or {}, decision or {}
    return [
        {
            "id": lab["id"],
            "case_id": case[lab["id"]],
            "cluster_id": cluster.get(lab["id"]),
            "decision": decision.get(lab["id"], lab["expected"]),
            "score": 0.5,
        }
        for lab in LABELS
    ]


PERFECT = out(
    {"a1": "c1", "a2": "c1", "a3": "c2", "a4": "c2", "a5": "c3", "a6": "c4"},
    dict.fromkeys(["a1", "a2", "a3", "a4"], "k"),
)


def test_a_perfect_output_scores_one_everywhere():
    report = score(LABELS, PERFECT)
    assert report.merge == PairScore(predicted=TRUE_MERGE_PAIRS, true=TRUE_MERGE_PAIRS, correct=TRUE_MERGE_PAIRS)
    assert report.link == PairScore(predicted=TRUE_LINK_PAIRS, true=TRUE_LINK_PAIRS, correct=TRUE_LINK_PAIRS)
    assert (report.merge.f1, report.link.f1) == (1.0, 1.0)
    assert report.targets_met and not report.problems


def test_singletons_claim_nothing_wrong_and_find_nothing():
    report = score(LABELS, out({x["id"]: x["id"] for x in LABELS}))
    assert report.merge == PairScore(predicted=0, true=TRUE_MERGE_PAIRS, correct=0)
    assert (report.merge.precision, report.merge.recall, report.merge.f1) == (1.0, 0.0, 0.0)
    assert (report.link.precision, report.link.recall) == (1.0, 0.0)
    assert not report.targets_met


def test_everything_in_one_case_finds_every_merge_at_the_cost_of_precision():
    report = score(LABELS, out(dict.fromkeys((x["id"] for x in LABELS), "c")))
    assert report.merge == PairScore(predicted=15, true=TRUE_MERGE_PAIRS, correct=TRUE_MERGE_PAIRS)
    assert report.merge.precision == pytest.approx(2 / 15) and report.merge.recall == 1.0
    assert report.link.predicted == 0  # one case holds no pair of different cases


def test_another_citizens_appeal_in_a_case_is_a_false_merge_and_its_own_pair_a_miss():
    report = score(LABELS, out({"a1": "c1", "a2": "c1", "a3": "c1", "a4": "c2", "a5": "c3", "a6": "c4"}))
    assert report.merge == PairScore(predicted=3, true=TRUE_MERGE_PAIRS, correct=1)
    assert report.merge.precision == pytest.approx(1 / 3) and report.merge.recall == 0.5
    assert report.merge.f1 == pytest.approx(0.4)
    [false] = report.false_merges
    assert (false.appeal, false.other, false.why) == ("a3", "a1", "another citizen")
    assert [(m.appeal, m.other) for m in report.missed_merges] == [("a4", "a3")]


def test_false_merges_of_another_citizen_come_before_those_of_another_matter():
    report = score(LABELS, out({"a1": "c1", "a2": "c1", "a3": "c1", "a4": "c3", "a5": "c4", "a6": "c4"}))
    assert [f.why for f in report.false_merges] == ["another citizen", "another matter"]


def test_the_case_a_later_appeal_linked_to_is_in_the_cluster_even_if_its_line_says_none():
    cluster = {"a2": "k", "a3": "k", "a4": "k"}  # a1 was written before anyone linked to its case
    report = score(LABELS, out({"a1": "c1", "a2": "c1", "a3": "c2", "a4": "c2", "a5": "c3", "a6": "c4"}, cluster))
    assert report.link == PairScore(predicted=TRUE_LINK_PAIRS, true=TRUE_LINK_PAIRS, correct=TRUE_LINK_PAIRS)


def test_an_unrelated_case_in_a_cluster_costs_link_precision():
    cluster = dict.fromkeys(["a1", "a2", "a3", "a4", "a5"], "k")
    report = score(LABELS, out({"a1": "c1", "a2": "c1", "a3": "c2", "a4": "c2", "a5": "c3", "a6": "c4"}, cluster))
    assert report.link == PairScore(predicted=8, true=TRUE_LINK_PAIRS, correct=TRUE_LINK_PAIRS)
    assert report.link.precision == 0.5


def test_a_pair_of_one_citizen_split_into_two_cases_of_a_cluster_is_no_link():
    cluster = dict.fromkeys(["a1", "a2", "a3", "a4"], "k")
    report = score(LABELS, out({"a1": "c1", "a2": "c5", "a3": "c2", "a4": "c2", "a5": "c3", "a6": "c4"}, cluster))
    assert report.link == PairScore(predicted=5, true=TRUE_LINK_PAIRS, correct=TRUE_LINK_PAIRS)


def test_an_appeal_without_an_output_line_is_its_own_case_and_a_problem():
    report = score(LABELS, [line for line in PERFECT if line["id"] != "a2"])
    assert report.merge == PairScore(predicted=1, true=TRUE_MERGE_PAIRS, correct=1)
    assert report.decisions[("merge", "missing")] == 1
    assert any("1 appeals have no output line" in p for p in report.problems)
    assert not report.targets_met


def test_duplicate_and_unknown_lines_and_odd_decisions_are_problems():
    lines = [*PERFECT, dict(PERFECT[0], case_id="elsewhere"), {"id": "zz", "case_id": "c9"}, {"case_id": "c9"}]
    lines[5] = dict(lines[5], decision="maybe")
    report = score(LABELS, lines)
    assert report.merge.precision == 1.0  # the first line for a1 counts
    assert len(report.problems) == 4
    assert any("twice" in p for p in report.problems) and any("not in the corpus" in p for p in report.problems)
    assert any("maybe" in p for p in report.problems) and any("no id" in p for p in report.problems)


def test_decisions_are_counted_against_the_expected_ones():
    report = score(
        LABELS, out({x["id"]: x["id"] for x in LABELS}, decision=dict.fromkeys(["a2", "a3", "a4"], "new"))
    )
    assert report.decisions[("merge", "new")] == 2 and report.decisions[("link", "new")] == 1
    assert report.decisions[("new", "new")] == 3
    assert report.scenarios == {"hot-issue": (4, 1), "same-person-new": (2, 2)}


def test_examples_show_phones_and_id_numbers_masked():
    appeals = [
        {
            "id": x["id"],
            "channel": "12319",
            "citizen": {"phone": f"+861381234567{n}"},
            "content": "来电 13912345678",
        }
        for n, x in enumerate(LABELS)
    ]
    report = score(LABELS, out({"a1": "c1", "a2": "c1", "a3": "c1", "a4": "c2", "a5": "c3", "a6": "c4"}), appeals)
    shown = " ".join(report.false_merges[0].lines)
    assert "+86138****5672" in shown and "139****5678" in shown
    assert "13812345672" not in shown and "13912345678" not in shown


def test_precision_recall_and_f1_follow_their_definitions():
    s = PairScore(predicted=4, true=2, correct=2)
    assert (s.precision, s.recall) == (0.5, 1.0) and s.f1 == pytest.approx(2 / 3)
    assert PairScore(predicted=3, true=3, correct=0).f1 == 0.0


def write_corpus(folder: Path, assignments: list[dict]) -> Path:
    """A tiny corpus folder and an output file beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    appeals = [
        {
            "id": x["id"],
            "channel": "wechat",
            "received_at": "2024-03-01T09:00:00+08:00",
            "citizen": {"openid": x["person"]},
        }
        for x in LABELS
    ]
    for name, rows in (("appeals.jsonl", appeals), ("labels.jsonl", LABELS), ("out.jsonl", assignments)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder / "out.jsonl"


def quality(*args: str) -> subprocess.CompletedProcess[str]:
    """bench/dedup_quality.py in its own process."""
    return subprocess.run(
        [sys.executable, "bench/dedup_quality.py", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_the_command_line_prints_the_figures_beside_the_targets(tmp_path):
    output = write_corpus(tmp_path, PERFECT)
    done = quality(
        "--corpus", str(tmp_path), "--assignments", str(output), "--check", "--json", str(tmp_path / "r.json")
    )
    assert done.returncode == 0, done.stderr
    assert "merges                1.0000  1.0000 1.0000" in done.stdout
    assert "precision >= 0.99 (met), recall >= 0.95 (met)" in done.stdout
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["merge"]["precision"] == 1.0


def test_check_fails_the_run_when_a_target_is_missed(tmp_path):
    output = write_corpus(tmp_path, out({x["id"]: x["id"] for x in LABELS}))
    done = quality("--corpus", str(tmp_path), "--assignments", str(output), "--check")
    assert done.returncode == 1
    assert "recall >= 0.95 (MISSED)" in done.stdout


def test_the_batch_command_runs_as_a_subprocess_on_the_corpus(tmp_path):
    write_corpus(tmp_path, [])
    script = tmp_path / "one_case_per_citizen.py"
    script.write_text(
        "import json, sys\n"
        "src, dst = sys.argv[sys.argv.index('--input') + 1], sys.argv[sys.argv.index('--output') + 1]\n"
        "rows = [json.loads(x) for x in open(src, encoding='utf-8')]\n"
        "with open(dst, 'w', encoding='utf-8') as f:\n"
        "    for r in rows:\n"
        "        f.write(json.dumps({'id': r['id'], 'case_id': r['citizen']['openid'], 'cluster_id': None,\n"
        "                            'decision': 'new', 'score': None}) + '\\n')\n",
        encoding="utf-8",
    )
    command = f"{sys.executable} {script} --input {{input}} --output {{output}}"
    done = quality("--corpus", str(tmp_path), "--command", command)
    assert done.returncode == 0, done.stderr
    assert "batch run" in done.stdout
    # one case per citizen merges p3's two matters: 3 pairs predicted, 2 of them right
    assert "merges                0.6667  1.0000 0.8000" in done.stdout
    assert (tmp_path / "assignments.jsonl").is_file()


def test_a_failing_batch_command_stops_the_bench_with_its_error(tmp_path):
    write_corpus(tmp_path, [])
    done = quality(
        "--corpus", str(tmp_path), "--command", f"{sys.executable} -c 'import sys; sys.exit(\"no dedup here\")'"
    )
    assert done.returncode == 2
    assert "no dedup here" in done.stderr
