"""aiohttp client for the caller's evaluation_url, behind the egress guard."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from pagesmith_runtime import PermanentError
from pagesmith_runtime.egress import EgressPolicy, EgressRefused, guarded_session

from ..ports import CallbackResult

# The caller's answer only feeds a log line and an error reason; never read an unbounded body.
DETAIL_BYTES = 4096


class HttpCallback:
    """One POST per call, JSON body, no redirects followed (a redirect could lead inward)."""

    def __init__(self, session: aiohttp.ClientSession, *, policy: EgressPolicy) -> None:
        self._session = session
        self._policy = policy

    async def post(self, url: str, payload: dict[str, Any], *, timeout: float) -> CallbackResult:
        self._policy.check_url(url)
        try:
            async with self._session.post(
                url,
                json=payload,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                body = await _read_head(response, DETAIL_BYTES)
                text = body.decode("utf-8", errors="replace")
                return CallbackResult(status=response.status, detail=text[:500])
        except EgressRefused:
            raise
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            # e.g. "http://127.1/": aiohttp refuses legacy IPv4 forms, and will every time.
            raise PermanentError(f"invalid callback URL: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return CallbackResult(status=None, detail=f"{type(exc).__name__}: {exc}"[:500])


async def _read_head(response: aiohttp.ClientResponse, limit: int) -> bytes:
    body = b""
    while len(body) < limit and (chunk := await response.content.read(limit - len(body))):
        body += chunk
    return body


def new_session(
    policy: EgressPolicy, *, resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """A session that connects only where the egress policy allows, names and literals alike."""
    return guarded_session(policy, resolver=resolver, headers={"User-Agent": "pagesmith-notifier"})
