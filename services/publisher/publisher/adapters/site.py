"""A plain GET of a published page: no token, its own session, a timeout on every call."""

from __future__ import annotations

import aiohttp


class SiteHttpProbe:
    """Implements SiteProbe with an unauthenticated aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, *, timeout: float) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def status(self, url: str) -> int | None:
        try:
            async with self._session.get(
                url, allow_redirects=True, timeout=self._timeout
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return None
