"""Writing one event: the task row and its timeline entry in one transaction, then NOTIFY.

A redelivered event finds its id in the timeline and changes nothing; a reordered one moves the
row only forward (states.apply). The caller acks the message only after this returns.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import asyncpg
import stamina

from .db import is_transient
from .facts import Fact
from .states import Row, apply

CHANNEL = "tracker_events"
Recorded = Literal["recorded", "duplicate"]
_ROW_COLUMNS = tuple(f.name for f in dataclasses.fields(Row))


class _Duplicate(Exception):
    pass


def _row(record: Any) -> Row:
    return Row(**{name: record[name] for name in _ROW_COLUMNS})


async def _write(conn: Any, fact: Fact) -> Recorded:
    async with conn.transaction():
        if await conn.fetchval("SELECT 1 FROM tracker.events WHERE event_id = $1", fact.event_id):
            return "duplicate"
        await conn.execute(
            "INSERT INTO tracker.tasks (task_id, state, rank) VALUES ($1, 'unknown', 0)"
            " ON CONFLICT (task_id) DO NOTHING",
            fact.task_id,
        )
        # The row lock orders events of one task; other tasks proceed in parallel.
        current = await conn.fetchrow(
            "SELECT * FROM tracker.tasks WHERE task_id = $1 FOR UPDATE", fact.task_id
        )
        row = apply(_row(current), fact)
        # Last, so the one clock row is locked only for the end of the transaction.
        seq = await conn.fetchval("UPDATE tracker.clock SET seq = seq + 1 RETURNING seq")
        inserted = await conn.fetchval(
            "INSERT INTO tracker.events"
            " (seq, event_id, task_id, type, source, stage, time, trace_id, detail)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (event_id) DO NOTHING RETURNING seq",
            seq,
            fact.event_id,
            fact.task_id,
            fact.type,
            fact.source,
            fact.stage,
            fact.time,
            fact.trace_id,
            fact.detail,
        )
        if inserted is None:
            raise _Duplicate  # another replica recorded it meanwhile: undo ours
        values = [getattr(row, name) for name in _ROW_COLUMNS]
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(_ROW_COLUMNS, 3))
        await conn.execute(
            f"UPDATE tracker.tasks SET {assignments}, last_seq = $2, updated_at = now()"
            " WHERE task_id = $1",
            fact.task_id,
            seq,
            *values,
        )
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(seq))
    return "recorded"


async def record(pool: Any, fact: Fact) -> Recorded:
    """Record `fact` once, committed; waits out a database outage (retrying) rather than fail."""
    async for attempt in stamina.retry_context(
        on=is_transient, attempts=None, timeout=None, wait_initial=0.2, wait_max=5.0
    ):
        with attempt:
            try:
                async with pool.acquire() as conn:
                    return await _write(conn, fact)
            except (_Duplicate, asyncpg.UniqueViolationError):
                return "duplicate"
    raise AssertionError("unreachable: retries are unbounded")
