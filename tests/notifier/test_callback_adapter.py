"""HttpCallback against a real loopback listener: what goes over the wire, and what never does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import stamina
import stamina.instrumentation
from aiohttp import web
from notifier.adapters.callback import HttpCallback, new_session
from notifier.handlers.site_published import Deps, handle_site_published
from notifier.metrics import NotifierMetrics
from pagesmith_contracts import TaskNotifiedV1
from pagesmith_runtime import PermanentError
from pagesmith_runtime.egress import EgressPolicy, EgressRefused
from prometheus_client import CollectorRegistry
from pytest_aiohttp import AiohttpServer

from tests.support.egress import ScriptedResolver
from tests.support.procs import free_port
from tests.support.receiver import CallbackReceiver

from .conftest import FakeClock, make_settings, site_published, task_ref

PUBLIC_ONLY = EgressPolicy()
WITH_PRIVATE = EgressPolicy(allow_private=True)  # PAGESMITH_ALLOW_PRIVATE_EGRESS=1

PAYLOAD = {
    "email": "student@example.com",
    "task": "ShareVolume",
    "round": 1,
    "nonce": "019a2530-e570-7496-8bf5-46d73aa1848c",
    "repo_url": "https://github.com/owner/ShareVolume",
    "commit_sha": "2321e82e9aef194d3050cfdb5f48bd383ba0a812",
    "pages_url": "https://owner.github.io/ShareVolume/",
}


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    r = await CallbackReceiver().start(free_port())
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
async def loopback_ok() -> AsyncIterator[HttpCallback]:
    """Private egress allowed, as in development: the receiver listens on loopback."""
    async with new_session(WITH_PRIVATE) as session:
        yield HttpCallback(session, policy=WITH_PRIVATE)


@pytest.fixture
async def guarded() -> AsyncIterator[HttpCallback]:
    """The production setting: private egress refused."""
    async with new_session(PUBLIC_ONLY) as session:
        yield HttpCallback(session, policy=PUBLIC_ONLY)


async def test_posts_json_with_exactly_the_seven_keys(
    receiver: CallbackReceiver, loopback_ok: HttpCallback
) -> None:
    result = await loopback_ok.post(receiver.url, PAYLOAD, timeout=5)

    assert result.status == 200
    assert json.loads(result.detail) == {"ok": True}
    [content_type] = receiver.content_types
    assert content_type.split(";")[0] == "application/json"
    [raw] = receiver.raw
    sent = json.loads(raw)
    assert sent == PAYLOAD
    assert sorted(sent) == sorted(PAYLOAD) and len(sent) == 7
    assert type(sent["round"]) is int


async def test_a_503_then_a_200(receiver: CallbackReceiver, loopback_ok: HttpCallback) -> None:
    receiver.statuses = [503]
    first = await loopback_ok.post(receiver.url, PAYLOAD, timeout=5)
    second = await loopback_ok.post(receiver.url, PAYLOAD, timeout=5)
    assert (first.status, second.status) == (503, 200)
    assert json.loads(first.detail) == {"ok": False}
    assert [p["_status"] for p in receiver.received] == [503, 200]
    assert receiver.raw[0] == receiver.raw[1]


async def test_the_handler_retries_through_the_adapter(
    receiver: CallbackReceiver, loopback_ok: HttpCallback
) -> None:
    receiver.statuses = [503, 502]
    task = task_ref().model_copy(update={"evaluation_url": receiver.url})
    deps = Deps(
        settings=make_settings(),
        callback=loopback_ok,
        metrics=NotifierMetrics(CollectorRegistry()),
        clock=FakeClock(),
    )
    # Real waits here (1 s, then 2 s), recorded through stamina's retry hooks.
    waits: list[float] = []
    hooks = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([*hooks, lambda d: waits.append(d.wait_for)])
    try:
        [out] = await handle_site_published(site_published(task), deps)
    finally:
        stamina.instrumentation.set_on_retry_hooks(hooks)
    assert isinstance(out, TaskNotifiedV1) and out.attempts == 3
    assert waits == [1, 2]
    assert [p["_status"] for p in receiver.received] == [503, 502, 200]
    assert len({bytes(r) for r in receiver.raw}) == 1


async def test_a_400_carries_the_callers_reason(
    receiver: CallbackReceiver, loopback_ok: HttpCallback
) -> None:
    receiver.statuses = [400]
    result = await loopback_ok.post(receiver.url, PAYLOAD, timeout=5)
    assert result.status == 400
    assert json.loads(result.detail) == {"ok": False}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_loopback_is_refused_when_private_egress_is_off(
    receiver: CallbackReceiver, guarded: HttpCallback, host: str
) -> None:
    url = receiver.url.replace("127.0.0.1", host)
    with pytest.raises(EgressRefused):
        await guarded.post(url, PAYLOAD, timeout=5)
    await asyncio.sleep(0.1)
    assert receiver.raw == []  # nothing reached the listener


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://168.63.129.16/machine",
        "http://100.100.100.200/latest/meta-data/",
        "http://192.0.0.192/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[fe80::1]/",
    ],
)
async def test_metadata_literals_are_refused_even_with_private_allowed(
    loopback_ok: HttpCallback, url: str
) -> None:
    with pytest.raises(EgressRefused):
        await loopback_ok.post(url, PAYLOAD, timeout=5)


@pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "fd00:ec2::254"])
async def test_a_name_resolving_to_link_local_is_refused_even_with_private_allowed(
    address: str,
) -> None:
    resolver = ScriptedResolver({"callback.example": [[address]]})
    async with new_session(WITH_PRIVATE, resolver=resolver) as session:
        with pytest.raises(EgressRefused, match=r"callback\.example"):
            await HttpCallback(session, policy=WITH_PRIVATE).post(
                "http://callback.example/evaluate", PAYLOAD, timeout=5
            )
    assert resolver.lookups == ["callback.example"]


async def test_a_refused_callback_fails_the_task_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolver = ScriptedResolver({"callback.example": [["169.254.169.254"]]})
    clock = FakeClock()
    # stamina waits through asyncio.sleep: any retry would show up in clock.sleeps.
    monkeypatch.setattr(asyncio, "sleep", clock.sleep)
    task = task_ref().model_copy(update={"evaluation_url": "http://callback.example/evaluate"})
    async with new_session(WITH_PRIVATE, resolver=resolver) as session:
        deps = Deps(
            settings=make_settings(allow_private_egress=True),
            callback=HttpCallback(session, policy=WITH_PRIVATE),
            metrics=NotifierMetrics(CollectorRegistry()),
            clock=clock,
        )
        with pytest.raises(PermanentError, match="refused"):
            await handle_site_published(site_published(task), deps)
    assert clock.sleeps == []  # no retry: asking again cannot change the answer


async def test_urls_with_credentials_are_never_posted(
    receiver: CallbackReceiver, loopback_ok: HttpCallback
) -> None:
    url = receiver.url.replace("http://", "http://user:pw@")
    with pytest.raises(EgressRefused, match="credentials"):
        await loopback_ok.post(url, PAYLOAD, timeout=5)
    assert receiver.raw == []


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1"])
async def test_legacy_ipv4_forms_of_loopback_are_refused(
    receiver: CallbackReceiver, guarded: HttpCallback, host: str
) -> None:
    with pytest.raises(PermanentError):
        await guarded.post(receiver.url.replace("127.0.0.1", host), PAYLOAD, timeout=5)
    assert receiver.raw == []


@pytest.mark.parametrize("host", ["127.1", "2130706433"])
async def test_urls_aiohttp_refuses_are_final(
    receiver: CallbackReceiver, loopback_ok: HttpCallback, host: str
) -> None:
    # aiohttp refuses these every time; retrying them until the deadline would only waste it.
    with pytest.raises(PermanentError, match="invalid callback URL"):
        await loopback_ok.post(receiver.url.replace("127.0.0.1", host), PAYLOAD, timeout=5)
    assert receiver.raw == []


async def test_redirects_are_not_followed(aiohttp_server: AiohttpServer) -> None:
    landed: list[str] = []

    async def evaluate(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        landed.append(request.method)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/evaluate", evaluate)
    app.router.add_route("*", "/elsewhere", elsewhere)
    server = await aiohttp_server(app)

    async with new_session(WITH_PRIVATE) as session:
        result = await HttpCallback(session, policy=WITH_PRIVATE).post(
            str(server.make_url("/evaluate")), PAYLOAD, timeout=5
        )
    assert result.status == 307
    assert landed == []


async def test_headers_and_no_trace_context_leak(aiohttp_server: AiohttpServer) -> None:
    seen: list[dict[str, str]] = []

    async def evaluate(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/evaluate", evaluate)
    server = await aiohttp_server(app)
    async with new_session(WITH_PRIVATE) as session:
        await HttpCallback(session, policy=WITH_PRIVATE).post(
            str(server.make_url("/evaluate")), PAYLOAD, timeout=5
        )
    [headers] = seen
    assert headers["User-Agent"] == "pagesmith-notifier"
    assert headers["Content-Type"] == "application/json"
    assert "traceparent" not in {k.lower() for k in headers}


async def test_a_slow_caller_times_out_as_no_answer(aiohttp_server: AiohttpServer) -> None:
    async def evaluate(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/evaluate", evaluate)
    server = await aiohttp_server(app)
    async with new_session(WITH_PRIVATE) as session:
        result = await HttpCallback(session, policy=WITH_PRIVATE).post(
            str(server.make_url("/evaluate")), PAYLOAD, timeout=0.3
        )
    assert result.status is None
    assert "Timeout" in result.detail


async def test_nobody_listening_is_no_answer(loopback_ok: HttpCallback) -> None:
    result = await loopback_ok.post(f"http://127.0.0.1:{free_port()}/evaluate", PAYLOAD, timeout=5)
    assert result.status is None
    assert "Connect" in result.detail


async def test_a_huge_answer_is_not_read_whole(aiohttp_server: AiohttpServer) -> None:
    async def evaluate(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=400)
        await response.prepare(request)
        for _ in range(64):  # 64 MiB, if anyone read it all
            await response.write(b"x" * (1 << 20))
        return response

    app = web.Application()
    app.router.add_post("/evaluate", evaluate)
    server = await aiohttp_server(app)
    async with new_session(WITH_PRIVATE) as session:
        result = await asyncio.wait_for(
            HttpCallback(session, policy=WITH_PRIVATE).post(
                str(server.make_url("/evaluate")), PAYLOAD, timeout=30
            ),
            timeout=10,
        )
    assert result.status == 400
    assert result.detail == "x" * 500
