"""aiohttp -> FetchPort behind the runtime's egress guard, with size and time caps."""

from __future__ import annotations

from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver
from pagesmith_runtime.egress import EgressPolicy, EgressRefused, guarded_session

from ..ports import FetchFailed, FetchResult

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class HttpFetcher:
    """GET with a descriptive User-Agent, manual redirects (each hop checked), capped body.

    The session's connector vets the address each hop actually connects to; the URL check
    before each hop refuses schemes, credentials and literal addresses up front.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        policy: EgressPolicy,
        max_bytes: int,
        timeout: float,
        user_agent: str,
    ) -> None:
        self._session = session
        self._policy = policy
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"User-Agent": user_agent, "Accept": "*/*"}

    @classmethod
    def create_session(
        cls, policy: EgressPolicy, *, resolver: AbstractResolver | None = None
    ) -> aiohttp.ClientSession:
        return guarded_session(policy, resolver=resolver, limit=10)

    async def fetch(self, url: str) -> FetchResult:
        for _ in range(MAX_REDIRECTS + 1):
            self._policy.check_url(url)
            try:
                async with self._session.get(
                    url, headers=self._headers, allow_redirects=False, timeout=self._timeout
                ) as response:
                    if response.status in REDIRECTS and "Location" in response.headers:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    body = await self._read(response)
                    return FetchResult(
                        url=url,
                        status=response.status,
                        content_type=response.headers.get("Content-Type", ""),
                        body=body,
                    )
            except EgressRefused:
                raise
            except aiohttp.ClientConnectorError as exc:
                raise FetchFailed(f"could not connect: {exc.os_error}") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise FetchFailed(f"fetch failed: {type(exc).__name__} {exc}") from exc
        raise FetchFailed("too many redirects")

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max_bytes:
                raise FetchFailed(f"response larger than {self._max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
