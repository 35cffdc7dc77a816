"""Request signatures: HMAC-SHA256 over a timestamp and the body, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import time


class SignatureError(Exception):
    """The request's signature is missing, malformed, stale or wrong."""


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of a message."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def timestamped_message(timestamp: str, body: bytes) -> bytes:
    """What a timestamped signature covers: `<timestamp>.<body>`."""
    return timestamp.encode() + b"." + body


def sign_body(secret: str, body: bytes, timestamp: int | None = None) -> tuple[str, str]:
    """(timestamp, signature) for a body, as a sender computes them."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return ts, hmac_sha256_hex(secret, timestamped_message(ts, body))


def verify_body(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    window_s: int,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless the signature is right and the timestamp within the window."""
    if not timestamp or not signature:
        raise SignatureError("missing signature headers")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise SignatureError("timestamp must be Unix seconds")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > window_s:
        raise SignatureError(f"timestamp outside the {window_s}-second window")
    expected = hmac_sha256_hex(secret, timestamped_message(timestamp, body))
    given = signature.strip().lower()
    if not given.isascii() or not hmac.compare_digest(expected, given):
        raise SignatureError("signature does not match")
