"""Request signatures, checked in constant time.

- Pushes to huiju's generic API channel: HMAC-SHA256 over `<timestamp>.<body>`.
- The national platforms (12315, 12333, 12328): HMAC-SHA256 or HMAC-SM3 over a canonical request.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from gmssl import func, sm3


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


class _SM3:
    """SM3 (GB/T 32905) in the shape of a hashlib object, so that `hmac` can build HMAC-SM3 on it."""

    name = "sm3"
    digest_size = 32
    block_size = 64

    def __init__(self, data: bytes = b"") -> None:
        self._data = bytearray(data)

    def update(self, data: bytes) -> None:
        self._data += data

    def copy(self) -> _SM3:
        return _SM3(bytes(self._data))

    def digest(self) -> bytes:
        return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(bytes(self._data))))

    def hexdigest(self) -> str:
        return self.digest().hex()


SIGN_METHODS = ("hmac-sha256", "sm3")
_DIGESTS = {"hmac-sha256": hashlib.sha256, "sm3": _SM3}


def body_digest(method: str, body: bytes) -> str:
    """Hex digest of a request body with the signing method's hash (SHA-256 or SM3)."""
    return _DIGESTS[method](body).hexdigest()


def canonical_request(
    http_method: str, path: str, query: dict[str, str], app_key: str, timestamp_ms: str, nonce: str, body_hash: str
) -> bytes:
    """The string a national-platform signature covers, one part a line (see docs/channels/)."""
    canonical_query = "&".join(f"{k}={query[k]}" for k in sorted(query))
    return "\n".join(
        [http_method.upper(), path, canonical_query, app_key, timestamp_ms, nonce, body_hash]
    ).encode()


def sign_request(
    sign_method: str,
    secret: str,
    http_method: str,
    path: str,
    query: dict[str, str],
    app_key: str,
    timestamp_ms: str,
    nonce: str,
    body: bytes,
) -> str:
    """Hex HMAC-SHA256 or HMAC-SM3 of the canonical request."""
    message = canonical_request(
        http_method, path, query, app_key, timestamp_ms, nonce, body_digest(sign_method, body)
    )
    return hmac.new(secret.encode(), message, _DIGESTS[sign_method]).hexdigest()
