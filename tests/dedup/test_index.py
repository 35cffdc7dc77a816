"""The LSH index: near duplicates are found, unrelated texts are not, the time window, persistence, memory."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.index import LshIndex
from dedup.minhash import MinHasher, shingle_hashes
from normalizer.text import fold_for_matching
from simulators.corpus import board_messages

ROOT = Path(__file__).resolve().parents[2]
HASHER = MinHasher()
STREETLIGHT = "小区门口的路灯坏了三个月没人修"


def board_texts() -> list[str]:
    """The 300 real message-board posts, title and content, folded as the matcher folds them."""
    return [fold_for_matching(m["title"] + " " + m["content"]) for m in board_messages()]


def jaccard(a: str, b: str) -> float:
    """The true Jaccard similarity of two texts' shingle sets."""
    x, y = set(shingle_hashes(a).tolist()), set(shingle_hashes(b).tolist())
    return len(x & y) / len(x | y)


def retold(text: str, rng: random.Random) -> str:
    """The same appeal typed again: a few clauses dropped or swapped and a closing line added."""
    clauses = [c for c in text.replace("。", "，").split("，") if c]
    if len(clauses) > 3:
        del clauses[rng.randrange(len(clauses))]
        i = rng.randrange(len(clauses) - 1)
        clauses[i], clauses[i + 1] = clauses[i + 1], clauses[i]
    return "，".join(clauses) + "，希望有关部门尽快处理，谢谢"


def with_typos(text: str, rate: float, rng: random.Random) -> str:
    """The text with each character replaced by a random one at the rate: 0.125 leaves Jaccard about 0.5."""
    return "".join(chr(rng.randint(0x4E00, 0x9FFF)) if rng.random() < rate else c for c in text)


def random_texts(count: int, seed: int) -> list[str]:
    """Texts of real board vocabulary and phrasing (2-8 character runs cut from posts), about 150 long."""
    rng = random.Random(seed)
    source = "".join(board_texts())
    out = []
    for _ in range(count):
        parts, length = [], 0
        while length < 150:
            size = rng.randint(2, 8)
            start = rng.randrange(len(source) - size)
            parts.append(source[start : start + size])
            length += size
        out.append("".join(parts))
    return out


def random_signatures(count: int, seed: int = 0) -> np.ndarray:
    """Signatures of unrelated texts: independent random values."""
    return np.random.default_rng(seed).integers(0, 2**32 - 1, (count, 128), dtype=np.uint32)


def indexed(texts: list[str], **options: int) -> LshIndex:
    index = LshIndex(**options)
    for row, text in enumerate(texts):
        index.add(row, HASHER.signature_of(text), 100)
    return index


def test_a_near_duplicate_is_a_candidate_with_a_high_estimate():
    texts = board_texts()
    index = indexed(texts)
    query = retold(texts[42], random.Random(1))
    assert jaccard(query, texts[42]) >= 0.6
    found = index.candidates(HASHER.signature_of(query))
    assert 42 in found
    assert index.estimate([42], HASHER.signature_of(query))[0] >= 0.5


def test_posts_at_similarity_one_half_are_found_as_often_as_the_s_curve_says():
    texts = board_texts()
    index = indexed(texts)
    rng = random.Random(2)
    found, similarities = 0, []
    for row, text in enumerate(texts):
        query = with_typos(text, 0.125, rng)
        similarities.append(jaccard(query, text))
        found += row in index.candidates(HASHER.signature_of(query))
    assert 0.45 <= np.mean(similarities) <= 0.55
    # 20 bands of 3 rows: P(0.5) = 1 - (1 - 0.5^3)^20 = 0.93; 300 posts give a standard error of 0.015.
    assert found / len(texts) >= 0.88


def test_a_different_text_is_not_a_candidate():
    texts = board_texts()
    index = indexed(texts[:-1])
    other = texts[-1]
    assert max(jaccard(other, t) for t in texts[:-1]) < 0.2
    assert index.candidates(HASHER.signature_of(other)).tolist() == []


def test_false_candidates_among_unrelated_texts_are_rare():
    indexed_texts, queries = random_texts(3000, seed=1), random_texts(1000, seed=2)
    index = indexed(indexed_texts)
    false = 0
    for query in queries:
        rows = index.candidates(HASHER.signature_of(query))
        false += sum(jaccard(query, indexed_texts[r]) < 0.2 for r in rows.tolist())
    # Measured on real board posts: 2.5e-6 a pair. These texts share more common phrases than real ones do.
    assert false / (len(queries) * len(indexed_texts)) < 1e-4


def test_an_added_row_is_a_candidate_at_once_across_buffer_flushes_and_merges():
    index = LshIndex(buffer_rows=8, segment_rows=64)
    signatures = random_signatures(300)
    for row, sig in enumerate(signatures):
        index.add(row, sig, row // 10)
        assert index.candidates(sig).tolist() == [row]
    assert all(index.candidates(sig).tolist() == [row] for row, sig in enumerate(signatures))


def test_rows_added_out_of_order_across_blocks_answer_like_rows_added_in_order():
    signatures = random_signatures(40_000)
    days = np.arange(40_000) // 1000
    shuffled = np.random.default_rng(5).permutation(40_000)
    in_order, out_of_order = LshIndex(), LshIndex()
    in_order.add_many(np.arange(40_000), signatures, days)
    out_of_order.add_many(shuffled, signatures[shuffled], days[shuffled])
    probe = np.arange(0, 40_000, 997)
    assert out_of_order.day_of(probe).tolist() == days[probe].tolist()
    for row in probe.tolist():
        assert (
            out_of_order.candidates(signatures[row], 20).tolist()
            == in_order.candidates(signatures[row], 20).tolist()
        )
        assert (
            out_of_order.estimate(probe, signatures[row]).tolist()
            == in_order.estimate(probe, signatures[row]).tolist()
        )


def test_reserve_allocates_the_per_row_arrays_a_chunked_rebuild_then_fills():
    rows = 3 * 16_384
    index = LshIndex()
    index.reserve(rows)
    before = index.nbytes()
    assert before >= rows * 68
    for start in range(0, rows, 5_000):
        part = np.arange(start, min(start + 5_000, rows))
        index.add_many(part, random_signatures(part.shape[0], start), np.zeros(part.shape[0], np.int64))
    # All that grew is the band entries: 20 bands of 8 bytes a row.
    assert index.nbytes() - before == rows * 20 * 8


def test_since_day_drops_rows_received_before_it():
    index = LshIndex()
    sig = HASHER.signature_of(STREETLIGHT)
    index.add(0, sig, 10)
    index.add(1, sig, 20)
    assert index.candidates(sig).tolist() == [0, 1]
    assert index.candidates(sig, since_day=15).tolist() == [1]
    assert index.candidates(sig, since_day=20).tolist() == [1]
    assert index.candidates(sig, since_day=21).tolist() == []


def test_since_day_filters_rows_in_sorted_segments_too():
    index = LshIndex(buffer_rows=4, segment_rows=16)
    sig = HASHER.signature_of(STREETLIGHT)
    for row in range(40):
        index.add(row, sig, row)
    assert index.candidates(sig, since_day=30).tolist() == list(range(30, 40))
    assert index.candidates(sig, since_day=3).tolist() == list(range(3, 40))


def test_an_empty_text_is_nobodys_candidate():
    index = LshIndex()
    empty = HASHER.signature_of("")
    index.add(0, empty, 1)
    index.add(1, empty, 1)
    assert index.candidates(empty).tolist() == []
    assert len(index) == 2


def test_identical_signatures_estimate_one_and_unrelated_ones_near_zero():
    index = LshIndex()
    signatures = random_signatures(2000)
    index.add_many(np.arange(2000), signatures, np.zeros(2000, np.int64))
    assert index.estimate([7], signatures[7]).tolist() == [1.0]
    others = index.estimate(np.arange(1, 2000), signatures[0])
    assert abs(others.mean()) < 0.01
    assert others.max() < 0.3


# Signatures whose band values come from a tiny alphabet, so that many rows share bands.
colliding = st.lists(
    st.tuples(st.lists(st.integers(0, 2), min_size=60, max_size=60), st.integers(0, 30)),
    min_size=1,
    max_size=60,
)


@settings(deadline=None, max_examples=60)
@given(colliding, st.lists(st.integers(0, 2), min_size=60, max_size=60), st.none() | st.integers(0, 30))
def test_candidates_are_exactly_the_rows_sharing_a_band_since_the_day(items, query_bands, since_day):
    index = LshIndex(buffer_rows=4, segment_rows=16)
    tail = np.arange(68, dtype=np.uint32)
    for row, (bands, day) in enumerate(items):
        index.add(row, np.concatenate((np.array(bands, np.uint32), tail)), day)
    query = np.concatenate((np.array(query_bands, np.uint32), tail))
    expected = [
        row
        for row, (bands, day) in enumerate(items)
        if any(bands[b : b + 3] == query_bands[b : b + 3] for b in range(0, 60, 3))
        and (since_day is None or day >= since_day)
    ]
    assert index.candidates(query, since_day).tolist() == expected


def round_trip_queries(index: LshIndex, signatures: np.ndarray) -> list:
    return [(index.candidates(s, 3).tolist(), index.estimate([0, 5], s).tolist()) for s in signatures[::97]]


def test_to_bytes_and_from_bytes_give_the_same_answers():
    index = LshIndex(buffer_rows=64, segment_rows=256)
    signatures = random_signatures(1000)
    index.add_many(np.arange(1000), signatures, np.arange(1000) // 100)
    for row in range(1000, 1010):  # some rows still in the unsorted buffer
        index.add(row, signatures[row - 1000], 9)
    copy = LshIndex.from_bytes(index.to_bytes())
    assert len(copy) == len(index) == 1010
    assert copy.nbytes() <= index.nbytes()  # a loaded index holds no room to grow yet
    assert round_trip_queries(copy, signatures) == round_trip_queries(index, signatures)


def test_a_loaded_index_keeps_taking_rows(tmp_path):
    index = LshIndex(buffer_rows=64, segment_rows=256)
    signatures = random_signatures(400)
    index.add_many(np.arange(300), signatures[:300], np.zeros(300, np.int64))
    index.save(tmp_path / "index.lsh")
    loaded = LshIndex.load(tmp_path / "index.lsh")
    for row in range(300, 400):
        loaded.add(row, signatures[row], 1)
    assert all(loaded.candidates(sig).tolist() == [row] for row, sig in enumerate(signatures))


def test_an_index_saved_by_one_process_answers_in_another(tmp_path):
    texts = board_texts()
    indexed(texts).save(tmp_path / "index.lsh")
    code = (
        "import sys; from dedup.index import LshIndex; from dedup.minhash import MinHasher;"
        "print(LshIndex.load(sys.argv[1]).candidates(MinHasher().signature_of(sys.argv[2])).tolist())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "999", "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", code, str(tmp_path / "index.lsh"), texts[17]]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    assert 17 in json.loads(out.stdout)


def test_a_truncated_or_foreign_file_is_refused():
    data = LshIndex().to_bytes()
    with pytest.raises(ValueError, match="truncated"):
        index = LshIndex()
        index.add_many(np.arange(10), random_signatures(10), np.zeros(10, np.int64))
        LshIndex.from_bytes(index.to_bytes()[:-5])
    with pytest.raises(ValueError, match="not a huiju LSH index"):
        LshIndex.from_bytes(b"PK" + data[2:])


def test_at_most_256_bytes_a_row_at_100k_rows_added_in_bulk():
    index = LshIndex()
    index.add_many(np.arange(100_000), random_signatures(100_000), np.arange(100_000) // 3000)
    assert index.nbytes() / len(index) <= 256


def test_at_most_256_bytes_a_row_at_100k_rows_added_one_by_one():
    index = LshIndex()
    signatures = random_signatures(100_000)
    for row in range(100_000):
        index.add(row, signatures[row], row // 3000)
    assert len(index) == 100_000
    assert index.nbytes() / len(index) <= 256


def test_a_signature_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="shape"):
        LshIndex().add(0, np.zeros(64, np.uint32), 1)


def test_a_negative_row_is_refused():
    with pytest.raises(ValueError, match="rows must be"):
        LshIndex().add(-1, np.zeros(128, np.uint32), 1)


def test_bands_and_sketch_must_fit_in_the_signature():
    with pytest.raises(ValueError, match="exceeds num_perm"):
        LshIndex(bands=32, rows=4)
