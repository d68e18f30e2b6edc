"""pagesmith-tracker as a real process on the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest
from pagesmith_runtime import TRACKER

from tests.runtime.helpers import take_all
from tests.support.procs import command

from .helpers import TOKEN, TRACEPARENT, Stream, api, eventually, hours_ago, story, task_in

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def test_records_a_task_and_its_timeline_with_its_trace(trackers, publisher) -> None:
    tracker = trackers(TRACKER_TRACE_URL_TEMPLATE="http://grafana.test/explore?trace={trace_id}")
    s = story()
    headers = {"traceparent": TRACEPARENT}
    for event in (s.submitted(), s.generated(), s.published(), s.notified()):
        await publisher.event(event, headers=headers)
    body = await task_in(tracker.url, s.ref.task_id, state="notified")
    task = body["task"]
    assert task["email"] == "student@example.com" and task["round"] == 1
    assert task["nonce"] == s.ref.nonce
    assert task["outcome"] == "notified" and task["stage"] == "notifier"
    assert task["pages_url"] == "https://o.forge.example/ShareVolume/"
    assert task["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert task["trace_url"] == "http://grafana.test/explore?trace=4bf92f3577b34da6a3ce929d0e0e4736"
    assert task["received_at"] and task["deadline"] and task["finished_at"]
    assert [e["type"] for e in body["timeline"]] == [
        "task.submitted.v1",
        "site.generated.v1",
        "site.published.v1",
        "task.notified.v1",
    ]
    assert [e["stage"] for e in body["timeline"]] == [
        "gateway",
        "generator",
        "publisher",
        "notifier",
    ]
    assert body["timeline"][1]["detail"]["files"] == 1


async def test_redelivered_and_reordered_events_never_corrupt_the_row(tracker, publisher) -> None:
    s = story()
    published = s.published()
    # site.published before site.generated, then the task itself, then a redelivery.
    for event in (published, s.generated(), s.submitted(), published):
        await publisher.event(event)
    body = await eventually(
        lambda: (
            (b := api(tracker.url, f"/api/tasks/{s.ref.task_id}")[1])
            and len(b.get("timeline", [])) == 3
            and b
        )
    )
    assert (body["task"]["state"], body["task"]["stage"]) == ("published", "notifier")
    await publisher.event(s.notified())
    await task_in(tracker.url, s.ref.task_id, state="notified")
    await publisher.event(s.failed("a redelivery whose callback was refused"))
    body = await eventually(
        lambda: (
            (b := api(tracker.url, f"/api/tasks/{s.ref.task_id}")[1])
            and len(b["timeline"]) == 5
            and b
        )
    )
    assert body["task"]["state"] == "notified" and body["task"]["failure_reason"] is None
    assert sorted(e["type"] for e in body["timeline"]).count("site.published.v1") == 1


async def test_a_failed_task_shows_its_stage_and_reason(tracker, publisher) -> None:
    s = story(round_=2)
    await publisher.event(s.submitted())
    await publisher.event(
        s.failed("no round-1 repository for this email and task").model_copy(
            update={"stage": "publisher", "source": "pagesmith/publisher"}
        )
    )
    task = (await task_in(tracker.url, s.ref.task_id, state="failed"))["task"]
    assert (task["failure_stage"], task["stage"], task["outcome"]) == (
        "publisher",
        "publisher",
        "failed",
    )
    assert task["failure_reason"] == "no round-1 repository for this email and task"


async def test_fields_and_types_the_contracts_do_not_know_yet_are_recorded(
    tracker, publisher
) -> None:
    s = story()
    selfcheck = {"outcome": "passed", "passed": 3, "failed": [], "unverified": 1}
    await publisher.event(s.generated(), selfcheck=selfcheck)
    await publisher.raw(
        {
            "id": str(uuid.uuid4()),
            "type": "task.cancelled.v1",
            "subject": s.ref.task_id,
            "source": "pagesmith/x",
        },
        routing_key="task.cancelled.v1",
    )
    body = await eventually(
        lambda: (
            (b := api(tracker.url, f"/api/tasks/{s.ref.task_id}")[1])
            and len(b.get("timeline", [])) == 2
            and b
        )
    )
    assert body["task"]["selfcheck"] == selfcheck
    assert {e["type"] for e in body["timeline"]} == {"site.generated.v1", "task.cancelled.v1"}


async def test_an_unreadable_message_is_dead_lettered_and_never_becomes_a_failure(
    tracker, publisher, amqp_url
) -> None:
    await publisher.raw(b"\xff not an event", routing_key="junk.v1")
    s = story()
    await publisher.event(s.submitted())
    await task_in(tracker.url, s.ref.task_id)
    await eventually(lambda: tracker.log().count("unreadable message sent to the DLQ"))
    await asyncio.sleep(0.5)
    assert [m.body for m in await take_all(amqp_url, TRACKER.dlq)] == [b"\xff not an event"]
    # The tracker publishes nothing: no task.failed for a message it could not read.
    assert await take_all(amqp_url, "pagesmith.outcomes") == []


async def test_the_api_needs_the_token_and_answers_json_errors(tracker) -> None:
    for token in (None, "wrong-token-000000000", ""):
        status, body = api(tracker.url, "/api/tasks", token=token)
        assert (status, body["error"]) == (401, "missing or wrong bearer token")
    req = urllib.request.Request(
        f"{tracker.url}/api/tasks", headers={"Authorization": f"Basic {TOKEN}"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 401 and info.value.headers["WWW-Authenticate"].startswith("Bearer")
    assert api(tracker.url, "/api/tasks/no-such-task")[0] == 404
    assert api(tracker.url, "/api/nothing-here")[0] == 404
    status, body = api(tracker.url, "/api/tasks", method="POST")
    assert (status, body["status"]) == (405, 405)
    for query in (
        "state=lost",
        "round=two",
        "round=99999999999",
        "since=yesterday",
        "since=99999999999999d",
        "limit=0",
        "cursor=%%%",
        "colour=red",
    ):
        status, body = api(tracker.url, f"/api/tasks?{query}")
        assert status == 400 and body["error"], query
    assert api(tracker.url, "/api/tasks/events?since=-3")[0] == 400
    assert api(tracker.url, f"/api/tasks/events?since={2**64}")[0] == 400
    # The page and the probes need no token; the page holds no data.
    assert api(tracker.url, "/healthz", token=None)[0] == 200


async def test_lists_filter_and_page_by_cursor(tracker, publisher) -> None:
    a = [story(email="a@example.com", task="alpha", received_at=hours_ago(i)) for i in range(5)]
    b = story(email="b@example.com", task="beta", round_=2, received_at=hours_ago(0.1))
    old = story(email="a@example.com", task="alpha", received_at=hours_ago(48))
    for s in (*a, old):
        await publisher.event(s.submitted())
    await publisher.event(b.failed("boom"))
    await eventually(lambda: len(api(tracker.url, "/api/tasks?limit=200")[1]["tasks"]) == 7)

    def ids(query: str) -> list[str]:
        status, body = api(tracker.url, f"/api/tasks?{query}")
        assert status == 200, body
        return [t["task_id"] for t in body["tasks"]]

    assert ids("email=b@example.com") == [b.ref.task_id]
    assert ids("state=failed") == [b.ref.task_id]
    assert ids("state=failed,submitted&round=2") == [b.ref.task_id]
    assert ids("task=alpha&since=24h") == [s.ref.task_id for s in a]  # newest first
    assert old.ref.task_id in ids("task=alpha&since=3d")
    pages, cursor = [], ""
    while True:
        _, body = api(tracker.url, f"/api/tasks?task=alpha&limit=2{cursor}")
        pages.append([t["task_id"] for t in body["tasks"]])
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [i for page in pages for i in page] == [s.ref.task_id for s in (*a, old)]


async def test_openapi_describes_every_route_and_status(tracker) -> None:
    from aiohttp import web
    from tracker.app import create_app
    from tracker.settings import TrackerSettings

    status, doc = api(tracker.url, "/api/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.1")
    app: web.Application = create_app(TrackerSettings(TRACKER_TOKEN=TOKEN))
    routes = {
        (r.method.lower(), r.resource.canonical)
        for r in app.router.routes()
        if r.method != "HEAD" and r.resource is not None
    }
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented
    for path in ("/api/tasks", "/api/tasks/{task_id}", "/api/tasks/events", "/api/openapi.json"):
        assert "401" in doc["paths"][path]["get"]["responses"], path
    assert "404" in doc["paths"]["/api/tasks/{task_id}"]["get"]["responses"]
    assert "400" in doc["paths"]["/api/tasks"]["get"]["responses"]


async def test_the_stream_is_live_catches_up_and_beats(tracker, publisher) -> None:
    s = story()
    async with (
        Stream(tracker.url) as everything,
        Stream(tracker.url, task_id=s.ref.task_id) as mine,
    ):
        other = story()
        await publisher.event(other.submitted())
        await publisher.event(s.submitted())
        await publisher.event(s.generated())
        await eventually(lambda: len(everything.changes()) == 3)
        await eventually(lambda: len(mine.changes()) == 2)
        assert {c["task"]["task_id"] for c in mine.changes()} == {s.ref.task_id}
        assert [c["event"]["type"] for c in mine.changes()] == [
            "task.submitted.v1",
            "site.generated.v1",
        ]
        assert mine.changes()[-1]["task"]["state"] == "generated"
        seqs = [c["seq"] for c in everything.changes()]
        assert seqs == sorted(seqs)
        await eventually(lambda: everything.comments >= 1, timeout=5)  # `: ping` heartbeat
    # A client that saw only the first change replays the rest after reconnecting.
    async with Stream(tracker.url, last_event_id=seqs[0]) as again:
        await eventually(lambda: len(again.changes()) == 2)
        assert [c["seq"] for c in again.changes()] == seqs[1:]


async def test_every_replica_streams_what_any_replica_wrote(trackers, publisher) -> None:
    first, second = trackers(wait=False), trackers(wait=False)  # started at once: one migration
    first.proc.wait_ready(60)
    second.proc.wait_ready(60)
    async with Stream(first.url) as a, Stream(second.url) as b:
        stories = [story() for _ in range(6)]
        for s in stories:
            await publisher.event(s.submitted())
        await eventually(lambda: len(a.changes()) == 6 and len(b.changes()) == 6)
        assert [c["seq"] for c in a.changes()] == [c["seq"] for c in b.changes()]
    logs = first.log() + second.log()
    assert logs.count('"schema migrated"') == 1


def test_settings_problems_exit_with_a_message_that_echoes_no_secret(database_url) -> None:
    result = subprocess.run(
        [command("pagesmith-tracker")],
        env={"PATH": "/usr/bin:/bin", "TRACKER_TOKEN": "short-secret"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "TRACKER_TOKEN" in result.stderr and "short-secret" not in result.stderr


async def test_neither_the_token_nor_the_database_password_is_logged(
    trackers, publisher, database_url
) -> None:
    url = database_url.replace("postgres@", "postgres:db-password-6e1f@")
    tracker = trackers(TRACKER_DATABASE_URL=url, PAGESMITH_LOG_LEVEL="DEBUG")
    s = story()
    await publisher.event(s.submitted())
    await task_in(tracker.url, s.ref.task_id)
    assert api(tracker.url, "/api/tasks", token="wrong-token-000000000")[0] == 401
    tracker.stop()
    log = tracker.log()
    assert "db-password-6e1f" not in log and TOKEN not in log and "wrong-token" not in log


async def test_sigterm_with_an_open_stream_exits_cleanly_and_fast(tracker, publisher) -> None:
    import time

    s = story()
    await publisher.event(s.submitted())
    await task_in(tracker.url, s.ref.task_id)
    metrics = urllib.request.urlopen(f"{tracker.url}/metrics", timeout=5).read().decode()
    assert (
        'pagesmith_tracker_events_total{event_type="task.submitted.v1",outcome="recorded"} 1.0'
        in metrics
    )
    async with Stream(tracker.url):
        assert tracker.proc is not None and tracker.proc.popen is not None
        started = time.monotonic()
        tracker.proc.popen.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(tracker.proc.popen.wait, 15)
        assert code == 0 and time.monotonic() - started < 10


def test_a_database_that_does_not_exist_stops_the_tracker_with_a_reason(
    trackers, database_url
) -> None:
    tracker = trackers(wait=False, TRACKER_DATABASE_URL=database_url + "_missing")
    assert tracker.proc is not None and tracker.proc.popen is not None
    code = tracker.proc.popen.wait(30)
    assert code != 0
    assert "does not exist" in tracker.log()
