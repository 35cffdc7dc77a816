"""API tokens and roles: admin endpoints need an admin token, auditor endpoints an auditor token."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from core.config import TokenSettings
from web.errors import json_error

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACTOR = web.RequestKey("huiju_actor", str)
CHANNELS = web.RequestKey("huiju_reviewer_channels", list)  # the channels a reviewer token may review


class TokenRing:
    """The configured tokens, by SHA-256 digest only."""

    def __init__(self, tokens: list[TokenSettings]) -> None:
        self._tokens = [(t.sha256 or "", t.name, t.role, list(t.channels)) for t in tokens]

    def identify(self, presented: str) -> tuple[str, str, list[str]] | None:
        """(name, role, channels) of a presented token, compared in constant time; None if it is not ours."""
        digest = hashlib.sha256(presented.encode()).hexdigest()
        found = None
        for known, name, role, channels in self._tokens:
            if hmac.compare_digest(known, digest):
                found = (name, role, channels)
        return found


def require_role(role: str) -> Callable[[Handler], Handler]:
    """Refuse a request without a bearer token of this role (401 unknown token, 403 wrong role)."""

    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            from web.context import CTX

            header = request.headers.get("Authorization", "")
            scheme, _, presented = header.partition(" ")
            if scheme.lower() != "bearer" or not presented.strip():
                return json_error(401, "an API token is required: Authorization: Bearer <token>", "unauthorized")
            who = request.app[CTX].tokens.identify(presented.strip())
            if who is None:
                return json_error(401, "unknown API token", "unauthorized")
            name, token_role, channels = who
            if token_role != role:
                return json_error(403, f"this needs a token with the {role} role", "forbidden")
            request[ACTOR] = f"token:{name}"
            request[CHANNELS] = channels
            return await handler(request)

        return guarded

    return wrap
