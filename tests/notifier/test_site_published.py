"""handle_site_published with a scripted caller and a clock that never really sleeps."""

from __future__ import annotations

import json

import pytest
from notifier.app import HANDLERS
from notifier.handlers.site_published import callback_payload, handle_site_published
from notifier.ports import CallbackResult
from pagesmith_contracts import TaskNotifiedV1, decode_event
from pagesmith_runtime import PermanentError
from pagesmith_runtime.egress import EgressRefused

from .conftest import SHA, MakeHarness, site_published, task_ref

SEVEN = {
    "email": "22f3002460@ds.study.iitm.ac.in",
    "task": "ShareVolume",
    "round": 1,
    "nonce": "019a2530-e570-7496-8bf5-46d73aa1848c",
    "repo_url": "https://github.com/owner/ShareVolume",
    "commit_sha": SHA,
    "pages_url": "https://owner.github.io/ShareVolume/",
}


def test_the_handler_is_registered_for_site_published() -> None:
    assert {"site.published.v1": handle_site_published} == HANDLERS


async def test_posts_exactly_the_seven_fields_once(make_harness: MakeHarness) -> None:
    h = make_harness(200)
    event = site_published()

    [out] = await handle_site_published(event, h.deps)

    [call] = h.callback.calls
    assert call.url == "http://localhost:8787/evaluate"
    assert call.payload == SEVEN
    assert list(call.payload) == list(SEVEN)
    assert type(call.payload["round"]) is int
    assert json.dumps(call.payload["round"]) == "1"
    assert h.clock.sleeps == []
    assert isinstance(out, TaskNotifiedV1)
    assert (out.subject, out.task, out.attempts) == (event.task.task_id, event.task, 1)
    assert (out.repo_url, out.commit_sha, out.pages_url) == (
        event.repo_url,
        event.commit_sha,
        event.pages_url,
    )
    assert out.source == "pagesmith/notifier" and out.degraded is False
    assert decode_event(out.model_dump_json()) == out
    assert h.metric("pagesmith_callback_attempts_total", outcome="ok") == 1
    assert h.metric("pagesmith_tasks_total", round="1", outcome="notified") == 1


async def test_round_two_stays_an_integer(make_harness: MakeHarness) -> None:
    h = make_harness()
    await handle_site_published(site_published(task_ref(round=2)), h.deps)
    assert h.callback.calls[0].payload["round"] == 2
    assert type(h.callback.calls[0].payload["round"]) is int
    assert h.metric("pagesmith_tasks_total", round="2", outcome="notified") == 1


async def test_payload_values_are_copied_unchanged() -> None:
    event = site_published()
    assert callback_payload(event) == SEVEN
    assert callback_payload(event)["nonce"] == event.task.nonce


async def test_degraded_sites_are_notified_and_counted_as_degraded(
    make_harness: MakeHarness,
) -> None:
    h = make_harness()
    [out] = await handle_site_published(site_published(degraded=True), h.deps)
    assert isinstance(out, TaskNotifiedV1) and out.degraded is True
    assert h.metric("pagesmith_tasks_total", round="1", outcome="degraded") == 1
    assert h.callback.calls[0].payload == SEVEN  # nothing extra tells the caller


async def test_retries_after_1_2_4_8_seconds_until_200(make_harness: MakeHarness) -> None:
    h = make_harness(None, 429, 500, 503, 200)

    [out] = await handle_site_published(site_published(), h.deps)

    assert h.clock.sleeps == [1, 2, 4, 8]
    assert len(h.callback.calls) == 5
    assert all(c.payload == SEVEN for c in h.callback.calls)  # the same payload every time
    assert isinstance(out, TaskNotifiedV1) and out.attempts == 5
    assert h.metric("pagesmith_callback_attempts_total", outcome="retry") == 4
    assert h.metric("pagesmith_callback_attempts_total", outcome="ok") == 1


@pytest.mark.parametrize("status", [None, 429, 500, 502, 503, 504, 599])
async def test_retryable_answers(status: int | None, make_harness: MakeHarness) -> None:
    h = make_harness(status, 200)
    [out] = await handle_site_published(site_published(), h.deps)
    assert isinstance(out, TaskNotifiedV1) and out.attempts == 2
    assert h.clock.sleeps == [1]


@pytest.mark.parametrize("status", [201, 202, 204])
async def test_any_2xx_is_accepted(status: int, make_harness: MakeHarness) -> None:
    h = make_harness(status)
    [out] = await handle_site_published(site_published(), h.deps)
    assert isinstance(out, TaskNotifiedV1) and out.attempts == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 413, 422, 451])
async def test_4xx_other_than_429_is_final_with_the_callers_reason(
    status: int, make_harness: MakeHarness
) -> None:
    reason = '{"error": "nonce does not match any task"}'
    h = make_harness(CallbackResult(status=status, detail=reason))

    with pytest.raises(PermanentError) as info:
        await handle_site_published(site_published(), h.deps)

    assert str(info.value) == f"caller answered {status}: {reason}"
    assert len(h.callback.calls) == 1
    assert h.clock.sleeps == []
    assert h.metric("pagesmith_callback_attempts_total", outcome="rejected") == 1
    assert h.metric("pagesmith_tasks_total", round="1", outcome="rejected") == 1


async def test_a_redirect_is_final_too(make_harness: MakeHarness) -> None:
    h = make_harness(CallbackResult(status=307, detail=""))
    with pytest.raises(PermanentError, match="307"):
        await handle_site_published(site_published(), h.deps)
    assert len(h.callback.calls) == 1


async def test_retries_then_a_400_stops(make_harness: MakeHarness) -> None:
    h = make_harness(503, None, CallbackResult(status=400, detail="bad email"))
    with pytest.raises(PermanentError, match="caller answered 400: bad email"):
        await handle_site_published(site_published(), h.deps)
    assert h.clock.sleeps == [1, 2]


async def test_gives_up_at_the_deadline(make_harness: MakeHarness) -> None:
    # 10 s left: tries at t=0, 1, 3 and 7; the next wait (8 s) would end past the deadline.
    h = make_harness(*[None] * 20)
    with pytest.raises(PermanentError) as info:
        await handle_site_published(site_published(task_ref(seconds_left=10)), h.deps)
    assert len(h.callback.calls) == 4
    assert h.clock.sleeps == [1, 2, 4]
    assert "deadline" in str(info.value) and "4 attempts" in str(info.value)
    assert h.metric("pagesmith_tasks_total", round="1", outcome="late") == 1


async def test_never_sleeps_past_the_deadline(make_harness: MakeHarness) -> None:
    h = make_harness(*[503] * 50)
    h.callback.seconds_per_attempt = 2.5  # slow answers use up time too
    event = site_published(task_ref(seconds_left=120))
    with pytest.raises(PermanentError, match="deadline"):
        await handle_site_published(event, h.deps)
    assert h.clock.now <= event.task.deadline
    assert h.clock.sleeps == [1, 2, 4, 8, 16, 32]


async def test_the_last_attempt_can_still_succeed(make_harness: MakeHarness) -> None:
    h = make_harness(None, None, None, 200)
    [out] = await handle_site_published(site_published(task_ref(seconds_left=10)), h.deps)
    assert isinstance(out, TaskNotifiedV1) and out.attempts == 4


async def test_attempt_timeouts_stay_inside_the_deadline(make_harness: MakeHarness) -> None:
    h = make_harness(None, None, 200, attempt_timeout_seconds=15.0)
    await handle_site_published(site_published(task_ref(seconds_left=5)), h.deps)
    # 5 s left, then 4, then 2: never more than what is left, never under one second.
    assert [c.timeout for c in h.callback.calls] == [5.0, 4.0, 2.0]

    h = make_harness(attempt_timeout_seconds=15.0)
    await handle_site_published(site_published(task_ref(seconds_left=600)), h.deps)
    assert [c.timeout for c in h.callback.calls] == [15.0]


async def test_backoff_is_capped(make_harness: MakeHarness) -> None:
    h = make_harness(*[None] * 6, max_backoff_seconds=4.0)
    await handle_site_published(site_published(), h.deps)
    assert h.clock.sleeps == [1, 2, 4, 4, 4, 4]


async def test_already_late_still_tries_once(make_harness: MakeHarness) -> None:
    # A late answer beats none; failing that, the task ends without waiting.
    h = make_harness(200)
    [out] = await handle_site_published(site_published(task_ref(seconds_left=-30)), h.deps)
    assert isinstance(out, TaskNotifiedV1)
    assert [c.timeout for c in h.callback.calls] == [1.0]

    h = make_harness(503)
    with pytest.raises(PermanentError, match="deadline"):
        await handle_site_published(site_published(task_ref(seconds_left=-30)), h.deps)
    assert len(h.callback.calls) == 1 and h.clock.sleeps == []


async def test_refused_egress_is_permanent_and_not_retried(make_harness: MakeHarness) -> None:
    h = make_harness(EgressRefused("refused 127.0.0.1: not a public address"))
    with pytest.raises(EgressRefused):
        await handle_site_published(site_published(), h.deps)
    assert len(h.callback.calls) == 1 and h.clock.sleeps == []


async def test_time_to_callback_is_measured_from_the_request(make_harness: MakeHarness) -> None:
    h = make_harness(None, 200)
    await handle_site_published(site_published(task_ref(seconds_left=500)), h.deps)
    # Received 100 s before the clock started, then one 1 s wait.
    assert h.metric("pagesmith_time_to_callback_seconds_sum") == pytest.approx(101)
    assert h.metric("pagesmith_time_to_callback_seconds_count") == 1
