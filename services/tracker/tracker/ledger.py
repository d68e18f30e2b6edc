"""Writing events: task rows and timeline entries in one transaction per batch, then NOTIFY.

A redelivered event finds its id in the timeline and changes nothing; a reordered one moves the
row only forward (states.apply). The caller acks a message only after its batch committed.
Batching matters because every transaction takes the one clock row last (seqs in commit order),
so transactions commit one after another: a batch pays for one commit instead of many.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

import stamina

from .db import is_transient
from .facts import Fact
from .states import Row, apply

CHANNEL = "tracker_events"
Recorded = Literal["recorded", "duplicate"]
_ROW_COLUMNS = tuple(f.name for f in dataclasses.fields(Row))
_ASSIGNMENTS = ", ".join(f"{name} = ${i}" for i, name in enumerate(_ROW_COLUMNS, 3))
_UPDATE_TASK = (
    f"UPDATE tracker.tasks SET {_ASSIGNMENTS}, last_seq = $2, updated_at = now() WHERE task_id = $1"
)
_INSERT_EVENT = (
    "INSERT INTO tracker.events"
    " (seq, event_id, task_id, type, source, stage, time, trace_id, detail)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING"
)


class _Raced(Exception):
    """Another replica recorded one of these events meanwhile: undo, and try again."""


def _event_args(seq: int, f: Fact) -> tuple[Any, ...]:
    return (seq, f.event_id, f.task_id, f.type, f.source, f.stage, f.time, f.trace_id, f.detail)


def _row(record: Any) -> Row:
    return Row(**{name: record[name] for name in _ROW_COLUMNS})


async def _write(conn: Any, facts: Sequence[Fact]) -> list[Recorded]:
    async with conn.transaction():
        known = {
            r["event_id"]
            for r in await conn.fetch(
                "SELECT event_id FROM tracker.events WHERE event_id = ANY($1::uuid[])",
                [f.event_id for f in facts],
            )
        }
        outcomes: list[Recorded] = []
        fresh: list[Fact] = []
        for f in facts:
            if f.event_id in known:
                outcomes.append("duplicate")
            else:
                known.add(f.event_id)  # the same event twice in one batch
                fresh.append(f)
                outcomes.append("recorded")
        if not fresh:
            return outcomes
        task_ids = sorted({f.task_id for f in fresh})
        await conn.executemany(
            "INSERT INTO tracker.tasks (task_id, state, rank) VALUES ($1, 'unknown', 0)"
            " ON CONFLICT (task_id) DO NOTHING",
            [(t,) for t in task_ids],
        )
        # Row locks in one order (by id), so two replicas' batches cannot deadlock; events of
        # one task apply in delivery order.
        rows = {
            r["task_id"]: _row(r)
            for r in await conn.fetch(
                "SELECT * FROM tracker.tasks WHERE task_id = ANY($1::text[])"
                " ORDER BY task_id FOR UPDATE",
                task_ids,
            )
        }
        for f in fresh:
            rows[f.task_id] = apply(rows[f.task_id], f)
        # Last, so the one clock row is locked only for the end of the transaction.
        last = await conn.fetchval(
            "UPDATE tracker.clock SET seq = seq + $1 RETURNING seq", len(fresh)
        )
        first = last - len(fresh) + 1
        seqs = {f.event_id: first + i for i, f in enumerate(fresh)}
        await conn.executemany(
            _INSERT_EVENT,
            [_event_args(seqs[f.event_id], f) for f in fresh],
        )
        written = await conn.fetchval(
            "SELECT count(*) FROM tracker.events WHERE seq BETWEEN $1 AND $2", first, last
        )
        if written != len(fresh):
            raise _Raced
        last_seq = {f.task_id: seqs[f.event_id] for f in fresh}
        await conn.executemany(
            _UPDATE_TASK,
            [
                (task_id, last_seq[task_id], *(getattr(row, n) for n in _ROW_COLUMNS))
                for task_id, row in rows.items()
            ],
        )
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(last))
    return outcomes


def _retryable(exc: BaseException) -> bool:
    return is_transient(exc) or isinstance(exc, _Raced)


async def record_many(pool: Any, facts: Sequence[Fact]) -> list[Recorded]:
    """Record `facts` once, committed together; waits out a database outage (retrying)."""
    async for attempt in stamina.retry_context(
        on=_retryable, attempts=None, timeout=None, wait_initial=0.2, wait_max=5.0
    ):
        with attempt:
            async with pool.acquire() as conn:
                return await _write(conn, facts)
    raise AssertionError("unreachable: retries are unbounded")


async def record(pool: Any, fact: Fact) -> Recorded:
    """Record one fact (see record_many)."""
    return (await record_many(pool, [fact]))[0]
