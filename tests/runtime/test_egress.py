"""The egress guard: caller-given URLs never reach private, loopback or metadata addresses."""

from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from pagesmith_runtime import PermanentError
from pagesmith_runtime.egress import (
    EgressRefused,
    GuardedResolver,
    check_url,
    guarded_connector_kwargs,
    is_public_address,
)

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "140.82.112.3",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # IPv4-mapped, judged as IPv4
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]

NOT_PUBLIC = {
    # IPv4
    "private 10/8": "10.0.0.1",
    "private 172.16/12": "172.16.5.4",
    "private 192.168/16": "192.168.1.1",
    "loopback": "127.0.0.1",
    "loopback range": "127.9.9.9",
    "link-local": "169.254.1.1",
    "metadata AWS/GCP/Azure": "169.254.169.254",
    "metadata Alibaba": "100.100.100.200",
    "metadata Oracle": "192.0.0.192",
    "Azure wire server": "168.63.129.16",
    "shared CGNAT": "100.64.0.1",
    "unspecified": "0.0.0.0",
    "this network": "0.1.2.3",
    "broadcast": "255.255.255.255",
    "multicast": "224.0.0.1",
    "multicast SSDP": "239.255.255.250",
    "documentation": "192.0.2.1",
    "benchmarking": "198.18.0.1",
    "reserved": "240.0.0.1",
    # IPv6
    "v6 loopback": "::1",
    "v6 unspecified": "::",
    "v6 link-local": "fe80::1",
    "v6 link-local with zone": "fe80::1%eth0",
    "v6 unique local": "fc00::1",
    "v6 unique local fd": "fd12:3456::1",
    "v6 metadata AWS": "fd00:ec2::254",
    "v6 site-local": "fec0::1",
    "v6 multicast": "ff02::1",
    "v6 global multicast": "ff0e::1",
    "v6 documentation": "2001:db8::1",
    "mapped loopback": "::ffff:127.0.0.1",
    "mapped private": "::ffff:10.0.0.1",
    "mapped metadata": "::ffff:169.254.169.254",
    "mapped Azure wire server": "::ffff:168.63.129.16",
    "compatible loopback": "::127.0.0.1",
    "compatible metadata": "::169.254.169.254",
    "NAT64 metadata": "64:ff9b::a9fe:a9fe",
    "NAT64 loopback": "64:ff9b::7f00:1",
    "6to4 loopback": "2002:7f00:1::1",
    "6to4 private": "2002:c0a8:101::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
}


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize("address", NOT_PUBLIC.values(), ids=NOT_PUBLIC.keys())
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)


def test_refusal_is_permanent() -> None:
    assert issubclass(EgressRefused, PermanentError)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8787/evaluate",
        "http://[::1]:8787/evaluate",
        "http://[::ffff:127.0.0.1]/evaluate",
        "http://[::ffff:7f00:1]/evaluate",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "https://10.1.2.3/",
        "http://user:pw@192.168.0.1/",
        "http://0.0.0.0:8000/",
        "http://[fe80::1%25eth0]/",
        "http://224.0.0.1/",
    ],
)
def test_private_ip_literals_are_refused(url: str) -> None:
    with pytest.raises(EgressRefused):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)  # the switch for development and tests


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://127.0.0.1:70/",
        "data:text/plain,hi",
        "javascript:alert(1)",
        "http:///no-host",
        "//example.com/evaluate",
        "example.com/evaluate",
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_only_http_urls_with_a_host(url: str, allow_private: bool) -> None:
    with pytest.raises(EgressRefused):
        check_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/evaluate",
        "http://[2606:4700:4700::1111]:8080/x",
        "https://example.com/evaluate",
        "HTTPS://Example.COM/evaluate",
        "http://localhost:8787/evaluate",  # a name: the resolver decides
    ],
)
def test_public_literals_and_names_pass_the_url_check(url: str) -> None:
    check_url(url, allow_private=False)


class FixedResolver(AbstractResolver):
    """Answers every lookup with the given addresses."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for a in self.addresses
        ]

    async def close(self) -> None:
        self.closed = True


async def test_resolver_refuses_a_name_resolving_to_loopback() -> None:
    resolver = GuardedResolver(allow_private=False)
    try:
        with pytest.raises(EgressRefused, match="localhost"):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()


async def test_resolver_allows_loopback_with_the_switch_on() -> None:
    resolver = GuardedResolver(allow_private=True)
    try:
        results = await resolver.resolve("localhost", 80, socket.AF_INET)
    finally:
        await resolver.close()
    assert {r["host"] for r in results} == {"127.0.0.1"}


@pytest.mark.parametrize(
    "addresses",
    [
        ("127.0.0.1",),
        ("169.254.169.254",),
        ("::ffff:10.0.0.1",),
        ("8.8.8.8", "10.0.0.1"),  # one bad answer spoils the lookup (rebinding tricks)
        ("2606:4700:4700::1111", "::1"),
    ],
)
async def test_resolver_refuses_any_non_public_answer(addresses: tuple[str, ...]) -> None:
    with pytest.raises(EgressRefused):
        await GuardedResolver(allow_private=False, inner=FixedResolver(*addresses)).resolve(
            "evil.example", 443
        )


async def test_resolver_passes_public_answers_through() -> None:
    inner = FixedResolver("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    resolver = GuardedResolver(allow_private=False, inner=inner)
    results = await resolver.resolve("example.com", 443)
    assert [r["host"] for r in results] == list(inner.addresses)
    assert all(r["port"] == 443 for r in results)
    await resolver.close()
    assert inner.closed


async def test_connector_kwargs_install_the_guard() -> None:
    kwargs = guarded_connector_kwargs(allow_private=False)
    assert isinstance(kwargs["resolver"], GuardedResolver)
    await kwargs["resolver"].close()
