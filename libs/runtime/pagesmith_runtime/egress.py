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

# Cloud metadata and host endpoints, whether or not a private range already covers them:
# AWS/GCP/Azure, Alibaba, Oracle, Azure's wire server (a public address), AWS over IPv6.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "100.100.100.200",
        "192.0.0.192",
        "168.63.129.16",
        "fd00:ec2::254",
    )
)
# IPv6 forms that carry an IPv4 address a gateway may translate to (RFC 6052, RFC 4291 §2.5.5.1).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class EgressRefused(PermanentError):
    """The target is not a public internet address and private egress is off."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses.

    IPv6 that embeds an IPv4 address (mapped, 6to4, NAT64, compatible) is judged by that address.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
    return ip not in _METADATA and ip.is_global and not ip.is_multicast


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
