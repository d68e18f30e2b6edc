"""Tools for exact work, and the egress guard in front of every fetch."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from generator.adapters.fetch import HttpFetcher
from generator.handlers.task_submitted import handle_task_submitted
from generator.ports import EgressDenied, FetchFailed, ToolCall
from generator.tools import ToolBox
from pagesmith_contracts import Attachment, SiteGeneratedV1
from pagesmith_runtime import create_ops_app
from pagesmith_runtime.egress import EgressPolicy, EgressRefused
from prometheus_client import CollectorRegistry, Counter

from tests.support.egress import STANDIN, ScriptedResolver, Tripwire, serve, standin_policy

from .conftest import FakeFetcher, chat, draft, load_request, submitted

UID = Attachment(name="uid.txt", media_type="text/plain", data=b"1066302827")
CSV = Attachment(name="data.csv", media_type="text/csv", data=b"a,b\n1,2\n3,4\n")


def call(tool: str, /, **arguments: Any) -> ToolCall:
    return ToolCall(id="call_1", name=tool, arguments=json.dumps(arguments))


PUBLIC_ONLY = EgressPolicy()
WITH_PRIVATE = EgressPolicy(allow_private=True)


def fetcher_for(session: aiohttp.ClientSession, policy: EgressPolicy) -> HttpFetcher:
    return HttpFetcher(session, policy=policy, max_bytes=1000, timeout=5,
                       user_agent="Pagesmith test (ops@example.com)")  # fmt: skip


@pytest.fixture
async def origin() -> AsyncIterator[str]:
    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"ua": request.headers.get("User-Agent")})

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/ok")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/big", big)
    app.router.add_get("/moved", moved)
    runner, port = await serve(app, "127.0.0.1")
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def ops() -> AsyncIterator[str]:
    """A service's own ops endpoints, as the generator serves them on loopback."""
    registry = CollectorRegistry()
    Counter("pagesmith_secret_looking_total", "what must not be fetched", registry=registry).inc()
    runner, port = await serve(create_ops_app(registry=registry, ready=lambda: True), "127.0.0.1")
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def inside() -> AsyncIterator[Tripwire]:
    wire = await Tripwire().start("127.0.0.1")
    yield wire
    await wire.stop()


@pytest.fixture
async def outside(inside: Tripwire) -> AsyncIterator[str]:
    """A stand-in public host on 127.0.0.2 whose redirects lead inward, one hop at a time."""

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["url"])

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="outside")

    app = web.Application()
    app.router.add_get("/to", to)
    app.router.add_get("/ok", ok)
    runner, port = await serve(app, STANDIN)
    yield f"http://{STANDIN}:{port}"
    await runner.cleanup()


async def test_fetcher_caps_follows_redirects_and_sends_a_user_agent(origin: str) -> None:
    async with HttpFetcher.create_session(WITH_PRIVATE) as session:
        fetcher = fetcher_for(session, WITH_PRIVATE)
        result = await fetcher.fetch(f"{origin}/moved")
        assert result.status == 200 and result.url == f"{origin}/ok"
        assert json.loads(result.body) == {"ua": "Pagesmith test (ops@example.com)"}
        with pytest.raises(FetchFailed, match="larger than 1000 bytes"):
            await fetcher.fetch(f"{origin}/big")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_the_fetch_tool_cannot_read_the_services_own_metrics(ops: str, host: str) -> None:
    async with HttpFetcher.create_session(PUBLIC_ONLY) as session:
        with pytest.raises(EgressDenied):
            await fetcher_for(session, PUBLIC_ONLY).fetch(
                ops.replace("127.0.0.1", host) + "/metrics"
            )


async def test_the_models_fetch_call_inward_is_an_error_answer(ops: str) -> None:
    assert EgressDenied is EgressRefused  # one guard: the runtime's
    async with HttpFetcher.create_session(PUBLIC_ONLY) as session:
        box = ToolBox([UID], fetcher_for(session, PUBLIC_ONLY))
        out, ok = await box.run(call("fetch_url", url=f"{ops}/metrics", save_as="m.txt"))
    assert not ok and "refused 127.0.0.1" in json.loads(out)["error"]
    assert box.written == {}


async def test_with_the_test_switch_loopback_is_fetched(ops: str) -> None:
    async with HttpFetcher.create_session(WITH_PRIVATE) as session:
        result = await fetcher_for(session, WITH_PRIVATE).fetch(f"{ops}/metrics")
    assert b"pagesmith_secret_looking_total" in result.body


@pytest.mark.parametrize("policy", [PUBLIC_ONLY, WITH_PRIVATE], ids=["public", "private"])
@pytest.mark.parametrize(
    "url",
    [
        "http://user:pw@example.com/", "https://token@example.com/",
        "http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
        "http://168.63.129.16/", "http://[::ffff:169.254.169.254]/", "http://0.0.0.0/",
        "ftp://example.com/x", "file:///etc/passwd",
    ],
)  # fmt: skip
async def test_refused_in_every_mode_before_any_connection(policy: EgressPolicy, url: str) -> None:
    async with HttpFetcher.create_session(policy) as session:
        with pytest.raises(EgressDenied):
            await fetcher_for(session, policy).fetch(url)


@pytest.mark.parametrize(
    "hop",
    [
        "http://127.0.0.1:{port}/hop", "http://localhost:{port}/hop",
        "http://inward.test:{port}/hop", "http://user:pw@127.0.0.2:{port}/hop",
    ],
)  # fmt: skip
async def test_redirects_inward_are_refused_at_each_hop(
    outside: str, inside: Tripwire, hop: str
) -> None:
    target = hop.format(port=inside.port)
    resolver = ScriptedResolver({"inward.test": [["127.0.0.1"]], "localhost": [["127.0.0.1"]]})
    policy = standin_policy()
    async with HttpFetcher.create_session(policy, resolver=resolver) as session:
        fetcher = fetcher_for(session, policy)
        assert (await fetcher.fetch(f"{outside}/ok")).body == b"outside"  # the first hop is fine
        # Two hops: outside -> outside -> inward.
        first = f"{outside}/to?url={quote(f'{outside}/to?url={quote(target)}')}"
        with pytest.raises(EgressDenied):
            await fetcher.fetch(first)
    assert inside.hits == []


async def test_a_redirect_to_metadata_is_refused_even_with_private_allowed(outside: str) -> None:
    policy = standin_policy(allow_private=True)
    async with HttpFetcher.create_session(policy) as session:
        with pytest.raises(EgressDenied, match=r"169\.254\.169\.254"):
            await fetcher_for(session, policy).fetch(
                f"{outside}/to?url={quote('http://169.254.169.254/latest/meta-data/')}"
            )


async def test_tools_write_exact_bytes_and_answer_errors() -> None:
    fetcher = FakeFetcher(
        {"https://api.example.com/d.json": (200, "application/json", b'{"v": 1}')}
    )
    box = ToolBox([UID, CSV], fetcher)
    assert {s.name for s in box.specs()} == {"read_attachment", "copy_attachment",
                                             "convert_table", "fetch_url"}  # fmt: skip

    out, ok = await box.run(call("copy_attachment", attachment="uid.txt", path="data/uid.txt"))
    assert ok and box.written["data/uid.txt"] == UID.data
    out, ok = await box.run(
        call("fetch_url", url="https://api.example.com/d.json", save_as="d.json")
    )
    assert ok and box.written["d.json"] == b'{"v": 1}' and json.loads(out)["text"] == '{"v": 1}'
    out, ok = await box.run(call("convert_table", attachment="data.csv", sheet=None,
                                 format="json", path="data.json"))  # fmt: skip
    assert ok and json.loads(box.written["data.json"]) == [
        {"a": "1", "b": "2"},
        {"a": "3", "b": "4"},
    ]
    out, ok = await box.run(call("read_attachment", name="uid.txt", offset=4))
    assert ok and json.loads(out)["text"] == "302827"

    for bad in (
        call("copy_attachment", attachment="uid.txt", path="../x"),
        call("copy_attachment", attachment="uid.txt", path="LICENSE"),
        call("copy_attachment", attachment="nope.txt", path="x"),
        call("fetch_url", url="https://down.example.com/", save_as=None),
        call("convert_table", attachment="uid.txt", sheet=None, format="csv", path="x.csv"),
        call("read_attachment", name="uid.txt"),  # missing argument
        call("rm_rf", path="/"),
    ):
        out, ok = await box.run(bad)
        assert not ok and "error" in json.loads(out), bad
    assert set(box.written) == {"data/uid.txt", "d.json", "data.json"}


async def test_fetched_data_reaches_the_site_byte_exact(openai_script: Any, make_deps: Any) -> None:
    sec = "https://data.sec.gov/api/xbrl/companyconcept/CIK0000875045/dei/EntityCommonStockSharesOutstanding.json"
    payload = b'{"entityName": "Biogen", "units": {"shares": []}}'
    fetcher = FakeFetcher({sec: (200, "application/json", payload)})
    openai_script.add(
        chat(tool_calls=[{"name": "fetch_url", "arguments": {"url": sec, "save_as": "sec.json"}}]),
        chat(draft({"index.html": "<title>Biogen</title>", "README.md": "# x\n",
                    "data.json": '{"entityName": "Biogen", "max": {"val": 1, "fy": "2021"}}'})),
    )  # fmt: skip
    site = (
        await handle_task_submitted(
            submitted(load_request("ShareVolume")), make_deps(fetcher=fetcher)
        )
    )[0]
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert {f.path: f.content for f in site.files}["sec.json"] == payload
    assert fetcher.calls == [sec]
    tool_reply = openai_script.requests[1]["messages"][-1]
    assert tool_reply["role"] == "tool" and "Biogen" in tool_reply["content"]


async def test_tool_rounds_are_bounded(openai_script: Any, make_deps: Any) -> None:
    from .conftest import make_settings

    loop = chat(
        tool_calls=[{"name": "read_attachment", "arguments": {"name": "uid.txt", "offset": 0}}]
    )
    openai_script.add(loop, loop, chat(draft({"index.html": "<title>x</title>", "README.md": "#"})))
    deps = make_deps(settings=make_settings(max_tool_rounds=2))
    site = (await handle_task_submitted(submitted(load_request("LLMPages")), deps))[0]
    assert isinstance(site, SiteGeneratedV1)
    assert openai_script.requests[2]["tool_choice"] == "none"
    assert "tool_choice" not in openai_script.requests[1]
