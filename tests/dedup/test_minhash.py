"""MinHash signatures: stable values, the empty and short cases, and estimates that track the true Jaccard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.minhash import SHINGLE, MinHasher, _mix32, jaccard_estimate, shingle_hashes, shingle_hashes_many

ROOT = Path(__file__).resolve().parents[2]
TEXT = "小区门口的路灯坏了三个月没人修"

appeal_text = st.text(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("路灯坏了停水小区，。！？ 0123abc"),
        st.characters(),
    ),
    max_size=300,
)


def test_shingle_hashes_of_a_fixed_text_are_fixed_values():
    assert shingle_hashes("路灯坏了").tolist() == [299666687, 3094649029]


def test_signature_of_a_fixed_text_is_a_fixed_value():
    expected = [145096572, 432742187, 1322883036, 97083250, 974588392, 434821519, 44958802, 174028255]
    assert MinHasher().signature_of(TEXT)[:8].tolist() == expected


def test_another_seed_gives_other_fixed_values():
    assert MinHasher(seed=7).signature_of(TEXT)[:4].tolist() == [148998942, 169723809, 35177822, 343540896]


def test_signature_is_the_same_in_a_process_with_another_hash_seed():
    code = f"from dedup.minhash import MinHasher; print(MinHasher().signature_of('{TEXT}').tobytes().hex())"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == MinHasher().signature_of(TEXT).tobytes().hex()


@given(appeal_text)
def test_shingle_hashes_are_distinct_sorted_uint32(text):
    h = shingle_hashes(text)
    assert h.dtype == np.uint32
    assert np.all(h[1:] > h[:-1])
    assert h.size <= max(len(text) - SHINGLE + 1, 1 if text else 0)


def test_a_text_shorter_than_a_shingle_is_one_shingle():
    assert shingle_hashes("灯").size == 1
    assert shingle_hashes("路灯").size == 1
    assert shingle_hashes("灯").tolist() != shingle_hashes("路灯").tolist()


def test_a_short_text_has_a_signature_of_its_own():
    sig = MinHasher().signature_of("灯")
    assert not np.all(sig == 0xFFFFFFFF)
    assert jaccard_estimate(sig, MinHasher().signature_of("路灯")) == 0.0


def test_the_empty_text_has_the_all_ones_signature():
    sig = MinHasher(num_perm=16).signature_of("")
    assert sig.dtype == np.uint32
    assert sig.tolist() == [0xFFFFFFFF] * 16


@given(appeal_text)
def test_signature_is_deterministic(text):
    first = MinHasher().signature_of(text)
    assert first.shape == (128,)
    assert first.dtype == np.uint32
    assert np.array_equal(first, MinHasher().signature_of(text))


@given(appeal_text)
def test_identical_texts_have_estimate_one(text):
    hasher = MinHasher()
    assert jaccard_estimate(hasher.signature_of(text), hasher.signature_of(str(text))) == 1.0


@given(
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=200),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=200),
)
def test_texts_without_a_common_shingle_have_estimate_near_zero(chinese, ascii_text):
    hasher = MinHasher()
    assert jaccard_estimate(hasher.signature_of(chinese), hasher.signature_of(ascii_text)) <= 0.05


@settings(deadline=None)
@given(
    st.sets(st.integers(0, 2**32 - 1), min_size=1, max_size=400),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_estimate_is_within_tolerance_of_the_true_jaccard(universe, cut_a, cut_b):
    # A and B are two overlapping runs of one shuffled universe, so every overlap from none to all occurs.
    values = sorted(universe)
    np.random.default_rng(len(values)).shuffle(values)
    lo, hi = sorted((int(cut_a * len(values)), int(cut_b * len(values))))
    a, b = set(values[: max(hi, 1)]), set(values[lo:]) or {values[-1]}
    true = len(a & b) / len(a | b)
    hasher = MinHasher()
    estimate = jaccard_estimate(hasher.signature(np.array(sorted(a))), hasher.signature(np.array(sorted(b))))
    # 128 permutations: the standard error is at most 0.044, so 0.2 is 4.5 of them.
    assert abs(estimate - true) <= 0.2


def test_estimates_over_many_pairs_are_unbiased():
    rng = np.random.default_rng(3)
    hasher = MinHasher()
    errors = []
    for _ in range(300):
        universe = rng.choice(2**32, 300, replace=False).astype(np.uint32)
        # 100 shared of 300: Jaccard 1/3
        estimate = jaccard_estimate(hasher.signature(universe[:200]), hasher.signature(universe[100:]))
        errors.append(estimate - 1 / 3)
    assert abs(np.mean(errors)) < 0.01
    assert np.std(errors) < 0.05  # binomial: sqrt(1/3 * 2/3 / 128) = 0.042


def test_seeds_give_different_permutations():
    assert not np.array_equal(MinHasher(seed=1).signature_of(TEXT), MinHasher(seed=2).signature_of(TEXT))


def test_jaccard_estimate_refuses_signatures_of_different_lengths():
    with pytest.raises(ValueError, match="one shape"):
        jaccard_estimate(np.zeros(128, np.uint32), np.zeros(64, np.uint32))


@given(st.lists(appeal_text, max_size=8))
def test_many_texts_hash_as_each_text_alone(texts):
    hashes, offsets = shingle_hashes_many(texts, SHINGLE)
    assert [hashes[offsets[i] : offsets[i + 1]].tolist() for i in range(len(texts))] == [
        shingle_hashes(t).tolist() for t in texts
    ]


@given(st.lists(appeal_text, max_size=8))
def test_many_texts_have_each_texts_own_signature(texts):
    hasher = MinHasher()
    expected = [hasher.signature_of(t).tolist() for t in texts]
    assert hasher.signatures(texts).tolist() == expected


def test_the_compiled_minimum_is_the_product_then_min_of_the_definition():
    hasher = MinHasher(num_perm=32, seed=3)
    x = np.random.default_rng(1).integers(0, 2**32, size=500, dtype=np.uint64).astype(np.uint32)
    values = _mix32(x)[None, :].astype(np.uint64) * hasher._a[:, None] + hasher._b[:, None]
    assert hasher.signature(x).tolist() == (values % 2**32).min(axis=1).tolist()
