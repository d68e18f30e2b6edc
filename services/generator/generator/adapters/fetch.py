"""aiohttp -> FetchPort behind the egress guard: public addresses only, size and time caps."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from ..ports import EgressDenied, FetchFailed, FetchResult

MAX_REDIRECTS = 5


def is_public(address: str) -> bool:
    """Globally routable unicast only: no private, loopback, link-local (metadata), reserved."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


class GuardedResolver(AbstractResolver):
    """Resolves once and connects only to vetted addresses, so DNS rebinding cannot slip past."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if is_public(r["host"])]
        if not allowed:
            raise EgressDenied(f"{host} resolves only to non-public addresses")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def check_url(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressDenied("only http(s) URLs with a host can be fetched")
    if parts.username or parts.password:
        raise EgressDenied("URLs with credentials are not fetched")
    if allow_private:
        return
    host = parts.hostname
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if host.lower() in ("localhost",) or host.lower().endswith(
            (".localhost", ".internal", ".local")
        ):
            raise EgressDenied(f"{host} is not a public host") from None
        return
    if not is_public(host):
        raise EgressDenied(f"{host} is not a public address")


class HttpFetcher:
    """GET with a descriptive User-Agent, manual redirects (each hop checked), capped body."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        allow_private: bool,
        max_bytes: int,
        timeout: float,
        user_agent: str,
    ) -> None:
        self._session = session
        self._allow_private = allow_private
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"User-Agent": user_agent, "Accept": "*/*"}

    @classmethod
    def create_session(cls, allow_private: bool) -> aiohttp.ClientSession:
        resolver: Any = None if allow_private else GuardedResolver()
        connector = aiohttp.TCPConnector(resolver=resolver, limit=10)
        return aiohttp.ClientSession(connector=connector)

    async def fetch(self, url: str) -> FetchResult:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self._allow_private)
            try:
                async with self._session.get(
                    url, headers=self._headers, allow_redirects=False, timeout=self._timeout
                ) as response:
                    if (
                        response.status in (301, 302, 303, 307, 308)
                        and "Location" in response.headers
                    ):
                        url = urljoin(url, response.headers["Location"])
                        continue
                    body = await self._read(response)
                    return FetchResult(
                        url=url,
                        status=response.status,
                        content_type=response.headers.get("Content-Type", ""),
                        body=body,
                    )
            except EgressDenied:
                raise
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, EgressDenied):
                    raise exc.os_error from exc
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
