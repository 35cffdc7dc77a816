"""The outbound HTTP client every connector uses: one shared session, one retry policy, safe limits.

- Transient failures are retried inside the call with tenacity (a few tries, jittered back-off); the next
  scheduled poll is the retry after that.
- Responses larger than the configured limit are cut off and refused.
- Redirects are followed only within the same scheme and host; a redirect elsewhere is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from core.errors import PermanentError, TransientError, classify_exception, error_for_status

DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 3


@dataclass(frozen=True, slots=True)
class Response:
    """A complete, size-checked HTTP response."""

    status: int
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        """The body as UTF-8 text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")


class HttpClient:
    """Requests with classified errors, bounded retries, a response size limit and same-host redirects."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        attempts: int = 3,
        timeout_s: float = 10.0,
    ) -> None:
        self.session = session
        self.max_response_bytes = max_response_bytes
        self.attempts = attempts
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        max_bytes: int | None = None,
        timeout_s: float | None = None,
    ) -> Response:
        """Send a request; return a 2xx response or raise a classified ChannelError.

        max_bytes and timeout_s override the client's limits for this call (a channel's own settings).
        """
        limit = max_bytes or self.max_response_bytes
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s else self.timeout
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=0.1, max=2.0),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(method, url, headers or {}, data, params, limit, timeout)
        raise AssertionError("unreachable")

    async def _once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        params: dict[str, str] | None,
        limit: int,
        timeout: aiohttp.ClientTimeout,
    ) -> Response:
        origin = urlsplit(url)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                async with self.session.request(
                    method,
                    url,
                    headers=headers,
                    data=data,
                    params=params,
                    allow_redirects=False,
                    timeout=timeout,
                ) as resp:
                    if resp.status in (301, 302, 303, 307, 308):
                        url = self._redirect_target(origin, url, resp.headers.get("Location", ""))
                        params = None  # the Location carries its own query
                        continue
                    body = await self._read_limited(resp, limit)
                    if resp.status >= 400:
                        raise error_for_status(
                            resp.status,
                            f"HTTP {resp.status} from {origin.netloc}: {body[:200].decode('utf-8', 'replace')}",
                            _retry_after(resp.headers),
                            body,
                        )
                    return Response(resp.status, dict(resp.headers), body)
            except (aiohttp.ClientError, TimeoutError) as e:
                raise classify_exception(e) from e
        raise PermanentError(f"more than {MAX_REDIRECTS} redirects from {origin.netloc}")

    def _redirect_target(self, origin: Any, current: str, location: str) -> str:
        target = urljoin(current, location)
        parts = urlsplit(target)
        if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
            raise PermanentError(f"redirect from {origin.netloc} to {parts.scheme}://{parts.netloc} refused")
        return target

    async def _read_limited(self, resp: aiohttp.ClientResponse, limit: int) -> bytes:
        if resp.content_length is not None and resp.content_length > limit:
            raise PermanentError(f"response of {resp.content_length} bytes is over the {limit}-byte limit")
        body = bytearray()
        async for chunk in resp.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > limit:
                raise PermanentError(f"response cut off at the {limit}-byte limit")
        return bytes(body)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
