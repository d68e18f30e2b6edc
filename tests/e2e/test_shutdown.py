"""SIGTERM mid-task: every service exits within 10 s, and after a restart the task completes."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import pytest
from pagesmith_contracts import TaskFailedV1, TaskNotifiedV1

from tests.e2e.helpers import assert_scripted
from tests.support.queues import drain
from tests.support.stack import Stack, draft, http_get

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
INDEX = "<!doctype html><html><head><title>Hi</title></head><body><h1>Hi</h1></body></html>"
# Passes the task's check (#total-sales), so the self-check asks for no repair.
REDONE = INDEX.replace(
    "<h1>Hi</h1>", '<h1>Redone after a restart</h1><span id="total-sales">3</span>'
)


def sigterm_and_time(stack: Stack, name: str) -> float:
    proc = stack.procs[name]
    started = time.monotonic()
    proc.signal(signal.SIGTERM)
    assert proc.popen is not None
    code = proc.popen.wait(15)
    took = time.monotonic() - started
    assert code == 0, proc.log()
    assert took < 10, f"{name} took {took:.1f}s to exit"
    print(f"{name} exited {took:.2f}s after SIGTERM")
    return took


async def wait_until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Poll without blocking the loop: the callback receiver lives on it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("condition not met")


def chat_calls(stack: Stack) -> list[dict[str, Any]]:
    return [r for r in stack.stub_requests() if r["path"].endswith("/chat/completions")]


async def test_generator_sigterm_mid_generation_requeues(stack: Stack) -> None:
    # The first model call hangs past the grace period; the retry after restart answers at once.
    stack.script([{**draft({"index.html": REDONE}), "delay": 20}, draft({"index.html": REDONE})])
    brief = "Publish a one-page summary that shows the total sales inside #total-sales."
    assert stack.post_task(stack.task_body(brief=brief))[0] == 200
    await wait_until(lambda: len(chat_calls(stack)) >= 1)
    sigterm_and_time(stack, "generator")
    # Nothing left the stopped generator: no commit, no callback, one model call.
    assert not [r for r in stack.forge_requests() if r["path"].endswith("/git/commits")]
    assert stack.receiver.received == []
    assert len(chat_calls(stack)) == 1

    stack.restart("generator")
    (callback,) = await stack.receiver.wait_for(1, timeout=90)
    # The task was requeued and generated again (a second model call) rather than given up
    # on: a generator that degraded on SIGTERM would publish a placeholder after one call.
    calls = chat_calls(stack)
    # The first call was cut off by the SIGTERM, unanswered; the second was answered.
    assert [c["status"] for c in calls] == [None, 200]
    assert_scripted(stack)
    status, page = http_get(callback["pages_url"])
    assert status == 200 and b"Redone after a restart" in page
    outcomes = await drain(stack.amqp_url, "pagesmith.outcomes")
    notified = [e for e in outcomes if isinstance(e, TaskNotifiedV1)]
    assert [e.degraded for e in notified] == [False]
    assert not [e for e in outcomes if isinstance(e, TaskFailedV1)]


@pytest.mark.pages_build_seconds(12)
async def test_publisher_sigterm_during_pages_wait_commits_once(stack: Stack) -> None:
    stack.script([draft({"index.html": INDEX})])
    assert stack.post_task(stack.task_body())[0] == 200
    await wait_until(lambda: any(r["path"].endswith("/pages") for r in stack.forge_requests()))
    sigterm_and_time(stack, "publisher")
    stack.restart("publisher")
    (callback,) = await stack.receiver.wait_for(1, timeout=90)
    owner, repo = callback["repo_url"].rstrip("/").split("/")[-2:]
    commits = stack.github(f"/repos/{owner}/{repo}/commits?sha=main")
    # auto_init's commit plus exactly one for the round: the redelivery found its own commit.
    assert len(commits) == 2
    assert commits[0]["sha"] == callback["commit_sha"]


async def test_notifier_sigterm_while_retrying_callback(stack: Stack) -> None:
    stack.receiver.statuses = [503] * 3
    stack.script([draft({"index.html": INDEX})])
    assert stack.post_task(stack.task_body())[0] == 200
    await wait_until(lambda: len(stack.receiver.received) >= 2, timeout=60)
    sigterm_and_time(stack, "notifier")
    stack.restart("notifier")
    (callback,) = await stack.receiver.wait_for(1, timeout=90)
    assert callback["round"] == 1


async def test_gateway_sigterm_exits_promptly(stack: Stack) -> None:
    stack.script([draft({"index.html": INDEX})])
    assert stack.post_task(stack.task_body())[0] == 200
    sigterm_and_time(stack, "gateway")
    # The accepted task does not depend on the gateway any more.
    await stack.receiver.wait_for(1, timeout=90)
