"""Checking huiju's signed requests the way the national platforms and the 12345 platform do.

The verifier is huiju's own (`core.signing.RequestVerifier`, which also checks the 12345 platform's callbacks):
the five headers, the canonical request, a 300-second window and a 10-minute memory of nonces. Every
simulator checks requests with it (docs/channels/national-protocol.md).
"""

from core.signing import (
    APP_KEY_HEADER,
    NONCE_HEADER,
    SIGN_METHOD_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_WINDOW_MS,
    TIMESTAMP_HEADER,
    RequestVerifier,
    SignatureRefused,
)

__all__ = [
    "APP_KEY_HEADER",
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_WINDOW_MS",
    "SIGN_METHOD_HEADER",
    "TIMESTAMP_HEADER",
    "RequestVerifier",
    "SignatureRefused",
]
