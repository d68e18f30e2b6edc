"""The README's quickstart end to end: its exact request, the stub started as make run starts it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import lxml.html
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.quickstart import readme_request, run_sh
from tests.support.receiver import CallbackReceiver
from tests.support.stack import SECRET, Stack, http_get

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
CSV = b"product,region,sales\nWidget,North,120.50\nGadget,South,80.25\nGizmo,West,200.00\n"


@pytest.fixture
async def quickstart_stack(
    amqp_url: str, tmp_path: Path, receiver: CallbackReceiver, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    # The stub gets exactly the scripts file that scripts/run.sh hands it.
    scripts = run_sh(tmp_path / "run-sh", secret=SECRET).env["LLM_STUB_SCRIPTS"]
    stack = Stack(
        amqp_url=amqp_url,
        tmp=tmp_path / "stack",
        receiver=receiver,
        extra_env={"llm-stub": {"LLM_STUB_SCRIPTS": scripts}},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        call = getattr(request.node, "rep_call", None)
        if call is None or call.failed:
            print(stack.logs())


def samples(metrics: bytes, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(metrics.decode())
        for s in family.samples
        if s.name == name
    }


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed")
async def test_the_readme_quickstart_publishes_a_working_page(
    quickstart_stack: Stack, tmp_path: Path
) -> None:
    stack = quickstart_stack
    # The README's request as its curl command sends it; only the listener's address differs.
    body = readme_request(tmp_path / "readme", secret=SECRET).body
    body["evaluation_url"] = stack.receiver.url
    status, answer = stack.post_task(body)
    assert (status, answer["status"]) == (200, "accepted"), answer

    (callback,) = await stack.receiver.wait_for(1, timeout=180)
    assert (callback["task"], callback["nonce"]) == ("hello-pagesmith", body["nonce"])

    # The stub answered with the quickstart script, and the answer was one OpenAI could give.
    log = stack.stub_requests()
    assert [(e["answered_by"], e["warnings"]) for e in log] == [("quickstart", [])]

    # The generator's browser self-check passed on the first draft: nothing repaired, nothing
    # degraded.
    status, metrics = http_get(f"http://127.0.0.1:{stack.ports['generator']}/metrics")
    assert status == 200
    assert samples(metrics, "pagesmith_selfcheck_total") == {(("outcome", "passed"),): 1.0}
    assert samples(metrics, "pagesmith_generations_total") == {
        (("outcome", "ok"), ("round", "1")): 1.0
    }

    # Pages serves the page with the total in its markup, and the data beside it.
    status, page = http_get(callback["pages_url"])
    assert status == 200
    total = lxml.html.document_fromstring(page).get_element_by_id("total-sales")
    assert total.text_content() == "400.75"
    assert http_get(callback["pages_url"] + "data.csv") == (200, CSV)
    owner_repo = callback["repo_url"].rstrip("/").split("/", 3)[3]
    status, readme = http_get(f"{stack.forge}/raw/{owner_repo}/{callback['commit_sha']}/README.md")
    assert status == 200 and b"scripted answer" in readme and b"not by a model" in readme

    # The repository is browsable and clonable as the README says.
    status, repo_page = http_get(callback["repo_url"])
    assert status == 200 and b"GitHub Pages site" in repo_page
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", callback["repo_url"] + ".git", str(clone)], check=True, timeout=60
    )
    head = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    )
    assert head.stdout.strip() == callback["commit_sha"]
    assert (clone / "data.csv").read_bytes() == CSV
    assert stack.forge_requests()  # the API request log the README points to

    # And the live page, in a browser, recomputes the same total from the served data.csv.
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            live = await browser.new_page()
            await live.goto(callback["pages_url"], wait_until="load")
            await live.wait_for_function(
                'document.querySelector("#status").textContent.startsWith("Computed")'
            )
            assert await live.text_content("#total-sales") == "400.75"
        finally:
            await browser.close()
