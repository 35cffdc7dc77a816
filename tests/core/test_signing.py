"""Signatures: HMAC-SHA256 over timestamp and body for pushes; HMAC-SHA256 or HMAC-SM3 for national platforms."""

from __future__ import annotations

import pytest

from core.signing import SignatureError, body_digest, sign_body, sign_request, verify_body


def test_sm3_matches_the_standard_test_vector():
    # GB/T 32905-2016, example 1: SM3("abc")
    assert body_digest("sm3", b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_a_national_signature_depends_on_every_part_of_the_request():
    base = (
        "secret-0123456789",
        "GET",
        "/open/v1/workorders",
        {"pageSize": "10"},
        "k",
        "1700000000000",
        "n" * 16,
        b"",
    )
    for method in ("hmac-sha256", "sm3"):
        reference = sign_request(method, *base)
        assert len(reference) == 64
        for i, changed in (
            (1, "POST"),
            (2, "/other"),
            (3, {"pageSize": "11"}),
            (4, "k2"),
            (5, "1700000000001"),
            (6, "m" * 16),
            (7, b"{}"),
        ):
            variant = list(base)
            variant[i] = changed
            assert sign_request(method, *variant) != reference


def test_query_order_does_not_change_the_signature():
    a = sign_request("sm3", "s" * 16, "GET", "/p", {"a": "1", "b": "2"}, "k", "1", "n", b"")
    b = sign_request("sm3", "s" * 16, "GET", "/p", {"b": "2", "a": "1"}, "k", "1", "n", b"")
    assert a == b


def test_a_push_signature_verifies_within_the_window_and_not_outside():
    ts, sig = sign_body("secret", b"{}", timestamp=1_000_000)
    verify_body("secret", b"{}", ts, sig, 300, now=1_000_299)
    with pytest.raises(SignatureError, match="window"):
        verify_body("secret", b"{}", ts, sig, 300, now=1_000_301)


def test_a_non_ascii_signature_is_refused_not_crashed_on():
    ts, _ = sign_body("secret", b"{}", timestamp=1_000_000)
    with pytest.raises(SignatureError):
        verify_body("secret", b"{}", ts, "签名", 300, now=1_000_000)
