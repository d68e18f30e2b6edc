"""The control API: injected faults, the request log, reset."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from gidgethub import BadRequest, GitHubBroken, RateLimitExceeded

from tests.forge.helpers import GH, new_repo

Control = Callable[[str], str]


async def add_fault(session: aiohttp.ClientSession, control: Control, **spec: Any) -> Any:
    async with session.post(control("/faults"), json=spec) as resp:
        assert resp.status == 201, await resp.text()
        return await resp.json()


async def test_502_once_then_normal(
    gh: GH, session: aiohttp.ClientSession, control: Control
) -> None:
    await new_repo(gh, "flaky", auto_init=True)
    await add_fault(session, control, method="GET", path="^/repos/[^/]+/[^/]+/git/ref/", status=502)
    with pytest.raises(GitHubBroken) as info:
        await gh.get("/repos/pagesmith-dev/flaky/git/ref/heads/main")
    assert info.value.status_code == 502
    assert (await gh.get("/repos/pagesmith-dev/flaky/git/ref/heads/main"))["ref"]
    async with session.get(control("/faults")) as resp:
        assert await resp.json() == []


async def test_secondary_rate_limit_sends_retry_after(
    gh: GH, session: aiohttp.ClientSession, control: Control
) -> None:
    await add_fault(
        session,
        control,
        path="^/user/repos$",
        method="POST",
        kind="secondary_rate_limit",
        retry_after=7,
        times=2,
    )
    for _ in range(2):
        with pytest.raises(BadRequest) as info:
            await new_repo(gh, "later")
        assert info.value.status_code == 403
        assert info.value.headers["retry-after"] == "7"
        assert "secondary rate limit" in str(info.value)
    assert (await new_repo(gh, "later"))["name"] == "later"


async def test_primary_rate_limit(gh: GH, session: aiohttp.ClientSession, control: Control) -> None:
    await add_fault(session, control, path="^/user$", kind="primary_rate_limit", retry_after=30)
    with pytest.raises(RateLimitExceeded) as info:
        await gh.get("/user")
    assert info.value.rate_limit.remaining == 0
    assert info.value.rate_limit.reset_datetime.timestamp() == pytest.approx(
        time.time() + 30, abs=3
    )


async def test_delay_and_custom_body(
    gh: GH, session: aiohttp.ClientSession, control: Control
) -> None:
    await add_fault(session, control, path="^/user$", delay=0.2)
    started = time.monotonic()
    assert (await gh.get("/user"))["login"] == "pagesmith-dev"
    assert time.monotonic() - started >= 0.2
    await add_fault(
        session,
        control,
        path="^/user$",
        status=418,
        body={"message": "teapot"},
        headers={"x-a": "b"},
    )
    with pytest.raises(BadRequest) as info:
        await gh.get("/user")
    assert (info.value.status_code, str(info.value), info.value.headers["x-a"]) == (
        418,
        "teapot",
        "b",
    )


async def test_invalid_fault_is_400(session: aiohttp.ClientSession, control: Control) -> None:
    for spec in ({"status": 500}, {"path": "(", "status": 500}, {"path": "x", "kind": "nope"}):
        async with session.post(control("/faults"), json=spec) as resp:
            assert resp.status == 400


async def test_request_log_counts_calls(
    gh: GH, session: aiohttp.ClientSession, control: Control
) -> None:
    await new_repo(gh, "counted", auto_init=True)
    await gh.get("/repos/pagesmith-dev/counted")
    with pytest.raises(BadRequest):
        await gh.get("/repos/pagesmith-dev/missing")
    async with session.get(control("/requests")) as resp:
        log = await resp.json()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/user/repos", 201),
        ("GET", "/repos/pagesmith-dev/counted", 200),
        ("GET", "/repos/pagesmith-dev/missing", 404),
    ]
    assert all(e["time"] and e["user"] == "pagesmith-dev" for e in log)
    async with session.get(control("/requests?method=GET&path=^/repos/")) as resp:
        assert len(await resp.json()) == 2
    async with session.delete(control("/requests")) as resp:
        assert resp.status == 204
    async with session.get(control("/requests")) as resp:
        assert await resp.json() == []


async def test_reset_wipes_everything(
    gh: GH, session: aiohttp.ClientSession, control: Control
) -> None:
    await new_repo(gh, "doomed")
    await add_fault(session, control, path="^/nothing$", status=500, times=0)
    async with session.post(control("/reset")) as resp:
        assert resp.status == 204
    async with session.get(control("/faults")) as resp:
        assert await resp.json() == []
    async with session.get(control("/requests")) as resp:
        assert await resp.json() == []
    with pytest.raises(BadRequest):
        await gh.get("/repos/pagesmith-dev/doomed")
    assert (await new_repo(gh, "doomed"))["name"] == "doomed"  # the name is free again


async def test_healthz(session: aiohttp.ClientSession, control: Control) -> None:
    async with session.get(control("/healthz")) as resp:
        assert resp.status == 200
