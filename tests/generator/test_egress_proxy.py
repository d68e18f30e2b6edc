"""The self-check's forward proxy: what it forwards, what it refuses, and what it connects to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from generator.adapters.egress_proxy import REFUSED_HEADER, EgressProxy

from tests.support.egress import (
    STANDIN,
    ScriptedResolver,
    Tripwire,
    serve,
    standin_and_tripwire,
    standin_policy,
)


async def exchange(proxy_url: str, raw: bytes) -> bytes:
    """Send raw bytes to the proxy, read until it closes."""
    host, port = proxy_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def get(url: str, host: str, *extra: str) -> bytes:
    lines = [f"GET {url} HTTP/1.1", f"Host: {host}", "Connection: keep-alive", *extra, "", ""]
    return "\r\n".join(lines).encode()


@pytest.fixture
async def tripwire() -> AsyncIterator[Tripwire]:
    wire = await Tripwire().start()
    yield wire
    await wire.stop()


@pytest.fixture
async def standin() -> AsyncIterator[tuple[int, list[dict[str, str]]]]:
    """An "internet" server on 127.0.0.2: /echo reports what it got, /to?url= redirects."""
    seen: list[dict[str, str]] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append({"path": request.path_qs, **dict(request.headers)})
        return web.Response(text=f"echo {request.path_qs}", headers={"Keep-Alive": "timeout=5"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner, port = await serve(app, STANDIN)
    yield port, seen
    await runner.cleanup()


@pytest.fixture
async def proxy() -> AsyncIterator[EgressProxy]:
    p = EgressProxy(standin_policy(), resolver=ScriptedResolver({"allowed.test": [[STANDIN]]}))
    await p.start()
    yield p
    await p.close()


async def test_forwards_plain_http_with_connection_close_both_ways(
    proxy: EgressProxy, standin: tuple[int, list[dict[str, str]]]
) -> None:
    port, seen = standin
    answer = await exchange(
        proxy.server,
        get(f"http://allowed.test:{port}/a?b=1", f"allowed.test:{port}", "Proxy-Connection: x"),
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b"echo /a?b=1"
    assert b"Connection: close" in head and b"Keep-Alive" not in head
    [request] = seen
    assert request["Connection"] == "close" and request["Host"] == f"allowed.test:{port}"
    assert "Proxy-Connection" not in request


async def test_forwards_a_request_body(
    proxy: EgressProxy, standin: tuple[int, list[dict[str, str]]]
) -> None:
    port, seen = standin
    raw = (
        f"POST http://{STANDIN}:{port}/post HTTP/1.1\r\nHost: {STANDIN}:{port}\r\n"
        "Content-Length: 5\r\n\r\nhello"
    ).encode()
    answer = await exchange(proxy.server, raw)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"echo /post")
    assert seen[0]["Content-Length"] == "5"


async def test_tunnels_connect_to_an_allowed_host(
    proxy: EgressProxy, standin: tuple[int, list[dict[str, str]]]
) -> None:
    port, seen = standin
    host, proxy_port = proxy.server.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(proxy_port))
    try:
        writer.write(f"CONNECT allowed.test:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        writer.write(get("/tunnelled", "allowed.test") + b"")
        await writer.drain()
        assert b"echo /tunnelled" in await asyncio.wait_for(reader.read(4096), 10)
    finally:
        writer.close()
    assert seen[0]["path"] == "/tunnelled"


@pytest.mark.parametrize(
    "target",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "[::1]:{port}",
        "169.254.169.254:80",
        "[::ffff:127.0.0.1]:{port}",
    ],
)
async def test_refuses_inward_targets_with_403_and_records_them(
    tripwire: Tripwire, target: str
) -> None:
    resolver = ScriptedResolver({"localhost": [["127.0.0.1", "::1"]]})
    proxy = EgressProxy(standin_policy(), resolver=resolver)
    await proxy.start()
    target = target.format(port=tripwire.port)
    try:
        async with proxy.scope() as scope:
            for raw in (
                get(f"http://{target}/metrics", target),
                f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode(),
            ):
                answer = await exchange(scope.server, raw)
                assert answer.startswith(b"HTTP/1.1 403"), answer
                assert f"{REFUSED_HEADER}: refused".encode() in answer
        assert len(scope.refused) == 2 and target in scope.refused[1]
    finally:
        await proxy.close()
    assert tripwire.hits == []


async def test_a_scope_lets_through_its_own_origin_only(tripwire: Tripwire) -> None:
    other = await Tripwire().start()
    proxy = EgressProxy(standin_policy())
    await proxy.start()
    try:
        async with proxy.scope([f"http://127.0.0.1:{tripwire.port}"]) as scope:
            await exchange(scope.server, get(f"http://127.0.0.1:{tripwire.port}/", "x"))
            refused = await exchange(scope.server, get(f"http://127.0.0.1:{other.port}/", "x"))
            # The browser-wide listener knows no check's origin.
            base = await exchange(proxy.server, get(f"http://127.0.0.1:{tripwire.port}/", "x"))
        assert refused.startswith(b"HTTP/1.1 403") and base.startswith(b"HTTP/1.1 403")
        assert len(tripwire.hits) == 1 and tripwire.hits[0].startswith(b"GET / HTTP/1.1")
        assert other.hits == []
        with pytest.raises(OSError):  # the scope's listener is gone with the check
            await exchange(scope.server, get(f"http://127.0.0.1:{tripwire.port}/", "x"))
    finally:
        await proxy.close()
        await other.stop()


async def test_rebinding_gains_nothing_the_vetted_address_is_the_one_connected() -> None:
    """The name answers the stand-in public host first, then loopback (on the same port)."""
    seen: list[str] = []

    async def ok(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text="public")

    app = web.Application()
    app.router.add_get("/{tail:.*}", ok)
    runner, wire, port = await standin_and_tripwire(app)
    resolver = ScriptedResolver({"rebind.test": [[STANDIN], ["127.0.0.1"]]})
    proxy = EgressProxy(standin_policy(), resolver=resolver)
    await proxy.start()
    try:
        first = await exchange(proxy.server, get(f"http://rebind.test:{port}/1", "rebind.test"))
        assert resolver.lookups == ["rebind.test"]  # one lookup, vetted and connected
        second = await exchange(proxy.server, get(f"http://rebind.test:{port}/2", "rebind.test"))
        tunnel = await exchange(
            proxy.server, f"CONNECT rebind.test:{port} HTTP/1.1\r\n\r\n".encode()
        )
    finally:
        await proxy.close()
        await runner.cleanup()
        await wire.stop()
    assert first.startswith(b"HTTP/1.1 200") and first.endswith(b"public")
    assert second.startswith(b"HTTP/1.1 403") and tunnel.startswith(b"HTTP/1.1 403")
    assert seen == ["/1"]
    assert wire.hits == []


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /relative HTTP/1.1\r\nHost: 127.0.0.2\r\n\r\n",
        b"GET https://example.com/ HTTP/1.1\r\n\r\n",
        b"GET http://user:pw@example.com/ HTTP/1.1\r\n\r\n",
        b"CONNECT nohostport HTTP/1.1\r\n\r\n",
        b"BREW\r\n\r\n",
    ],
)
async def test_anything_else_is_a_400(proxy: EgressProxy, raw: bytes) -> None:
    assert (await exchange(proxy.server, raw)).startswith(b"HTTP/1.1 400")


async def test_a_name_that_does_not_resolve_is_a_502(proxy: EgressProxy) -> None:
    answer = await exchange(proxy.server, get("http://nowhere.test/", "nowhere.test"))
    assert answer.startswith(b"HTTP/1.1 502")
