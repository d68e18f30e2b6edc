"""Tools for exact work, and the egress guard in front of every fetch."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from generator.adapters.fetch import GuardedResolver, HttpFetcher, check_url, is_public
from generator.handlers.task_submitted import handle_task_submitted
from generator.ports import EgressDenied, FetchFailed, ToolCall
from generator.tools import ToolBox
from pagesmith_contracts import Attachment, SiteGeneratedV1

from .conftest import FakeFetcher, chat, draft, load_request, submitted

UID = Attachment(name="uid.txt", media_type="text/plain", data=b"1066302827")
CSV = Attachment(name="data.csv", media_type="text/csv", data=b"a,b\n1,2\n3,4\n")


def call(tool: str, /, **arguments: Any) -> ToolCall:
    return ToolCall(id="call_1", name=tool, arguments=json.dumps(arguments))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://localhost:8080/x", "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/", "http://192.168.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/", "http://100.64.0.1/", "ftp://example.com/x", "file:///etc/passwd",
        "http://user:pw@example.com/", "http://metadata.google.internal/",
    ],
)  # fmt: skip
def test_egress_guard_denies(url: str) -> None:
    with pytest.raises(EgressDenied):
        check_url(url, allow_private=False)


def test_egress_guard_allows_public_urls_and_private_when_configured() -> None:
    check_url("https://data.sec.gov/api/xbrl/companyconcept/CIK0000875045/dei/x.json", False)
    check_url("http://127.0.0.1:9/", allow_private=True)
    assert is_public("8.8.8.8") and not is_public("fd00::1") and not is_public("169.254.1.1")


class MapResolver(AbstractResolver):
    """Resolves every name to one fixed address (a DNS answer the guard must judge)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [{"hostname": host, "host": self.address, "port": port, "family": family,
                 "proto": 0, "flags": 0}]  # fmt: skip

    async def close(self) -> None:
        pass


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
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_fetcher_caps_follows_redirects_and_sends_a_user_agent(origin: str) -> None:
    async with HttpFetcher.create_session(allow_private=True) as session:
        fetcher = HttpFetcher(session, allow_private=True, max_bytes=1000, timeout=5,
                              user_agent="Pagesmith test (ops@example.com)")  # fmt: skip
        result = await fetcher.fetch(f"{origin}/moved")
        assert result.status == 200 and result.url == f"{origin}/ok"
        assert json.loads(result.body) == {"ua": "Pagesmith test (ops@example.com)"}
        with pytest.raises(FetchFailed, match="larger than 1000 bytes"):
            await fetcher.fetch(f"{origin}/big")


async def test_fetcher_refuses_loopback_by_default(origin: str) -> None:
    async with HttpFetcher.create_session(allow_private=False) as session:
        fetcher = HttpFetcher(session, allow_private=False, max_bytes=1000, timeout=5,
                              user_agent="t")  # fmt: skip
        with pytest.raises(EgressDenied):
            await fetcher.fetch(f"{origin}/ok")


async def test_dns_answers_pointing_inside_are_refused(origin: str) -> None:
    port = origin.rsplit(":", 1)[1]
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(MapResolver("127.0.0.1")))
    async with aiohttp.ClientSession(connector=connector) as session:
        fetcher = HttpFetcher(session, allow_private=False, max_bytes=1000, timeout=5,
                              user_agent="t")  # fmt: skip
        with pytest.raises(EgressDenied, match="non-public"):
            await fetcher.fetch(f"http://rebind.example.com:{port}/ok")


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
