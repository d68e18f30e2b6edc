"""The README's quickstart through the generator, with the llm stub started as make run does."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from generator.adapters.browser import ChromiumBrowser
from generator.adapters.egress_proxy import EgressProxy
from generator.adapters.llm import create_llm
from generator.brief import read_brief
from generator.handlers.task_submitted import handle_task_submitted
from generator.validate import static_problems
from llm_stub.app import create_app
from llm_stub.settings import StubSettings
from pagesmith_contracts import SiteGeneratedV1
from pagesmith_runtime.egress import EgressPolicy

from tests.support.quickstart import ROOT, readme_request, run_sh

from .conftest import counter, make_settings, submitted

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} is not installed (apt-get install chromium); browser part skipped",
)
README_CSV = b"product,region,sales\nWidget,North,120.50\nGadget,South,80.25\nGizmo,West,200.00\n"
# Stricter than the README's own check: the right figure, computed by inline code from data.csv.
STRICT = [
    '!!document.querySelector("#total-sales")',
    'Math.abs(parseFloat(document.querySelector("#total-sales").textContent) - 400.75) < 0.01',
    'document.querySelector("#total-sales").textContent === "400.75"',
    'document.querySelector("script").textContent.includes("fetch(")',
    '!document.querySelector("script").src',
    'document.querySelector("#status").textContent.startsWith("Computed from data.csv")',
]


@pytest.fixture
async def stub_url(tmp_path: Path) -> AsyncIterator[str]:
    """The stub with the scripts file `make run` gives it."""
    scripts = Path(run_sh(tmp_path / "run", secret="s").env["LLM_STUB_SCRIPTS"])
    server = TestServer(
        create_app(StubSettings(host="127.0.0.1", port=0, key=None, scripts=scripts)),
        host="127.0.0.1",
    )
    await server.start_server()
    yield str(server.make_url(""))
    await server.close()


async def stub_log(stub_url: str) -> list[dict[str, Any]]:
    async with ClientSession() as http, http.get(f"{stub_url}/_stub/requests") as resp:
        return list((await resp.json())["requests"])


@pytest.fixture
def quickstart_deps(stub_url: str, make_deps: Any) -> Any:
    def build(**kwargs: Any) -> Any:
        settings = make_settings(OPENAI_BASE_URL=f"{stub_url}/v1", **kwargs.pop("settings", {}))
        llm, _ = create_llm(
            api_key="sk-test", base_url=f"{stub_url}/v1", model=settings.model,
            call_timeout=30, attempts=3, backoff_initial=0.1, backoff_max=1.0,
            max_completion_tokens=None,
        )  # fmt: skip
        return make_deps(settings=settings, llm=llm, **kwargs)

    return build


@pytest.fixture
async def proxy() -> AsyncIterator[EgressProxy]:
    """The generator's own egress rules: public addresses only (none answer here)."""
    p = EgressProxy(EgressPolicy(allow_private=False))
    yield p
    await p.close()


def readme_body(tmp_path: Path) -> dict[str, Any]:
    return readme_request(tmp_path / "readme", secret="s").body


def with_csv(body: dict[str, Any], csv: bytes) -> dict[str, Any]:
    url = "data:text/csv;base64," + base64.b64encode(csv).decode()
    return {**body, "attachments": [{"name": "data.csv", "url": url}]}


@needs_chromium
async def test_the_readme_example_gets_the_scripted_app_and_passes_its_self_check(
    tmp_path: Path, stub_url: str, quickstart_deps: Any, registry: Any, proxy: EgressProxy
) -> None:
    body = readme_body(tmp_path)
    event = submitted(body)
    browser = ChromiumBrowser(CHROMIUM, proxy=proxy)
    deps = quickstart_deps(settings={"selfcheck": True}, browser=browser)

    site = (await handle_task_submitted(event, deps))[0]

    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert counter(registry, "pagesmith_selfcheck_total", outcome="passed") == 1
    assert counter(registry, "pagesmith_generations_total", round="1", outcome="ok") == 1
    [entry] = await stub_log(stub_url)
    assert (entry["status"], entry["answered_by"], entry["warnings"]) == (200, "quickstart", [])

    files = {f.path: f.content for f in site.files}
    assert files["data.csv"] == README_CSV
    assert static_problems(files, read_brief(event.brief, event.checks)) == []
    page = lxml.html.document_fromstring(files["index.html"])
    assert page.get_element_by_id("total-sales").text_content() == "400.75"  # in the markup
    readme = files["README.md"].decode()
    assert "scripted answer" in readme and "not by a model" in readme
    assert body["brief"] not in readme  # or a round-2 prompt would match the script again

    report = await browser.check(files, STRICT, page="index.html", timeout=30)
    assert [(r.expression, r.passed) for r in report.results] == [(e, True) for e in STRICT]
    assert report.page_errors == report.console_errors == report.missing_files == ()
    assert report.blocked_requests == ()


@needs_chromium
async def test_the_scripted_page_computes_the_total_from_the_data_it_is_given(
    proxy: EgressProxy,
) -> None:
    # A real app, not a picture of one: other rows (a quoted comma too) give their own total.
    csv = (
        b'product,region,sales\nWidget,North,120.50\n"Gadget, large",South,80.25\n'
        b"Gizmo,West,200.00\nDoohickey,East,0.10\n"
    )
    site = scripted_files()
    browser = ChromiumBrowser(CHROMIUM, proxy=proxy)
    checks = [
        'document.querySelector("#total-sales").textContent === "400.85"',
        'document.querySelector("#row-count").textContent === "4"',
        'document.querySelector("#rows").textContent.includes("Gadget, large")',
    ]
    report = await browser.check({**site, "data.csv": csv}, checks, page="index.html", timeout=30)
    assert [r.passed for r in report.results] == [True, True, True], report.results
    assert report.page_errors == report.console_errors == ()


def scripted_files() -> dict[str, bytes]:
    """The files of the shipped script, as the stub sends them."""
    doc = json.loads((ROOT / "dev/llm-stub/scripts/quickstart.json").read_text())
    [script] = doc["scripts"]
    [reply] = script["responses"]
    return {f["path"]: f["content"].encode() for f in reply["content"]["files"]}


@pytest.mark.parametrize("change", ["other data", "another brief"])
async def test_anything_else_gets_the_labelled_placeholder(
    change: str, tmp_path: Path, stub_url: str, quickstart_deps: Any
) -> None:
    body = readme_body(tmp_path)
    if change == "other data":
        body = with_csv(body, README_CSV + b"Doohickey,East,0.10\n")
    else:
        body = {**body, "brief": body["brief"].replace("#total-sales", "#sales-total")}

    site = (await handle_task_submitted(submitted(body), quickstart_deps()))[0]

    [entry] = await stub_log(stub_url)
    assert entry["answered_by"] == "demo"
    index = {f.path: f.content for f in site.files}["index.html"]
    assert b"llm stub's demo answer" in index
