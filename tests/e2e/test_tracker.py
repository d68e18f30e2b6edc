"""The tracker end to end: real services, the live page in the real Chromium, the CLI.

A task submitted with `pagesmith submit --watch` during the test appears on the open page and
moves to `notified` without a reload; the failing cases (round 2 without round 1, a refused
callback, a callback that fails until the deadline) show `failed` with the reason in the API,
the CLI and the page.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pagesmith_contracts import SitePublishedV1, make_task_ref

from tests.support.postgres import create_database, drop_database
from tests.support.procs import BIN, command, free_port
from tests.support.receiver import CallbackReceiver
from tests.support.stack import PIPELINE, SECRET, TRACKER_TOKEN, Stack, draft
from tests.tracker.helpers import Publisher

from .helpers import script, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} is not installed (apt-get install chromium)",
)
INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sales Summary</title></head>
<body><h1>Sales Summary</h1><p>Total: <span id="total-sales">400.75</span></p></body></html>
"""
README = "# Sales Summary\n\n## Summary\nSums data.csv.\n\n## License\nMIT\n"
TRACE_URL = "http://grafana.localhost/explore?traceId={trace_id}"
# Set to a path (e.g. docs/tracker.png) to keep the page's screenshot from this run.
SCREENSHOT = os.environ.get("PAGESMITH_TRACKER_SCREENSHOT")


@pytest.fixture
def database_url() -> Iterator[str]:
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


def tracked(amqp_url: str, tmp: Path, receiver: CallbackReceiver, database_url: str) -> Stack:
    return Stack(amqp_url=amqp_url, tmp=tmp, receiver=receiver, database_url=database_url)


@pytest.fixture
async def stack(
    amqp_url: str, tmp_path: Path, receiver: CallbackReceiver, database_url: str, request
) -> AsyncIterator[Stack]:
    s = tracked(amqp_url, tmp_path, receiver, database_url)
    s.extra_env["tracker"] = {"TRACKER_TRACE_URL_TEMPLATE": TRACE_URL}
    try:
        s.start(*PIPELINE, "tracker")
        yield s
    finally:
        s.stop()
        call = getattr(request.node, "rep_call", None)
        if call is None or call.failed:
            print(s.logs())


def pagesmith(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{BIN}:/usr/bin:/bin", "COLUMNS": "200", "TRACKER_TOKEN": TRACKER_TOKEN}
    return subprocess.run(
        [command("pagesmith"), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def browser_page(url: str, viewport: dict[str, int] | None = None) -> Any:
    from playwright.async_api import async_playwright

    pw = await async_playwright().start()
    browser = await pw.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )
    page = await browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    await page.goto(url)
    await page.get_by_label("Tracker token").fill(TRACKER_TOKEN)
    await page.get_by_role("button", name="Open").click()
    await page.wait_for_selector('#live[data-state="live"]', timeout=20_000)

    async def close() -> None:
        await browser.close()
        await pw.stop()

    return page, close


async def late_callback(stack: Stack, publisher: Publisher, url: str, seconds_left: float) -> str:
    """A site.published whose deadline is `seconds_left` away, posted to the real notifier."""
    now = datetime.now(UTC)
    ref = make_task_ref(
        email="late@example.com",
        task="late-callback",
        round=1,
        nonce=str(uuid.uuid4()),
        evaluation_url=url,
        received_at=now - timedelta(minutes=10) + timedelta(seconds=seconds_left),
    )
    await publisher.event(
        SitePublishedV1(
            source="pagesmith/publisher",
            subject=ref.task_id,
            task=ref,
            repo_url=f"{stack.forge}/o/late-callback",
            commit_sha="3" * 40,
            pages_url=f"{stack.forge}/pages/o/late-callback/",
        )
    )
    return ref.task_id


def api_task(stack: Stack, task_id: str) -> dict[str, Any] | None:
    try:
        return stack.tracked(f"/api/tasks/{task_id}")  # type: ignore[no-any-return]
    except Exception:
        return None


async def failed_with(stack: Stack, task_id: str, text: str, timeout: float = 90) -> dict[str, Any]:
    def check() -> Any:
        body = api_task(stack, task_id)
        return body if body and body["task"]["state"] == "failed" else None

    body = await wait_until(check, timeout=timeout, every=0.3)
    assert text in body["task"]["failure_reason"], body["task"]
    return body  # type: ignore[no-any-return]


async def assert_failed_everywhere(stack: Stack, page: Any, task_id: str, text: str) -> None:
    """state failed with the reason: in the API, the CLI and the page."""
    await failed_with(stack, task_id, text)
    shown = pagesmith("status", task_id, PAGESMITH_TRACKER_URL=stack.tracker)
    assert shown.returncode == 0, shown.stderr
    assert "failed" in shown.stdout and text in " ".join(shown.stdout.split()), shown.stdout
    row = page.locator(f'#rows tr[data-task-id="{task_id}"]')
    await row.locator('[data-state="failed"], .reason').first.wait_for(timeout=30_000)
    await page.wait_for_function(
        '([id, text]) => { const r = document.querySelector(`#rows tr[data-task-id="${id}"]`);'
        " return r && r.dataset.state === 'failed' && r.querySelector('.reason')"
        "?.textContent.includes(text); }",
        arg=[task_id, text],
        timeout=30_000,
    )


@needs_chromium
@pytest.mark.timeout(420)
async def test_the_live_page_follows_tasks_to_notified_and_shows_failures(
    stack: Stack, tmp_path: Path
) -> None:
    script(stack, [draft({"index.html": INDEX, "README.md": README})], match=None, repeat_last=True)
    page, close = await browser_page(f"{stack.tracker}/")
    try:
        await page.evaluate("window.__sameDocument = true")
        assert await page.locator("#empty").is_visible()

        # Submitted during the test, with the CLI, which follows it live too.
        request = {
            k: v
            for k, v in stack.task_body(task="hello-pagesmith").items()
            if k not in ("secret", "nonce")
        }
        (tmp_path / "request.json").write_text(json.dumps(request))
        cli = subprocess.Popen(
            [command("pagesmith"), "submit", str(tmp_path / "request.json"), "--watch"],
            env={
                "PATH": f"{BIN}:/usr/bin:/bin",
                "COLUMNS": "160",
                "TRACKER_TOKEN": TRACKER_TOKEN,
                "GATEWAY_SECRET": SECRET,
                "PAGESMITH_GATEWAY_URL": stack.gateway,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = await asyncio.to_thread(cli.stdout.readline)  # type: ignore[union-attr]
        assert first.startswith("accepted: task "), first + cli.stderr.read()  # type: ignore[union-attr]
        task_id = first.split()[-1]
        row = page.locator(f'#rows tr[data-task-id="{task_id}"]')
        await row.wait_for(timeout=20_000)
        states = set()
        for _ in range(600):
            states.add(await row.get_attribute("data-state"))
            if "notified" in states:
                break
            await asyncio.sleep(0.1)
        assert "notified" in states, states
        assert len(states) >= 2, f"the row never changed state live: {states}"
        assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        assert await row.locator("a", has_text="Repo").get_attribute("href")
        assert await row.locator("a", has_text="Site").get_attribute("href")
        trace_id = api_task(stack, task_id)["task"]["trace_id"]  # type: ignore[index]
        assert trace_id and len(trace_id) == 32  # from the gateway's traceparent
        trace_href = await row.locator("a", has_text="Trace").get_attribute("href")
        assert trace_href == TRACE_URL.replace("{trace_id}", trace_id)
        out, err = await asyncio.to_thread(cli.communicate, timeout=60)
        assert cli.returncode == 0, out + err
        (tmp_path / "cli-watch.txt").write_text(first + out)
        print(first + out)
        for step in (
            "task.submitted.v1",
            "site.generated.v1",
            "site.published.v1",
            "task.notified.v1",
        ):
            assert step in out, out
        assert "notified:" in out

        # Keyboard: the task opens its timeline with Enter, Escape closes it.
        await row.locator("button.task-name").focus()
        await page.keyboard.press("Enter")
        await page.locator('#timeline li[data-type="task.notified.v1"]').wait_for(timeout=10_000)
        assert await page.locator("#timeline li").count() == 4
        await page.keyboard.press("Escape")
        assert await page.locator("#detail").is_hidden()

        # Round 2 of a task that never had a round 1.
        status, answer = stack.post_task(
            stack.task_body(task="never-had-round-1", round=2, nonce=str(uuid.uuid4()))
        )
        assert status == 200, answer
        no_round_1 = answer["task_id"]
        # A caller that refuses the callback with a 4xx.
        stack.receiver.statuses = [400]
        status, answer = stack.post_task(
            stack.task_body(task="refused-callback", nonce=str(uuid.uuid4()))
        )
        assert status == 200, answer
        refused = answer["task_id"]
        # A caller that answers 503 until the deadline passes.
        unavailable = await CallbackReceiver().start(free_port())
        unavailable.statuses = [503] * 100
        try:
            async with Publisher(stack.amqp_url) as publisher:
                late = await late_callback(stack, publisher, unavailable.url, seconds_left=4)
            await assert_failed_everywhere(stack, page, no_round_1, "round-1")
            await assert_failed_everywhere(stack, page, refused, "caller answered 400")
            await assert_failed_everywhere(stack, page, late, "before the deadline")
        finally:
            await unavailable.stop()
        assert len(unavailable.received) >= 2  # it was retried, not given up at once

        listed = pagesmith("tasks", "--state", "failed", PAGESMITH_TRACKER_URL=stack.tracker)
        assert listed.returncode == 0, listed.stderr
        for tid in (no_round_1, refused, late):
            assert tid in listed.stdout
        assert task_id not in listed.stdout

        await page.locator(f'#rows tr[data-task-id="{refused}"] button.task-name').click()
        await page.locator('#timeline li[data-type="task.failed.v1"]').wait_for(timeout=10_000)
        shot = tmp_path / "tracker.png"
        await page.screenshot(path=str(shot), full_page=True)
        if SCREENSHOT:
            Path(SCREENSHOT).write_bytes(shot.read_bytes())
        assert await page.evaluate("window.__sameDocument === true")
    finally:
        await close()


@needs_chromium
async def test_the_page_works_on_a_phone_and_labels_its_controls(stack: Stack) -> None:
    page, close = await browser_page(f"{stack.tracker}/", viewport={"width": 390, "height": 844})
    try:
        async with Publisher(stack.amqp_url) as publisher:
            await late_callback(stack, publisher, "http://127.0.0.1:9/evaluate", seconds_left=300)
        await page.locator("#rows tr").first.wait_for(timeout=20_000)
        # No sideways scrolling on a phone; every control has a name.
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        unlabelled = await page.evaluate(
            "[...document.querySelectorAll('input, select')]"
            ".filter(e => !e.labels.length).map(e => e.id)"
        )
        assert unlabelled == []
        # The token never appears in a URL the page requested.
        assert TRACKER_TOKEN not in page.url
        await page.get_by_role("button", name="Forget the token").click()
        assert await page.get_by_label("Tracker token").is_visible()
        assert await page.evaluate("sessionStorage.length") == 0
    finally:
        await close()


async def test_a_callback_url_the_egress_guard_refuses_shows_failed(
    amqp_url: str, tmp_path: Path, receiver: CallbackReceiver, database_url: str
) -> None:
    s = tracked(amqp_url, tmp_path, receiver, database_url)
    s.extra_env["notifier"] = {"PAGESMITH_ALLOW_PRIVATE_EGRESS": "0"}
    for name in PIPELINE:
        s.ports.setdefault(name, free_port())
    try:
        s.start("notifier", "tracker")
        async with Publisher(amqp_url) as publisher:
            # `localhost` resolves to loopback, which callbacks may not reach with the guard on.
            task_id = await late_callback(
                s, publisher, receiver.url.replace("127.0.0.1", "localhost"), 300
            )
        body = await failed_with(s, task_id, "only public internet addresses")
        assert body["task"]["failure_stage"] == "notifier"
        shown = pagesmith("status", task_id, PAGESMITH_TRACKER_URL=s.tracker)
        assert "failed" in shown.stdout, shown.stdout
        assert "only public internet addresses" in " ".join(shown.stdout.split())
        assert receiver.received == []
        if os.access(CHROMIUM, os.X_OK):
            page, close = await browser_page(f"{s.tracker}/")
            try:
                await page.wait_for_function(
                    'id => document.querySelector(`#rows tr[data-task-id="${id}"]`)'
                    "?.dataset.state === 'failed'",
                    arg=task_id,
                    timeout=20_000,
                )
                reason = await page.locator(
                    f'#rows tr[data-task-id="{task_id}"] .reason'
                ).text_content()
                assert "only public internet addresses" in (reason or "")
            finally:
                await close()
    finally:
        s.stop()
