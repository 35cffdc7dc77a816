"""Error policy in one place: every failure at a channel's edge is classified once, here.

- transient: timeouts, connection errors, 429, 5xx. Retried inside the call (a few tries), then the
  next tick, with back-off.
- auth: 401, 403, a signature the source refuses. Only that channel is paused; its health says why.
- permanent: other 4xx, refused redirects, oversized answers, a response that breaks the protocol. The
  error is recorded and the channel backs off; an admin looks.
- skip: one malformed item. That item is quarantined, the rest of the page is ingested.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

import aiohttp


class ErrorKind(StrEnum):
    """How a failure is handled."""

    TRANSIENT = "transient"
    AUTH = "auth"
    PERMANENT = "permanent"
    SKIP = "skip"


class ChannelError(Exception):
    """A classified failure talking to a channel."""

    kind: ErrorKind = ErrorKind.PERMANENT

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None, body: bytes = b""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.body = body  # the whole error answer (within the channel's size limit); the message quotes its start


class TransientError(ChannelError):
    """Worth trying again soon: the source is slow, busy or briefly down."""

    kind = ErrorKind.TRANSIENT


class AuthError(ChannelError):
    """The source refuses our credentials: retrying will not help until an admin fixes them."""

    kind = ErrorKind.AUTH


class PermanentError(ChannelError):
    """The request or the answer is wrong in a way that retrying the same call will not fix."""

    kind = ErrorKind.PERMANENT


STATUS_KIND: dict[int, ErrorKind] = {
    401: ErrorKind.AUTH,
    403: ErrorKind.AUTH,
    408: ErrorKind.TRANSIENT,
    425: ErrorKind.TRANSIENT,
    429: ErrorKind.TRANSIENT,
}

_ERROR_CLASS = {
    ErrorKind.TRANSIENT: TransientError,
    ErrorKind.AUTH: AuthError,
    ErrorKind.PERMANENT: PermanentError,
}


def kind_of_status(status: int) -> ErrorKind | None:
    """The kind of error an HTTP status means (None for success)."""
    if status < 400:
        return None
    if status in STATUS_KIND:
        return STATUS_KIND[status]
    return ErrorKind.TRANSIENT if status >= 500 else ErrorKind.PERMANENT


def error_for_status(
    status: int, message: str, retry_after: float | None = None, body: bytes = b""
) -> ChannelError:
    """The classified exception for an HTTP error status (with the answer's body, if there was one)."""
    kind = kind_of_status(status) or ErrorKind.PERMANENT
    return _ERROR_CLASS[kind](message, status=status, retry_after=retry_after, body=body)


def classify_exception(exc: BaseException) -> ChannelError:
    """The classified exception for a failure raised by the HTTP client or a connector."""
    if isinstance(exc, ChannelError):
        return exc
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)):
        return TransientError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, aiohttp.ClientResponseError):
        return error_for_status(exc.status, f"HTTP {exc.status}: {exc.message}")
    return PermanentError(f"{type(exc).__name__}: {exc}")
