"""The egress guard: outbound HTTP to caller-given URLs never reaches private networks.

The check runs on the addresses the connection will actually use (a resolver wrapper), so a
name that resolves differently the second time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from .errors import PermanentError

# Cloud metadata endpoints that are not covered by the private ranges.
_METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}


class EgressRefused(PermanentError):
    """The target is not a public internet address and private egress is off."""


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses; IPv4-mapped IPv6 is judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA:
        return False
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse non-HTTP schemes and private IP literals before any connection is made."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressRefused(f"refused URL {url!r}: only http(s) with a host")
    if allow_private:
        return
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return  # a name: the resolver checks what it resolves to
    if not is_public_address(parts.hostname):
        raise EgressRefused(f"refused {parts.hostname}: not a public address")


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default, then refuses any non-public address."""

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self._allow_private = allow_private
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            for result in results:
                if not is_public_address(result["host"]):
                    raise EgressRefused(f"refused {host}: resolves to a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_connector_kwargs(*, allow_private: bool) -> dict[str, Any]:
    """Keyword arguments for `aiohttp.TCPConnector` that route every lookup through the guard."""
    return {"resolver": GuardedResolver(allow_private=allow_private)}
