"""The egress guard: requests made for untrusted content reach only what the policy allows.

One policy judges every address a connection is about to use. aiohttp clients get it twice: a
resolver that vets each name's answers, and a socket factory that vets the address actually
connected to (IP literals never reach a resolver). What was vetted is what gets connected, so a
name that answers differently the second time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from .errors import PermanentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Refused in every mode: link-local (where metadata services live) and the cloud metadata and
# host endpoints outside it: Alibaba, Oracle, Azure's wire server (a public address), AWS and
# GCP over IPv6.
_NEVER = _nets(
    "169.254.0.0/16",
    "fe80::/10",
    "100.100.100.200/32",
    "192.0.0.192/32",
    "168.63.129.16/32",
    "fd00:ec2::/32",
    "fd20:ce::254/128",
)
# Reachable only when the policy allows private targets.
_PRIVATE = _nets(
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "100.64.0.0/10",
    "::1/128",
    "fc00::/7",
)
# IPv4 blocks that are not globally routable unicast (IANA special-purpose registry).
_V4_NOT_GLOBAL = _nets(
    "0.0.0.0/8",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
# Global unicast IPv6 is 2000::/3 less these: IETF protocol blocks (Teredo, ORCHID…),
# documentation, the returned 6bone.
_V6_GLOBAL = ipaddress.ip_network("2000::/3")
_V6_NOT_GLOBAL = _nets("2001::/23", "2001:db8::/32", "3fff::/20", "3ffe::/16")
# IPv6 forms that carry an IPv4 address a host or gateway may translate to.
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_TRANSLATED = _nets("64:ff9b::/96", "::/96", "::ffff:0:0:0/96")  # NAT64, compatible, SIIT
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_UNSPECIFIED_AND_LOOPBACK = ipaddress.ip_network("::/127")  # inside ::/96, but no IPv4 in them


class EgressRefused(PermanentError):
    """The target is not one the egress policy allows; asking again will not change that."""


def _parse(address: str) -> IPAddress:
    return ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))


def _embedded(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address | None, bool]:
    """The IPv4 address an IPv6 one carries, and whether connecting to it reaches that IPv4."""
    if ip in _MAPPED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), True
    if ip in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFF_FFFF), False
    if any(ip in n for n in _TRANSLATED) and ip not in _UNSPECIFIED_AND_LOOPBACK:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF), False
    return None, False


def _v4_public(ip: ipaddress.IPv4Address) -> bool:
    return not any(ip in n for n in (*_V4_NOT_GLOBAL, *_PRIVATE, *_NEVER)) and ip.is_global


def _v6_public(ip: ipaddress.IPv6Address) -> bool:
    return ip in _V6_GLOBAL and not any(ip in n for n in (*_V6_NOT_GLOBAL, _SIX_TO_FOUR))


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """Which addresses a request made for untrusted content may connect to.

    Link-local and metadata addresses (and their IPv4-mapped, 6to4, NAT64 and compatible forms)
    are refused always; loopback, private, ULA and CGNAT only unless `allow_private`; anything
    else must be globally routable unicast. `treat_as_public` lets tests stand a loopback
    address in for an internet host.
    """

    allow_private: bool = False
    treat_as_public: tuple[IPNetwork, ...] = ()

    def allows(self, address: str) -> bool:
        try:
            ip = _parse(address)
        except ValueError:
            return False
        embedded, reaches = (None, False)
        if isinstance(ip, ipaddress.IPv6Address):
            embedded, reaches = _embedded(ip)
        judged: IPAddress = embedded if embedded is not None else ip
        if any(a in n for a in (ip, judged) for n in _NEVER):
            return False
        if any(a in n for a in (ip, judged) for n in self.treat_as_public):
            return True
        if any(judged in n for n in _PRIVATE):
            # A translated form (6to4, NAT64) of a private address is no caller's real address.
            return self.allow_private and (embedded is None or reaches)
        if isinstance(judged, ipaddress.IPv4Address):
            return _v4_public(judged)
        return _v6_public(judged)

    def check_address(self, address: str, *, host: str | None = None) -> None:
        if not self.allows(address):
            named = f"{host} ({address})" if host and host != address else address
            raise EgressRefused(f"refused {named}: {self._rule}")

    def check_url(self, url: str) -> None:
        """http(s) with a host and no credentials; an IP literal host must be allowed."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise EgressRefused(f"refused URL: {exc}") from exc
        if parts.scheme not in ("http", "https") or not host:
            raise EgressRefused("refused URL: only http(s) with a host")
        if "@" in parts.netloc:
            raise EgressRefused("refused URL: credentials in a URL are never sent")
        if is_ip_literal(host):
            self.check_address(host)

    @property
    def _rule(self) -> str:
        if self.allow_private:
            return "link-local, metadata and non-unicast addresses are never reached"
        return "only public internet addresses are reached"


def is_ip_literal(host: str) -> bool:
    try:
        _parse(host)
    except ValueError:
        return False
    return True


def refused_in_every_mode(host: str) -> bool:
    """True for an IP literal no policy allows (link-local, metadata, multicast, unspecified…)."""
    return is_ip_literal(host) and not EgressPolicy(allow_private=True).allows(host)


def vet(policy: EgressPolicy, host: str, addresses: Iterable[str]) -> list[str]:
    """All of a name's answers, or EgressRefused if any is refused (one bad answer spoils it)."""
    answers = list(addresses)
    for address in answers:
        policy.check_address(address, host=host)
    if not answers:
        raise EgressRefused(f"refused {host}: no address")
    return answers


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's threaded resolver, then refuses a name with any refused answer."""

    def __init__(self, policy: EgressPolicy, *, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        vet(self._policy, host, (r["host"] for r in results))
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(policy: EgressPolicy) -> Callable[[tuple[Any, ...]], socket.socket]:
    """A socket factory for aiohttp that refuses to open a socket to a refused address.

    It sees the address about to be connected, literals included. Names reach it already vetted,
    so it refuses only single-address (literal) connects, which aiohttp re-raises unchanged.
    """

    def factory(addr_info: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        policy.check_address(str(sockaddr[0]))
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def guarded_connector(
    policy: EgressPolicy, *, resolver: AbstractResolver | None = None, **kwargs: Any
) -> aiohttp.TCPConnector:
    """A TCPConnector that connects only where `policy` allows, for names and literals alike."""
    return aiohttp.TCPConnector(
        resolver=GuardedResolver(policy, inner=resolver),
        socket_factory=guarded_socket_factory(policy),
        **kwargs,
    )


def guarded_session(
    policy: EgressPolicy,
    *,
    resolver: AbstractResolver | None = None,
    limit: int = 100,
    **session_kwargs: Any,
) -> aiohttp.ClientSession:
    """A ClientSession behind the guard; it ignores proxy variables from the environment."""
    return aiohttp.ClientSession(
        connector=guarded_connector(policy, resolver=resolver, limit=limit),
        trust_env=False,
        **session_kwargs,
    )
