"""bench/dedup_corpus.py: a deterministic, hard, consistently labelled corpus in the batch input format."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench.dedup_corpus import (
    ABSORB_WINDOW,
    MATTER_SPAN,
    TEDDY_DIR,
    TYPOS,
    WINDOW,
    Corpus,
    build_corpus,
)
from normalizer.fields import check_division_code, check_id_number, normalize_phone
from normalizer.record import AppealType

ROOT = Path(__file__).resolve().parents[2]
IDENTIFIERS = ("phone", "id_number", "openid", "user")
SIZE = 900


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    """A corpus built without the Teddy data, as anyone who clones the project builds it."""
    return build_corpus(seed=11, size=SIZE, teddy_dir=None)


@pytest.fixture(scope="module")
def rows(corpus: Corpus) -> list[tuple[dict, dict, datetime]]:
    """(appeal, label, receipt time) in arrival order."""
    return [
        (a, lab, datetime.fromisoformat(a["received_at"]))
        for a, lab in zip(corpus.appeals, corpus.labels, strict=True)
    ]


def earlier_of_matter(rows: list[tuple[dict, dict, datetime]]):
    """Each row with the earlier rows of its matter inside the window."""
    seen: dict[str, list[tuple[dict, dict, datetime]]] = {}
    for row in rows:
        _, label, at = row
        yield row, [r for r in seen.get(label["matter"], []) if at - r[2] <= WINDOW]
        seen.setdefault(label["matter"], []).append(row)


def text(appeal: dict) -> str:
    """Title and content, white space folded."""
    return " ".join(f"{appeal.get('title', '')} {appeal.get('content', '')}".split())


def test_the_same_seed_builds_the_same_corpus():
    first, second = build_corpus(seed=3, size=300, teddy_dir=None), build_corpus(seed=3, size=300, teddy_dir=None)
    assert first.appeals == second.appeals
    assert first.labels == second.labels


def test_another_seed_builds_another_corpus():
    assert (
        build_corpus(seed=3, size=300, teddy_dir=None).appeals
        != build_corpus(seed=4, size=300, teddy_dir=None).appeals
    )


def test_the_corpus_has_about_the_size_asked_for(corpus):
    assert SIZE <= len(corpus.appeals) < SIZE + 100


def test_every_appeal_has_the_batch_input_fields(corpus):
    types = {t.value for t in AppealType}
    for appeal in corpus.appeals:
        assert isinstance(appeal["id"], str) and isinstance(appeal["channel"], str) and appeal["channel"]
        assert datetime.fromisoformat(appeal["received_at"]).utcoffset() == timedelta(hours=8)
        assert appeal["type"] in types
        assert isinstance(appeal["content"], str) and appeal["content"].strip()
        assert set(appeal["citizen"]) <= {"name", *IDENTIFIERS}
        assert any(appeal["citizen"].get(k) for k in IDENTIFIERS), appeal["id"]
        assert set(appeal) <= {
            "id",
            "channel",
            "received_at",
            "citizen",
            "type",
            "title",
            "content",
            "address",
            "division_code",
        }
        assert all(value not in (None, "") for value in appeal.values())


def test_appeal_ids_are_unique(corpus):
    assert len({a["id"] for a in corpus.appeals}) == len(corpus.appeals)


def test_appeals_come_in_arrival_order(rows):
    times = [at for _, _, at in rows]
    assert times == sorted(times)


def test_labels_follow_the_appeals_line_for_line(corpus):
    assert [lab["id"] for lab in corpus.labels] == [a["id"] for a in corpus.appeals]
    assert all(set(lab) == {"id", "matter", "person", "expected", "scenario"} for lab in corpus.labels)
    assert {lab["expected"] for lab in corpus.labels} == {"absorb", "merge", "link", "new"}


def test_phones_id_numbers_and_division_codes_pass_the_normalizer(corpus):
    for appeal in corpus.appeals:
        citizen = appeal["citizen"]
        if "phone" in citizen:
            assert normalize_phone(citizen["phone"]) == citizen["phone"]
        if "id_number" in citizen:
            assert check_id_number(citizen["id_number"]) == citizen["id_number"]
        if "division_code" in appeal:
            assert check_division_code(appeal["division_code"]) == appeal["division_code"]


def test_no_identifier_belongs_to_two_citizens(rows):
    owner: dict[tuple[str, str], str] = {}
    for appeal, label, _ in rows:
        for key in IDENTIFIERS:
            if value := appeal["citizen"].get(key):
                assert owner.setdefault((key, value), label["person"]) == label["person"], (key, value)


def test_every_appeal_of_a_citizen_shares_an_identifier_with_their_earlier_ones(rows):
    known: dict[str, set[tuple[str, str]]] = {}
    for appeal, label, _ in rows:
        mine = {(k, appeal["citizen"][k]) for k in IDENTIFIERS if appeal["citizen"].get(k)}
        seen = known.setdefault(label["person"], set())
        assert not seen or mine & seen, appeal["id"]
        seen |= mine


def test_names_alone_do_not_make_a_citizen(rows):
    persons_by_name: dict[str, set[str]] = {}
    for appeal, label, _ in rows:
        if name := appeal["citizen"].get("name"):
            persons_by_name.setdefault(name, set()).add(label["person"])
    assert any(len(persons) > 1 for persons in persons_by_name.values())


def test_every_matter_is_told_within_its_span(rows):
    first: dict[str, datetime] = {}
    for _, label, at in rows:
        assert at - first.setdefault(label["matter"], at) <= MATTER_SPAN


def test_new_opens_its_matter(rows):
    for (_, label, _), prior in earlier_of_matter(rows):
        assert (label["expected"] == "new") == (not prior), label


def test_absorb_repeats_the_same_text_of_the_same_citizen_on_the_same_channel_within_minutes(rows):
    absorbed = 0
    for (appeal, label, at), prior in earlier_of_matter(rows):
        if label["expected"] == "absorb":
            absorbed += 1
            assert any(
                lab["person"] == label["person"]
                and a["channel"] == appeal["channel"]
                and at - t <= ABSORB_WINDOW
                and text(a) == text(appeal)
                for a, lab, t in prior
            ), label
    assert absorbed


def test_merge_follows_an_appeal_of_the_same_citizen_about_the_same_matter(rows):
    for (_, label, _), prior in earlier_of_matter(rows):
        if label["expected"] == "merge":
            assert any(lab["person"] == label["person"] for _, lab, _ in prior), label


def test_link_follows_appeals_about_the_same_matter_from_other_citizens_only(rows):
    for (_, label, _), prior in earlier_of_matter(rows):
        if label["expected"] == "link":
            assert prior and all(lab["person"] != label["person"] for _, lab, _ in prior), label


def test_every_hard_case_is_in_the_corpus(corpus):
    assert {lab["scenario"] for lab in corpus.labels} >= {
        "cross-channel",
        "follow-up",
        "absorb",
        "identity-chain",
        "same-person-new",
        "same-building",
        "form-letter",
        "quick-form",
        "hot-issue",
        "late-repeat",
        "singleton",
        "teddy-real",
        "teddy-rewrite",
    }


def test_one_matter_is_told_on_a_board_on_wechat_and_in_a_call_transcript(rows):
    channels: dict[tuple[str, str], set[str]] = {}
    for appeal, label, _ in rows:
        channels.setdefault((label["person"], label["matter"]), set()).add(appeal["channel"])
    calls = {"12319", "12315", "12333", "12328"}
    assert any({"leaders-board", "wechat"} <= c and c & calls for c in channels.values())
    transcripts = [a["content"] for a, _, _ in rows if a["channel"] in calls]
    assert any(
        t.startswith(("市民来电反映", "来电人反映", "市民来电称", "来电市民表示", "消费者来电"))
        for t in transcripts
    )
    assert any("\n" in a["content"] for a, _, _ in rows if a["channel"] == "wechat")  # several messages


def test_a_phone_seen_with_an_openid_is_what_links_a_later_call(rows):
    found = False
    for (appeal, label, _), prior in earlier_of_matter(rows):
        if (
            label["scenario"] == "identity-chain"
            and label["expected"] == "merge"
            and set(appeal["citizen"]) <= {"phone", "name"}
        ):
            # the earlier appeal of this matter had only the openid; the phone came with another matter
            assert all(set(a["citizen"]) == {"openid"} for a, lab, _ in prior if lab["person"] == label["person"])
            found = True
    assert found


def test_one_citizen_with_several_matters_is_new_each_time(rows):
    matters: dict[str, set[str]] = {}
    for _, label, _ in rows:
        if label["scenario"] == "same-person-new" and label["expected"] == "new":
            matters.setdefault(label["person"], set()).add(label["matter"])
    assert any(len(m) >= 2 for m in matters.values())


def test_form_letters_differ_only_in_the_signer_and_are_links(rows):
    letters: dict[str, list[tuple[dict, dict]]] = {}
    for appeal, label, _ in rows:
        if label["scenario"] == "form-letter" and appeal["channel"] in ("leaders-board", "web-api"):
            letters.setdefault(label["matter"], []).append((appeal, label))
    signed = max(letters.values(), key=len)
    assert len({lab["person"] for _, lab in signed}) >= 3
    endings = Counter(a["content"][-60:] for a, _ in signed)
    assert endings.most_common(1)[0][1] >= 3  # one template ...
    assert len({a["content"] for a, _ in signed}) > 1  # ... with different signers
    assert {lab["expected"] for _, lab in signed[1:]} <= {"link", "merge"}


def test_one_citizens_quick_reports_of_different_places_are_different_matters(rows):
    by_person: dict[str, set[str]] = {}
    for appeal, label, _ in rows:
        if label["scenario"] == "quick-form" and label["expected"] == "new":
            by_person.setdefault(label["person"], set()).add(appeal["address"])
    assert any(len(places) >= 3 for places in by_person.values())


def test_traditional_and_full_width_characters_typos_and_date_spellings_occur(corpus):
    written = zip(corpus.appeals, corpus.labels, strict=True)
    texts = [f"{a.get('title', '')}{a['content']}" for a, lab in written if lab["scenario"] != "teddy-real"]
    assert any(re.search("[區電業們於問題]", t) for t in texts)
    assert any(re.search("[０-９Ａ-Ｚ]", t) for t in texts)
    assert any(wrong in t for t in texts for _, wrong in TYPOS)
    spellings = (
        r"\d+月\d+日",
        r"\d+月\d+号",
        r"\d{4}年\d+月\d+日",
        r"\d{4}-\d\d-\d\d",
        r"\d{4}/\d+/\d+",
        "[一二三四五六七八九十]+月[一二三四五六七八九十]+[日号]",
    )
    assert all(any(re.search(s, t) for t in texts) for s in spellings)


def test_a_late_repeat_is_a_new_matter_past_the_window(rows):
    opened: dict[str, list[datetime]] = {}
    for _, label, at in rows:
        if label["scenario"] == "late-repeat" and label["expected"] == "new":
            opened.setdefault(label["person"], []).append(at)
    assert opened and all(len(t) == 2 and t[1] - t[0] > WINDOW for t in opened.values())


def test_without_the_teddy_data_the_shipped_board_sample_is_used(tmp_path):
    built = build_corpus(seed=2, size=300, teddy_dir=tmp_path / "absent")
    assert "simulators/data/board_messages.jsonl" in built.source
    shipped = {
        json.loads(x)["id"]
        for x in (ROOT / "simulators/data/board_messages.jsonl").read_text("utf-8").splitlines()
    }
    real = [lab for lab in built.labels if lab["scenario"] == "teddy-real"]
    assert real and all(lab["matter"][1:] in shipped for lab in real)


@pytest.mark.skipif(not TEDDY_DIR.is_dir(), reason="the Teddy data (../shared/data/teddy2020) is not here")
def test_real_repeated_posts_of_one_user_are_merges_and_other_users_posts_of_the_matter_links():
    built = build_corpus(seed=5, size=800, teddy_dir=TEDDY_DIR)
    by_title = {}
    for appeal, label in zip(built.appeals, built.labels, strict=True):
        if label["scenario"] == "teddy-real":
            by_title.setdefault((appeal["citizen"]["user"], appeal.get("title")), label)
    # the 五一桥 posts: one user three times, two more users once or twice
    assert by_title[("UU008442", "反对K7县拆五一桥建商铺廊桥")]["expected"] == "merge"
    assert by_title[("UU0081400", "反对K7县拆除五一桥来建商铺廊桥")]["expected"] == "link"
    # two board accounts of one person, joined by the phone both posts carry
    first = by_title[("UU008349", "咨询L3县大合坪镇荆竹溪村异地搬迁问题")]
    second = by_title[("UU0081875", "咨询L3县已婚女的异地扶贫搬迁资格问题")]
    assert first["person"] == second["person"] and {first["expected"], second["expected"]} == {"new", "merge"}


def test_the_command_line_writes_appeals_and_labels(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/dedup_corpus.py", "--out", str(tmp_path), "--size", "200", "--no-teddy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    appeals = (tmp_path / "appeals.jsonl").read_text("utf-8").splitlines()
    labels = (tmp_path / "labels.jsonl").read_text("utf-8").splitlines()
    assert len(appeals) == len(labels) >= 200
    assert f"{len(appeals)} appeals" in done.stdout
