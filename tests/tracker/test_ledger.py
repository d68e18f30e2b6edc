"""The ledger on the real PostgreSQL: migrations, idempotent writes, commit-ordered seqs."""

from __future__ import annotations

import asyncio
import itertools
import json

import asyncpg
import pytest
from tracker.db import open_pool
from tracker.facts import read_fact
from tracker.ledger import CHANNEL, record
from tracker.migrate import Migration, MigrationError, bundled, migrate
from tracker.queries import changes_after, get_task
from tracker.retention import delete_expired

from .helpers import story

pytestmark = pytest.mark.integration


def fact(event, **extra):
    body = json.loads(event.model_dump_json())
    body.update(extra)
    return read_fact(json.dumps(body).encode())


@pytest.fixture
async def pool(database_url):
    p = await open_pool(database_url, size=8)
    yield p
    await p.close()


async def test_two_replicas_starting_at_once_migrate_once(database_url) -> None:
    conns = [await asyncpg.connect(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        assert sorted(results) == [[], [], [], [1]]
        rows = await conns[0].fetch("SELECT version, name FROM tracker.schema_migrations")
        assert [(r["version"], r["name"]) for r in rows] == [(1, "0001_ledger.sql")]
        assert await migrate(conns[0]) == []
    finally:
        for c in conns:
            await c.close()


async def test_an_edited_migration_is_refused_and_a_failed_one_leaves_nothing(
    database_url,
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        first = bundled()[0]
        with pytest.raises(MigrationError):
            await migrate(conn, [Migration(1, first.name, first.sql + "\n-- edited")])
        broken = [
            *bundled(),
            Migration(2, "0002_x.sql", "CREATE TABLE tracker.x (a int); SELECT 1/0"),
        ]
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, broken)
        assert await conn.fetchval("SELECT to_regclass('tracker.x')") is None
        assert await conn.fetchval("SELECT max(version) FROM tracker.schema_migrations") == 1
    finally:
        await conn.close()


async def test_a_redelivered_event_is_recorded_once(pool) -> None:
    s = story()
    f = fact(s.submitted())
    assert await record(pool, f) == "recorded"
    assert await record(pool, f) == "duplicate"
    async with pool.acquire() as conn:
        task, events = await get_task(conn, s.ref.task_id)
    assert len(events) == 1 and task["state"] == "submitted"


async def test_concurrent_writers_of_one_event_record_it_once(pool) -> None:
    s = story()
    f = fact(s.published())
    outcomes = await asyncio.gather(*(record(pool, f) for _ in range(6)))
    assert sorted(outcomes) == ["duplicate"] * 5 + ["recorded"]


async def test_any_arrival_order_ends_in_the_same_row(pool) -> None:
    rows = []
    for order in itertools.permutations(["submitted", "generated", "published", "notified"]):
        s = story()
        for name in order:
            await record(pool, fact(getattr(s, name)()))
        async with pool.acquire() as conn:
            task, events = await get_task(conn, s.ref.task_id)
        assert len(events) == 4
        rows.append((task["state"], task["stage"], task["outcome"], task["commit_sha"]))
    assert set(rows) == {
        ("notified", "notifier", "notified", "2321e82e9aef194d3050cfdb5f48bd383ba0a812")
    }


async def test_seqs_follow_commit_order_and_each_commit_is_notified(pool, database_url) -> None:
    listener = await asyncpg.connect(database_url)
    heard: list[int] = []
    await listener.add_listener(CHANNEL, lambda *args: heard.append(int(args[3])))
    try:
        stories = [story() for _ in range(20)]
        await asyncio.gather(
            *(
                record(pool, fact(getattr(s, n)()))
                for s in stories
                for n in ("submitted", "generated")
            )
        )
        async with pool.acquire() as conn:
            changes = await changes_after(conn, 0, task_id=None, limit=1000)
        for _ in range(50):
            if len(heard) == 40:
                break
            await asyncio.sleep(0.05)
        seqs = [c["seq"] for c in changes]
        assert seqs == list(range(1, 41))
        # Notifications arrive in commit order, and commit order is seq order.
        assert heard == seqs
    finally:
        await listener.close()


async def test_retention_deletes_only_tasks_finished_long_ago(pool) -> None:
    from datetime import UTC, datetime, timedelta

    old = story(received_at=datetime.now(UTC) - timedelta(days=40))
    fresh = story()
    running = story(received_at=datetime.now(UTC) - timedelta(days=40))
    await record(pool, fact(old.submitted()))
    await record(pool, fact(old.failed(time_=datetime.now(UTC) - timedelta(days=40))))
    await record(pool, fact(fresh.failed()))
    await record(pool, fact(running.submitted()))
    await record(pool, fact(story().submitted()))
    assert await delete_expired(pool, 30) == 2
    async with pool.acquire() as conn:
        assert await get_task(conn, old.ref.task_id) is None
        assert await get_task(conn, running.ref.task_id) is None  # deadline 40 days ago
        assert await get_task(conn, fresh.ref.task_id) is not None
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM tracker.events WHERE task_id = $1", old.ref.task_id
            )
            == 0
        )


async def test_a_batch_commits_together_and_one_refused_event_spares_the_rest(pool) -> None:
    import dataclasses

    from tracker.consumer import Batcher

    batcher = Batcher(pool)
    writer = asyncio.create_task(batcher.run())
    try:
        s = story()
        good = [fact(s.submitted()), fact(s.generated()), fact(s.published())]
        # PostgreSQL refuses this one (jsonb has no Infinity); read_fact never builds such a fact.
        bad = dataclasses.replace(fact(story().submitted()), detail={"x": float("inf")})
        results = await asyncio.gather(
            *(batcher.record(f) for f in [good[0], bad, good[1], good[0], good[2]]),
            return_exceptions=True,
        )
        assert results[0] == "recorded" and results[2:] == ["recorded", "duplicate", "recorded"]
        assert isinstance(results[1], asyncpg.PostgresError)
        async with pool.acquire() as conn:
            task, events = await get_task(conn, s.ref.task_id)
            assert await conn.fetchval("SELECT count(*) FROM tracker.tasks") == 1
        assert task["state"] == "published" and len(events) == 3
    finally:
        writer.cancel()


def test_numbers_json_cannot_carry_never_reach_the_database() -> None:
    s = story()
    body = json.loads(s.notified().model_dump_json())
    body["attempts"] = "__inf__"
    raw = json.dumps(body).replace('"__inf__"', "1e400").encode()
    assert read_fact(raw).detail.get("attempts") is None
