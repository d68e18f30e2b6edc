"""The real openai client against the dev llm stub (strict like OpenAI), in-process on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from generator.adapters.llm import create_llm
from generator.handlers.repo_checked_out import handle_repo_checked_out
from generator.handlers.task_submitted import handle_task_submitted
from generator.tabular import read_xlsx, rows_to_csv
from llm_stub.app import create_app
from llm_stub.settings import StubSettings
from pagesmith_contracts import SiteGeneratedV1

from .conftest import FakeFetcher, draft, late, load_request, make_settings, submitted
from .test_round1 import LLMPAGES_FILES
from .test_round2 import INDEX_V2, checked_out


class Stub:
    def __init__(self, server: TestServer, http: ClientSession) -> None:
        self.server = server
        self.http = http
        self.base_url = str(server.make_url("/v1"))

    async def script(self, responses: list[dict[str, Any]], **extra: Any) -> None:
        body = {"responses": responses, **extra}
        async with self.http.post(self.server.make_url("/_stub/scripts"), json=body) as resp:
            assert resp.status == 201, await resp.text()

    async def requests(self) -> list[dict[str, Any]]:
        async with self.http.get(self.server.make_url("/_stub/requests")) as resp:
            return list((await resp.json())["requests"])


@pytest.fixture
async def stub() -> AsyncIterator[Stub]:
    settings = StubSettings(host="127.0.0.1", port=0, key=None, scripts=None)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    async with ClientSession() as http:
        yield Stub(server, http)
    await server.close()


@pytest.fixture
def stub_deps(stub: Stub, make_deps: Any) -> Any:
    def build(**kwargs: Any) -> Any:
        settings = make_settings(OPENAI_BASE_URL=stub.base_url)
        llm, _ = create_llm(
            api_key="sk-test", base_url=stub.base_url, model=settings.model,
            call_timeout=30, attempts=3, backoff_initial=0.01, backoff_max=0.05,
            max_completion_tokens=None,
        )  # fmt: skip
        return make_deps(settings=settings, llm=llm, **kwargs)

    return build


async def assert_clean(stub: Stub) -> list[dict[str, Any]]:
    """Every request was accepted as OpenAI would, and no scripted reply was impossible."""
    log = await stub.requests()
    for entry in log:
        assert entry["status"] == 200 or entry["answered_by"], entry
        assert entry["warnings"] == [], entry["warnings"]
    return log


async def test_demo_answer_round_trip_with_tools_offered(stub: Stub, stub_deps: Any) -> None:
    # No script: the stub's demo answer fills our strict schema, tools are on offer.
    event = submitted(load_request("LLMPages"))
    site = (await handle_task_submitted(event, stub_deps(fetcher=FakeFetcher())))[0]
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    files = {f.path: f.content for f in site.files}
    assert b"llm stub" in files["index.html"] and "uid.txt" in files
    log = await assert_clean(stub)
    body = log[0]["body"]
    assert body["response_format"]["json_schema"]["strict"] is True
    assert {t["function"]["name"] for t in body["tools"]} == {
        "read_attachment", "copy_attachment", "fetch_url"
    }  # fmt: skip
    assert all(t["function"]["strict"] is True for t in body["tools"])


async def test_tool_round_trip_spreadsheet_to_csv_in_code(stub: Stub, stub_deps: Any) -> None:
    event = submitted(load_request("Analyze"))
    fixed = next(a for a in event.attachments if a.name == "execute.py").data.decode()
    fixed = fixed.replace('"revenew"', '"revenue"')
    await stub.script(
        [
            {"tool_calls": [
                {"name": "convert_table", "arguments": {
                    "attachment": "data.xlsx", "sheet": None, "format": "csv", "path": "data.csv"}},
                {"name": "write_ci_workflow", "arguments": {
                    "path": ".github/workflows/ci.yml", "packages": ["pandas", "openpyxl"],
                    "commands": ["python execute.py > result.json"], "outputs": ["result.json"]}},
            ]},
            {"content": draft(
                {"index.html": "<html><head><title>Analyze</title></head><body>x</body></html>",
                 "README.md": "# Analyze\n", "execute.py": fixed,
                 "data.csv": "date,region\nretyped,by the model\n", "result.json": "{}"},
                edited=["execute.py"])},
        ]
    )  # fmt: skip
    site = (await handle_task_submitted(event, stub_deps(fetcher=FakeFetcher())))[0]

    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    files = {f.path: f.content for f in site.files}
    xlsx = next(a for a in event.attachments if a.name == "data.xlsx").data
    assert files["data.csv"] == rows_to_csv(next(iter(read_xlsx(xlsx).values())))
    assert files["data.csv"].count(b"\n") == 501
    assert b"revenew" not in files["execute.py"]
    assert "result.json" not in files  # the brief forbids committing it
    assert b"actions/deploy-pages@v4" in files[".github/workflows/ci.yml"]
    assert site.pages_build == "workflow"
    log = await assert_clean(stub)
    second = log[1]["body"]["messages"]
    tool_msgs = [m for m in second if m["role"] == "tool"]
    assert len(tool_msgs) == 2 and '"rows": 501' in tool_msgs[0]["content"]


async def test_repair_request_carries_the_failures(stub: Stub, stub_deps: Any) -> None:
    bad = dict(LLMPAGES_FILES, **{"about.md": "I am very curious indeed"})
    await stub.script(
        [{"content": draft(bad)}, {"content": draft({"about.md": "curious careful kind"})}]
    )
    site = (await handle_task_submitted(submitted(load_request("LLMPages")), stub_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert {f.path: f.content for f in site.files}["about.md"] == b"curious careful kind"
    log = await assert_clean(stub)
    repair = log[1]["body"]["messages"][-1]["content"]
    assert "`about.md` has 5 words; it must have exactly 3" in repair


async def test_server_errors_degrade(stub: Stub, stub_deps: Any) -> None:
    await stub.script([{"status": 500}], repeat_last=True)
    event = submitted(load_request("ShareVolume"), received_at=late(6))
    site = (await handle_task_submitted(event, stub_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and site.degraded
    assert len(await stub.requests()) == 3


async def test_refusal_degrades(stub: Stub, stub_deps: Any) -> None:
    await stub.script([{"refusal": "I can't help with that."}])
    site = (await handle_task_submitted(submitted(load_request("ShareVolume")), stub_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and site.degraded


async def test_round2_with_repo_file_tool(stub: Stub, stub_deps: Any) -> None:
    await stub.script(
        [
            {
                "tool_calls": [
                    {"name": "read_repo_file", "arguments": {"path": "index.html", "offset": 0}}
                ]
            },
            {"content": draft({"index.html": INDEX_V2, "README.md": "# Sales\n\nWith a table.\n"})},
        ]
    )
    site = (await handle_repo_checked_out(checked_out(), stub_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert {f.path for f in site.files} == {"index.html", "README.md"}
    log = await assert_clean(stub)
    assert "total-sales" in log[1]["body"]["messages"][-1]["content"]
