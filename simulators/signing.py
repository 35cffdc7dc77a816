"""Checking huiju's signed requests the way the national platforms and the 12345 platform do.

The five headers, the canonical request (`core.signing.sign_request`), a 300-second window and a 10-minute
memory of nonces; a nonce is used up only by a request whose signature was verified, so a forged request
cannot block the real sender's. Shared by every simulator (docs/channels/national-protocol.md).
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from typing import Any

from core.signing import SIGN_METHODS, sign_request

APP_KEY_HEADER = "X-App-Key"
TIMESTAMP_HEADER = "X-Timestamp"
NONCE_HEADER = "X-Nonce"
SIGN_METHOD_HEADER = "X-Sign-Method"
SIGNATURE_HEADER = "X-Signature"

SIGNATURE_WINDOW_MS = 300_000  # a timestamp more than 300 s off either way is refused
NONCE_TTL_S = 600.0  # a nonce seen in the last 10 minutes is refused
NONCE_MIN, NONCE_MAX = 16, 64


class SignatureRefused(Exception):
    """The request's signature headers do not prove it comes from the configured app, now."""


HEADERS = (APP_KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGN_METHOD_HEADER, SIGNATURE_HEADER)


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
        values = {name: headers.get(name) for name in HEADERS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise SignatureRefused(f"missing header(s) {', '.join(missing)}")
        app_key, timestamp, nonce, sign_method, signature = (values[name] for name in HEADERS)
        if not hmac.compare_digest(app_key.encode(), self.app_key.encode()):
            raise SignatureRefused("unknown app key")
        if sign_method != self.sign_method:
            raise SignatureRefused(f"sign method {sign_method[:20]!r} is not the one agreed ({self.sign_method})")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15):
            raise SignatureRefused("timestamp must be Unix milliseconds")
        now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        if abs(now_ms - int(timestamp)) > SIGNATURE_WINDOW_MS:
            raise SignatureRefused(f"timestamp more than {SIGNATURE_WINDOW_MS // 1000} s off the platform's clock")
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
