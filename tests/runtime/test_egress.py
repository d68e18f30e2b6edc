"""The egress guard: what each mode reaches, checked at the address actually connected to."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from pagesmith_runtime import PermanentError
from pagesmith_runtime.egress import (
    EgressPolicy,
    EgressRefused,
    GuardedResolver,
    guarded_connector,
    guarded_session,
    refused_in_every_mode,
)

from tests.support.egress import (
    STANDIN,
    ScriptedResolver,
    Tripwire,
    serve,
    standin_and_tripwire,
    standin_policy,
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

# Reached only when private egress is allowed.
PRIVATE = {
    "private 10/8": "10.0.0.1",
    "private 172.16/12": "172.16.5.4",
    "private 192.168/16": "192.168.1.1",
    "loopback": "127.0.0.1",
    "loopback range": "127.9.9.9",
    "shared CGNAT": "100.64.0.1",
    "v6 loopback": "::1",
    "v6 unique local": "fc00::1",
    "v6 unique local fd": "fd12:3456::1",
    "mapped loopback": "::ffff:127.0.0.1",
    "mapped private": "::ffff:10.0.0.1",
}

# Refused in every mode.
NEVER = {
    "link-local": "169.254.1.1",
    "metadata AWS/GCP/Azure": "169.254.169.254",
    "metadata Alibaba": "100.100.100.200",
    "metadata Oracle": "192.0.0.192",
    "Azure wire server": "168.63.129.16",
    "v6 metadata AWS": "fd00:ec2::254",
    "v6 metadata GCP": "fd20:ce::254",
    "v6 link-local": "fe80::1",
    "v6 link-local with zone": "fe80::1%eth0",
    "mapped metadata": "::ffff:169.254.169.254",
    "mapped Azure wire server": "::ffff:168.63.129.16",
    "mapped Alibaba": "::ffff:100.100.100.200",
    "compatible metadata": "::169.254.169.254",
    "SIIT metadata": "::ffff:0:a9fe:a9fe",
    "NAT64 metadata": "64:ff9b::a9fe:a9fe",
    "NAT64 Azure wire server": "64:ff9b::a83f:8110",
    "6to4 metadata": "2002:a9fe:a9fe::1",
    "6to4 Oracle": "2002:c000:c0::",
    # Translated forms of loopback/private: no caller's real address, in any mode.
    "6to4 loopback": "2002:7f00:1::",
    "6to4 loopback host": "2002:7f00:1::1",
    "6to4 private": "2002:c0a8:101::1",
    "NAT64 loopback": "64:ff9b::7f00:1",
    "compatible loopback": "::127.0.0.1",
    "local-use NAT64": "64:ff9b:1::a9fe:a9fe",
    "v6 site-local": "fec0::1",
    "unspecified": "0.0.0.0",
    "this network": "0.1.2.3",
    "v6 unspecified": "::",
    "broadcast": "255.255.255.255",
    "multicast": "224.0.0.1",
    "multicast SSDP": "239.255.255.250",
    "v6 multicast": "ff02::1",
    "v6 global multicast": "ff0e::1",
    "documentation": "192.0.2.1",
    "documentation 3": "203.0.113.9",
    "benchmarking": "198.18.0.1",
    "reserved": "240.0.0.1",
    "v6 documentation": "2001:db8::1",
    "v6 documentation 3fff": "3fff::1",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "not an address": "not-an-ip",
}

PUBLIC_ONLY = EgressPolicy()
WITH_PRIVATE = EgressPolicy(allow_private=True)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed_in_both_modes(address: str) -> None:
    assert PUBLIC_ONLY.allows(address) and WITH_PRIVATE.allows(address)


@pytest.mark.parametrize("address", PRIVATE.values(), ids=PRIVATE.keys())
def test_private_addresses_need_the_switch(address: str) -> None:
    assert not PUBLIC_ONLY.allows(address)
    assert WITH_PRIVATE.allows(address)


@pytest.mark.parametrize("address", NEVER.values(), ids=NEVER.keys())
def test_link_local_metadata_and_non_unicast_are_refused_in_both_modes(address: str) -> None:
    assert not PUBLIC_ONLY.allows(address)
    assert not WITH_PRIVATE.allows(address)
    with pytest.raises(EgressRefused):
        WITH_PRIVATE.check_address(address)


def test_a_test_stand_in_never_unlocks_metadata() -> None:
    policy = EgressPolicy(treat_as_public=(ipaddress.ip_network("169.254.0.0/16"),))
    assert not policy.allows("169.254.169.254")
    assert standin_policy().allows(STANDIN) and not standin_policy().allows("127.0.0.1")


def test_refusal_is_permanent() -> None:
    assert issubclass(EgressRefused, PermanentError)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://168.63.129.16/machine",
        "http://192.0.0.192/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://[fec0::1]/",
        "http://[fe80::1%25eth0]/",
        "http://0.0.0.0:8000/",
        "http://224.0.0.1/",
    ],
)
@pytest.mark.parametrize("policy", [PUBLIC_ONLY, WITH_PRIVATE], ids=["public", "private"])
def test_literal_hosts_are_checked_in_every_mode(url: str, policy: EgressPolicy) -> None:
    with pytest.raises(EgressRefused):
        policy.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8787/evaluate",
        "http://[::1]:8787/evaluate",
        "http://[::ffff:127.0.0.1]/evaluate",
        "https://10.1.2.3/",
        "http://192.168.0.1/",
    ],
)
def test_private_literals_pass_only_with_the_switch(url: str) -> None:
    with pytest.raises(EgressRefused):
        PUBLIC_ONLY.check_url(url)
    WITH_PRIVATE.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pw@example.com/",
        "https://token@example.com/x",
        "http://:pw@8.8.8.8/",
        "http://@example.com/",
        "http://user:pw@127.0.0.1/",
    ],
)
@pytest.mark.parametrize("policy", [PUBLIC_ONLY, WITH_PRIVATE], ids=["public", "private"])
def test_urls_with_credentials_are_refused(url: str, policy: EgressPolicy) -> None:
    with pytest.raises(EgressRefused, match="credentials"):
        policy.check_url(url)


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
        "http://example.com:port/",
        "http://[::1/",
    ],
)
@pytest.mark.parametrize("policy", [PUBLIC_ONLY, WITH_PRIVATE], ids=["public", "private"])
def test_only_http_urls_with_a_host(url: str, policy: EgressPolicy) -> None:
    with pytest.raises(EgressRefused):
        policy.check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/evaluate",
        "http://[2606:4700:4700::1111]:8080/x",
        "https://example.com/evaluate",
        "HTTPS://Example.COM/evaluate",
        "http://localhost:8787/evaluate",  # a name: checked where it resolves
    ],
)
def test_public_literals_and_names_pass_the_url_check(url: str) -> None:
    PUBLIC_ONLY.check_url(url)


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("169.254.169.254", True),
        ("::ffff:169.254.169.254", True),
        ("fd00:ec2::254", True),
        ("168.63.129.16", True),
        ("127.0.0.1", False),  # callbacks may reach loopback when the notifier allows it
        ("10.0.0.1", False),
        ("example.com", False),  # names are judged where they resolve
    ],
)
def test_refused_in_every_mode(host: str, refused: bool) -> None:
    assert refused_in_every_mode(host) is refused


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["::ffff:10.0.0.1"],
        ["8.8.8.8", "10.0.0.1"],  # one bad answer spoils the lookup
        ["2606:4700:4700::1111", "::1"],
    ],
)
async def test_resolver_refuses_any_non_public_answer(answers: list[str]) -> None:
    resolver = GuardedResolver(PUBLIC_ONLY, inner=ScriptedResolver({"evil.example": [answers]}))
    with pytest.raises(EgressRefused, match=r"evil\.example"):
        await resolver.resolve("evil.example", 443)


async def test_resolver_refuses_link_local_even_with_private_allowed() -> None:
    inner = ScriptedResolver({"metadata.test": [["169.254.169.254"]], "lo.test": [["127.0.0.1"]]})
    resolver = GuardedResolver(WITH_PRIVATE, inner=inner)
    with pytest.raises(EgressRefused):
        await resolver.resolve("metadata.test", 80)
    assert [r["host"] for r in await resolver.resolve("lo.test", 80)] == ["127.0.0.1"]


async def test_the_real_resolver_sees_localhost_as_loopback() -> None:
    with pytest.raises(EgressRefused, match="localhost"):
        await GuardedResolver(PUBLIC_ONLY).resolve("localhost", 80)


@pytest.fixture
async def tripwire() -> AsyncIterator[Tripwire]:
    wire = await Tripwire().start()
    yield wire
    await wire.stop()


async def test_a_session_refuses_literals_at_connect_time_with_a_typed_error(
    tripwire: Tripwire,
) -> None:
    # aiohttp never asks a resolver about an IP literal: the socket factory must catch it.
    async with guarded_session(PUBLIC_ONLY) as session:
        for host in ("127.0.0.1", "[::ffff:127.0.0.1]"):
            with pytest.raises(EgressRefused):
                await session.get(f"http://{host}:{tripwire.port}/")
    await asyncio.sleep(0.05)
    assert tripwire.hits == []


async def test_a_session_refuses_a_literal_metadata_address_with_private_allowed() -> None:
    async with guarded_session(WITH_PRIVATE) as session:
        with pytest.raises(EgressRefused, match=r"169\.254\.169\.254"):
            await session.get("http://169.254.169.254/latest/meta-data/")


async def test_a_session_refuses_names_resolving_inward(tripwire: Tripwire) -> None:
    resolver = ScriptedResolver({"inward.test": [["127.0.0.1"]]})
    async with guarded_session(PUBLIC_ONLY, resolver=resolver) as session:
        with pytest.raises(EgressRefused, match=r"inward\.test"):
            await session.get(f"http://inward.test:{tripwire.port}/")
    assert tripwire.hits == []


async def test_with_private_allowed_loopback_is_reached() -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    runner, port = await serve(app, "127.0.0.1")
    try:
        async with (
            guarded_session(WITH_PRIVATE) as session,
            session.get(f"http://127.0.0.1:{port}/") as response,
        ):
            assert await response.text() == "ok"
    finally:
        await runner.cleanup()


async def test_rebinding_connects_to_the_address_that_was_vetted() -> None:
    """A name answers the stand-in public host once, then loopback: a connection goes to the
    address its own lookup vetted, and the next lookup is vetted again."""
    seen: list[str] = []

    async def ok(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="public")

    app = web.Application()
    app.router.add_get("/{tail:.*}", ok)
    runner, wire, port = await standin_and_tripwire(app)
    resolver = ScriptedResolver({"rebind.test": [[STANDIN], ["127.0.0.1"]]})
    # No DNS cache and no kept-alive connections: every request looks the name up afresh.
    connector = guarded_connector(
        standin_policy(), resolver=resolver, use_dns_cache=False, force_close=True
    )
    try:
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(f"http://rebind.test:{port}/first") as response:
                assert await response.text() == "public"
            assert resolver.lookups == ["rebind.test"]  # vetted and connected from one lookup
            with pytest.raises(EgressRefused):
                await session.get(f"http://rebind.test:{port}/second")
    finally:
        await runner.cleanup()
        await wire.stop()
    assert seen == ["/first"]
    assert wire.hits == []
