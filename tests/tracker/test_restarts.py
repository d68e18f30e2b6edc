"""The tracker survives a broker restart and a database restart, and loses nothing.

Both restarts use servers owned by the test (tests/support): others run tests on the machine's
shared RabbitMQ and PostgreSQL at the same time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pagesmith_runtime import TRACKER

from tests.support.postgres import PostgresCluster, create_database
from tests.support.procs import http_ok
from tests.support.rabbitmq_node import RabbitNode

from .helpers import Publisher, Stream, Tracker, api, eventually, story

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def rabbit() -> Iterator[RabbitNode]:
    node = RabbitNode().start()
    try:
        yield node
    finally:
        node.remove()


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    pg = PostgresCluster().start()
    try:
        yield pg
    finally:
        pg.remove()


def recorded(tracker: Tracker, ids: list[str]) -> bool:
    status, body = api(tracker.url, "/api/tasks?limit=200")
    return status == 200 and {t["task_id"] for t in body["tasks"]} >= set(ids)


def queue_depth(vhost: str, queue: str) -> tuple[int, int]:
    """(ready, unacked) as the shared broker counts them right now."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    out = subprocess.run(
        [
            ctl,
            "-q",
            "list_queues",
            "-p",
            vhost,
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "--formatter",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    row = next(q for q in json.loads(out) if q["name"] == queue)
    return int(row["messages_ready"]), int(row["messages_unacknowledged"])


async def test_a_broker_restart_and_the_tracker_keeps_consuming(
    rabbit: RabbitNode, database_url: str, tmp_path: Path
) -> None:
    tracker = Tracker(rabbit.url, database_url, tmp_path).start()
    try:
        before = [story() for _ in range(5)]
        async with Publisher(rabbit.url) as pub:
            for s in before:
                await pub.event(s.submitted())
        await eventually(lambda: recorded(tracker, [s.ref.task_id for s in before]))

        rabbit.stop()
        await eventually(lambda: not http_ok(f"{tracker.url}/readyz"), timeout=30)
        rabbit.start()
        await eventually(lambda: http_ok(f"{tracker.url}/readyz"), timeout=60)

        after = [story() for _ in range(5)]
        async with Publisher(rabbit.url) as pub:
            for s in after:
                await pub.event(s.submitted())
                await pub.event(s.generated())
        await eventually(lambda: recorded(tracker, [s.ref.task_id for s in after]), timeout=30)
        for s in after:
            body = api(tracker.url, f"/api/tasks/{s.ref.task_id}")[1]
            await eventually(
                lambda s=s: (
                    api(tracker.url, f"/api/tasks/{s.ref.task_id}")[1]["task"]["state"]
                    == "generated"
                )
            )
        assert tracker.proc is not None and tracker.proc.popen.poll() is None
        assert body["task"]["email"] == "student@example.com"
    finally:
        tracker.stop()
        print(tracker.log())


async def test_a_database_restart_holds_deliveries_until_they_commit(
    cluster: PostgresCluster, amqp_url: str, tmp_path: Path
) -> None:
    database_url = create_database(cluster.admin_url)
    tracker = Tracker(amqp_url, database_url, tmp_path).start()
    vhost = amqp_url.rsplit("/", 1)[1]
    try:
        async with Publisher(amqp_url) as pub, Stream(tracker.url) as stream:
            first = story()
            await pub.event(first.submitted())
            await eventually(lambda: len(stream.changes()) == 1)

            cluster.stop()
            await eventually(lambda: not http_ok(f"{tracker.url}/readyz"), timeout=30)
            during = [story() for _ in range(8)]
            for s in during:
                await pub.event(s.submitted())
                await pub.event(s.published())
            # Delivered to the tracker but not acked: nothing is committed, so nothing is lost.
            await eventually(lambda: sum(queue_depth(vhost, TRACKER.name)) == 16, timeout=30)
            assert queue_depth(vhost, TRACKER.name)[1] > 0

            cluster.start()
            await eventually(lambda: queue_depth(vhost, TRACKER.name) == (0, 0), timeout=60)
            await eventually(lambda: http_ok(f"{tracker.url}/readyz"), timeout=30)
            for s in during:
                status, body = api(tracker.url, f"/api/tasks/{s.ref.task_id}")
                assert status == 200, body
                assert body["task"]["state"] == "published"
                assert len(body["timeline"]) == 2
            # The live stream, open all along, caught up after the database came back.
            await eventually(lambda: len(stream.changes()) == 17, timeout=30)
            seqs = [c["seq"] for c in stream.changes()]
            assert seqs == list(range(1, 18))
        assert tracker.proc is not None and tracker.proc.popen is not None
        assert tracker.proc.popen.poll() is None
    finally:
        tracker.stop()
        print(tracker.log()[-3000:])
