"""`gateway.py dedup --input --output`: the matcher on a file, with no database and no config."""

from __future__ import annotations

import json

from gateway import main
from tests.dedup.test_matcher import BOARD, ME, OTHER, WECHAT, YOU, appeal


def run(tmp_path, appeals, raw_lines=()):
    src, out = tmp_path / "appeals.jsonl", tmp_path / "assignments.jsonl"
    lines = [json.dumps(a, ensure_ascii=False) for a in appeals] + list(raw_lines)
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = main(["dedup", "--input", str(src), "--output", str(out)])
    return status, [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()] if status == 0 else []


def test_each_appeal_gets_one_line_in_input_order_with_the_documented_fields(tmp_path):
    status, rows = run(tmp_path, [appeal(1, BOARD, phone=ME), appeal(2, OTHER, minutes=5, phone=ME)])
    assert status == 0
    assert [r["id"] for r in rows] == ["A1", "A2"]
    assert all(set(r) == {"id", "case_id", "cluster_id", "decision", "score"} for r in rows)


def test_a_merged_appeal_shares_the_case_of_the_appeal_it_repeats(tmp_path):
    _, rows = run(tmp_path, [appeal(1, BOARD, phone=ME), appeal(2, WECHAT, channel="微信", minutes=600, phone=ME)])
    assert rows[1]["decision"] == "merge" and rows[1]["case_id"] == rows[0]["case_id"]


def test_an_earlier_case_that_a_later_appeal_linked_to_is_in_the_cluster_too(tmp_path):
    _, rows = run(tmp_path, [appeal(1, BOARD, phone=ME), appeal(2, BOARD, minutes=60, phone=YOU)])
    assert rows[1]["decision"] == "link"
    assert rows[0]["cluster_id"] == rows[1]["cluster_id"] is not None


def test_missing_fields_are_allowed(tmp_path):
    status, rows = run(tmp_path, [{"id": 7, "received_at": "2024-11-25T09:00:00"}])
    assert status == 0 and rows[0]["id"] == "7" and rows[0]["decision"] == "new"


def test_a_line_without_an_id_stops_the_run_naming_the_line(tmp_path, capsys):
    status, _ = run(tmp_path, [appeal(1, BOARD)], raw_lines=['{"received_at": "2024-11-25T09:00:00"}'])
    assert status == 2 and "line 2" in capsys.readouterr().err
