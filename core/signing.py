"""Request signatures, checked in constant time.

- Pushes to huiju's generic API channel: HMAC-SHA256 over `<timestamp>.<body>`.
- The national platforms (12315, 12333, 12328) and the 12345 platform: HMAC-SHA256 or HMAC-SM3 over a
  canonical request, in five headers (`SignedHeaders`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

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


APP_KEY_HEADER = "X-App-Key"
TIMESTAMP_HEADER = "X-Timestamp"
NONCE_HEADER = "X-Nonce"
SIGN_METHOD_HEADER = "X-Sign-Method"
SIGNATURE_HEADER = "X-Signature"


class SigningCredentials(Protocol):
    """Whatever names an app key, its secret and the signing method (a channel's or the platform's settings)."""

    app_key: str
    app_secret: Any
    sign_method: str


class FreshHeaders(Mapping[str, str], ABC):
    """A request's signature headers, signed afresh each time the HTTP library reads them.

    `core.http.HttpClient` retries a failed call with the same headers object. A receiver refuses a nonce it
    has seen in the last 10 minutes, and a timestamp more than 300 s old, so a retry must not repeat the first
    attempt's: every time the headers are read (once per attempt) they carry a new timestamp and signature.
    """

    _current: dict[str, str]

    @abstractmethod
    def sign(self) -> dict[str, str]:
        """A newly signed set of headers."""

    def fresh(self) -> dict[str, str]:
        """Sign anew (and remember it, so that lookups agree with the last iteration)."""
        self._current = self.sign()
        return self._current

    def items(self) -> Any:
        """Fresh headers: aiohttp reads a mapping's items once per attempt."""
        return self.fresh().items()

    def __iter__(self) -> Iterator[str]:
        return iter(self.fresh())

    def __getitem__(self, key: str) -> str:
        return self._current[key]

    def __len__(self) -> int:
        return len(self._current)


class SignedHeaders(FreshHeaders):
    """The five headers of the national interconnect's signature (also the 12345 platform's), with a new
    nonce and timestamp for every attempt."""

    def __init__(
        self, settings: SigningCredentials, method: str, path: str, query: dict[str, str], body: bytes
    ) -> None:
        self._settings = settings
        self._method = method
        self._path = path
        self._query = query
        self._body = body
        self.fresh()

    def sign(self) -> dict[str, str]:
        """The five headers, signed now with a new nonce."""
        s = self._settings
        timestamp = str(time.time_ns() // 1_000_000)
        nonce = secrets.token_hex(16)
        headers = {
            APP_KEY_HEADER: s.app_key,
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: nonce,
            SIGN_METHOD_HEADER: s.sign_method,
            SIGNATURE_HEADER: sign_request(
                s.sign_method,
                s.app_secret,
                self._method,
                self._path,
                self._query,
                s.app_key,
                timestamp,
                nonce,
                self._body,
            ),
            "Accept": "application/json",
        }
        if self._body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return headers


SIGNATURE_WINDOW_MS = 300_000  # a timestamp more than 300 s off either way is refused
NONCE_TTL_S = 600.0  # a nonce seen in the last 10 minutes is refused
NONCE_MIN, NONCE_MAX = 16, 64


class SignatureRefused(Exception):
    """The request's signature headers do not prove it comes from the configured app, now."""


VERIFIED_HEADERS = (APP_KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGN_METHOD_HEADER, SIGNATURE_HEADER)


class RequestVerifier:
    """Verifies requests signed by one app key, and remembers their nonces."""

    def __init__(self, app_key: str, app_secret: str, sign_method: str = "hmac-sha256") -> None:
        if sign_method not in SIGN_METHODS:
            raise ValueError(f"sign_method must be one of {', '.join(SIGN_METHODS)}, got {sign_method!r}")
        self.app_key = app_key
        self.app_secret = app_secret
        self.sign_method = sign_method
        self._nonces: dict[str, float] = {}
        self._expiry: deque[tuple[float, str]] = deque()

    def verify(
        self, headers: Any, method: str, path: str, query: dict[str, str], body: bytes, now_ms: int | None = None
    ) -> None:
        """Raise SignatureRefused unless the request is signed by the app key, now, with a fresh nonce."""
        values = {name: headers.get(name) for name in VERIFIED_HEADERS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise SignatureRefused(f"missing header(s) {', '.join(missing)}")
        app_key, timestamp, nonce, sign_method, signature = (values[name] for name in VERIFIED_HEADERS)
        if not hmac.compare_digest(app_key.encode(), self.app_key.encode()):
            raise SignatureRefused("unknown app key")
        if sign_method != self.sign_method:
            raise SignatureRefused(f"sign method {sign_method[:20]!r} is not the one agreed ({self.sign_method})")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15):
            raise SignatureRefused("timestamp must be Unix milliseconds")
        now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        if abs(now_ms - int(timestamp)) > SIGNATURE_WINDOW_MS:
            raise SignatureRefused(f"timestamp more than {SIGNATURE_WINDOW_MS // 1000} s off the receiver's clock")
        if not (nonce.isascii() and nonce.isprintable() and NONCE_MIN <= len(nonce) <= NONCE_MAX):
            raise SignatureRefused(f"nonce must be {NONCE_MIN} to {NONCE_MAX} printable ASCII characters")
        self._forget(now_ms / 1000)
        if nonce in self._nonces:
            raise SignatureRefused("nonce already used in the last 10 minutes")
        expected = sign_request(
            self.sign_method, self.app_secret, method, path, query, self.app_key, timestamp, nonce, body
        )
        given = signature.strip().lower()
        if not (given.isascii() and hmac.compare_digest(expected, given)):
            raise SignatureRefused("signature does not match")
        expiry = now_ms / 1000 + NONCE_TTL_S
        self._nonces[nonce] = expiry
        self._expiry.append((expiry, nonce))

    def _forget(self, now_s: float) -> None:
        while self._expiry and self._expiry[0][0] < now_s:
            _, nonce = self._expiry.popleft()
            self._nonces.pop(nonce, None)
