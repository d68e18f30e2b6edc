"""The same task twice never makes two of anything: duplicates, re-sends, crashes, faults."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from pagesmith_contracts import TaskFailedV1

from tests.e2e.helpers import (
    add_fault,
    assert_scripted,
    commits_on_main,
    my_repos,
    owner_repo,
    script,
    wait_until,
)
from tests.support.queues import drain
from tests.support.stack import Stack, draft, http_get, http_json

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

INDEX = (
    "<!doctype html><html><head><title>Sales</title></head>"
    '<body><h1>Sales</h1><span id="total-sales">1</span></body></html>\n'
)
INDEX2 = INDEX.replace("<h1>Sales</h1>", '<h1>Sales</h1><select id="region-filter"></select>')
ROUND1 = draft({"index.html": INDEX, "README.md": "# Sales\n\nRound 1.\n"})
ROUND2 = draft({"index.html": INDEX2, "README.md": "# Sales\n\nRound 2: a filter.\n"})
BRIEF1 = "Publish a one-page sales summary that shows the total sales inside #total-sales."
BRIEF2 = "Add a #region-filter select that narrows the total to one region."
NONCE_RESENT = "019a252d-ffff-7000-8000-000000000001"
NONCE_ROUND2 = "019a2530-e570-7496-8bf5-46d73aa1848c"


def parse_time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


async def test_duplicate_post_resent_round1_and_round2_to_the_newest(stack: Stack) -> None:
    # Round 1 answers are only for round-1 prompts (which quote the brief's #total-sales).
    script(stack, [ROUND2], match="#region-filter", repeat_last=True)
    script(stack, [ROUND1], match="#total-sales", repeat_last=True)

    # --- the identical request twice, quickly: one repository, one round commit, one SHA
    body = stack.task_body(brief=BRIEF1)
    first, second = stack.post_task(body), stack.post_task(body)
    assert first[0] == second[0] == 200
    assert first[1]["task_id"] == second[1]["task_id"]
    await stack.receiver.wait_for(1, timeout=90)
    await asyncio.sleep(3)  # room for a second callback, if the duplicate makes one
    callbacks = [c for c in stack.receiver.received if c["_status"] == 200]
    assert 1 <= len(callbacks) <= 2
    assert len({c["commit_sha"] for c in callbacks}) == 1
    assert len({c["repo_url"] for c in callbacks}) == 1
    (repo,) = my_repos(stack)
    first_repo = owner_repo(callbacks[0])
    assert repo["full_name"] == first_repo
    commits = commits_on_main(stack, first_repo)
    assert len(commits) == 2  # auto_init + one round commit
    assert commits[0]["sha"] == callbacks[0]["commit_sha"]
    stack.receiver.received.clear()

    # --- round 1 re-sent with a new nonce: a new repository, suffixed, created after the request
    resent_at = datetime.now(UTC).replace(microsecond=0)
    await asyncio.sleep(1.1)  # created_at has one-second resolution
    resent = stack.task_body(brief=BRIEF1, nonce=NONCE_RESENT)
    assert stack.post_task(resent)[0] == 200
    (cb_resent,) = await stack.receiver.wait_for(1, timeout=90)
    assert cb_resent["nonce"] == NONCE_RESENT
    newest = owner_repo(cb_resent)
    assert newest == f"{first_repo}-2"
    assert parse_time(stack.github(f"/repos/{newest}")["created_at"]) >= resent_at
    assert len(my_repos(stack)) == 2
    assert len(commits_on_main(stack, first_repo)) == 2  # the first repository is untouched
    stack.receiver.received.clear()

    # --- a later round 2 (sent twice, quickly) goes to the newest repository, one commit
    round2 = stack.task_body(round=2, nonce=NONCE_ROUND2, brief=BRIEF2)
    assert stack.post_task(round2)[0] == stack.post_task(round2)[0] == 200
    cb2 = (await stack.receiver.wait_for(1, timeout=90))[0]
    await asyncio.sleep(3)
    assert {c["commit_sha"] for c in stack.receiver.received} == {cb2["commit_sha"]}
    assert cb2["repo_url"] == cb_resent["repo_url"]
    commit2 = stack.github(f"/repos/{newest}/git/commits/{cb2['commit_sha']}")
    assert [p["sha"] for p in commit2["parents"]] == [cb_resent["commit_sha"]]
    assert len(commits_on_main(stack, newest)) == 3
    assert len(commits_on_main(stack, first_repo)) == 2
    assert len(my_repos(stack)) == 2
    assert b'id="region-filter"' in http_get(cb2["pages_url"])[1]
    assert_scripted(stack)


async def test_round2_for_an_unknown_task_fails_without_a_repository(stack: Stack) -> None:
    # Another caller's round 1 of the same task name: not this (email, task)'s repository.
    script(stack, [ROUND1], match="#total-sales")
    other = stack.task_body(brief=BRIEF1, email="someone-else@example.com")
    assert stack.post_task(other)[0] == 200
    (theirs,) = await stack.receiver.wait_for(1, timeout=90)
    assert len(my_repos(stack)) == 1
    await drain(stack.amqp_url, "pagesmith.outcomes")
    stack.receiver.received.clear()
    writes_before = [r for r in stack.forge_requests() if r["method"] != "GET"]
    stub_calls_before = len(stack.stub_requests())

    body = stack.task_body(round=2, nonce=NONCE_ROUND2, brief=BRIEF2)
    status, answer = stack.post_task(body)
    assert status == 200

    failed: list[TaskFailedV1] = []

    async def collect() -> bool:
        events = await drain(stack.amqp_url, "pagesmith.outcomes")
        failed.extend(e for e in events if isinstance(e, TaskFailedV1))
        return bool(failed)

    deadline = time.monotonic() + 30
    while not await collect():
        assert time.monotonic() < deadline, "no task.failed in pagesmith.outcomes"
        await asyncio.sleep(0.3)
    (event,) = failed
    assert event.stage == "publisher"
    assert event.subject == answer["task_id"]
    assert event.task is not None and event.task.round == 2
    assert "round-1 repository" in event.reason

    await asyncio.sleep(1.5)
    (repo,) = my_repos(stack)
    assert repo["html_url"] == theirs["repo_url"]
    assert len(commits_on_main(stack, repo["full_name"])) == 2
    assert [r for r in stack.forge_requests() if r["method"] != "GET"] == writes_before
    assert stack.receiver.received == []
    assert len(stack.stub_requests()) == stub_calls_before


@pytest.mark.pages_build_seconds(5)
async def test_publisher_kill9_right_after_its_commit_commits_once(stack: Stack) -> None:
    script(stack, [ROUND1], match="#total-sales")
    assert stack.post_task(stack.task_body(brief=BRIEF1))[0] == 200

    def ref_updated() -> bool:
        log = http_json(
            "GET", f"{stack.forge}/_forge/requests?method=PATCH&path=/git/refs/heads/main$"
        )
        return any(e["status"] == 200 for e in log)

    await wait_until(ref_updated, timeout=60, every=0.01)
    stack.procs["publisher"].kill()
    assert stack.receiver.received == []

    stack.restart("publisher")
    (callback,) = await stack.receiver.wait_for(1, timeout=90)
    full = owner_repo(callback)
    commits = commits_on_main(stack, full)
    assert len(commits) == 2  # auto_init + exactly one round commit
    assert commits[0]["sha"] == callback["commit_sha"]
    patches = http_json("GET", f"{stack.forge}/_forge/requests?method=PATCH")
    assert len(patches) == 1  # the redelivery found its commit and did not commit again
    assert len(my_repos(stack)) == 1
    assert_scripted(stack)


async def test_forge_faults_on_commit_pages_and_builds_are_ridden_out(stack: Stack) -> None:
    add_fault(stack, method="POST", path=r"^/repos/[^/]+/[^/]+/git/commits$", status=502)
    add_fault(
        stack,
        method="POST",
        path=r"^/repos/[^/]+/[^/]+/pages$",
        kind="secondary_rate_limit",
        retry_after=1,
    )
    # Beyond the two: a primary rate limit, and a Pages build that errors once.
    add_fault(
        stack,
        method="GET",
        path=r"^/repos/[^/]+/[^/]+/commits$",
        kind="primary_rate_limit",
        retry_after=1,
    )
    add_fault(stack, path=r"^/repos/[^/]+/sum-of-sales", kind="pages_build_error")
    script(stack, [ROUND1], match="#total-sales")
    started = time.monotonic()
    assert stack.post_task(stack.task_body(brief=BRIEF1))[0] == 200
    (callback,) = await stack.receiver.wait_for(1, timeout=90)
    print(f"POST-to-callback with faults: {time.monotonic() - started:.2f}s")

    log = stack.forge_requests()
    commit_posts = [e["status"] for e in log if e["path"].endswith("/git/commits")]
    pages_posts = [
        e["status"] for e in log if e["method"] == "POST" and e["path"].endswith("/pages")
    ]
    assert commit_posts == [502, 201]
    assert pages_posts == [403, 201]
    listings = [e["status"] for e in log if e["path"].endswith("/commits")]
    assert listings[:2] == [403, 200]
    rebuilds = [e for e in log if e["method"] == "POST" and e["path"].endswith("/pages/builds")]
    assert len(rebuilds) == 1  # the errored build was asked for again, once
    full = owner_repo(callback)
    commits = commits_on_main(stack, full)
    assert len(commits) == 2
    assert commits[0]["sha"] == callback["commit_sha"]
    assert http_get(callback["pages_url"])[0] == 200
    assert_scripted(stack)


async def test_fresh_repo_lag_and_a_duplicate_make_one_repo_and_one_commit(stack: Stack) -> None:
    # For 2 s after creation the forge answers 404 for the repo and 409 for its git data,
    # as GitHub's replicas do; the duplicate's probe then misses the twin's new repository.
    forge = stack.procs["forge"]
    forge.stop()
    lagging = stack._spec("forge")
    lagging.env["FORGE_LAG_SECONDS"] = "2"
    stack.procs["forge"] = lagging.start().wait_ready(60)

    script(stack, [ROUND1], match="#total-sales", repeat_last=True)
    body = stack.task_body(brief=BRIEF1)
    assert stack.post_task(body)[0] == stack.post_task(body)[0] == 200
    await stack.receiver.wait_for(1, timeout=90)
    await asyncio.sleep(3)
    callbacks = [c for c in stack.receiver.received if c["_status"] == 200]
    assert len({c["commit_sha"] for c in callbacks}) == 1
    (repo,) = my_repos(stack)
    commits = commits_on_main(stack, repo["full_name"])
    assert len(commits) == 2
    assert commits[0]["sha"] == callbacks[0]["commit_sha"]
    log = stack.forge_requests()
    assert any(e["status"] == 409 for e in log), "the lag was never seen"
    assert_scripted(stack)


@pytest.mark.pages_build_seconds(4)
async def test_round1_replayed_after_round2_is_answered_at_once(stack: Stack) -> None:
    script(stack, [ROUND2], match="#region-filter", repeat_last=True)
    script(stack, [ROUND1], match="#total-sales", repeat_last=True)
    body1 = stack.task_body(brief=BRIEF1)
    assert stack.post_task(body1)[0] == 200
    (cb1,) = await stack.receiver.wait_for(1, timeout=90)
    stack.receiver.received.clear()
    assert stack.post_task(stack.task_body(round=2, nonce=NONCE_ROUND2, brief=BRIEF2))[0] == 200
    (cb2,) = await stack.receiver.wait_for(1, timeout=90)
    full = owner_repo(cb1)
    assert owner_repo(cb2) == full and cb2["commit_sha"] != cb1["commit_sha"]
    commits_before = commits_on_main(stack, full)
    stack.receiver.received.clear()

    # The exact round-1 request again. Its commit is no longer the head, so Pages will never
    # build it again: waiting for that build used to run out the publisher's whole budget.
    started = time.monotonic()
    assert stack.post_task(body1)[0] == 200
    (replay,) = await stack.receiver.wait_for(1, timeout=30)
    elapsed = time.monotonic() - started
    print(f"replayed round 1 called back after {elapsed:.1f}s")
    assert elapsed < 30
    assert replay["_status"] == 200
    assert (replay["repo_url"], replay["commit_sha"]) == (cb1["repo_url"], cb1["commit_sha"])
    assert (replay["round"], replay["nonce"]) == (1, body1["nonce"])
    assert replay["pages_url"] == cb1["pages_url"]
    assert commits_on_main(stack, full) == commits_before  # no new commit
    assert len(my_repos(stack)) == 1
    assert_scripted(stack)
