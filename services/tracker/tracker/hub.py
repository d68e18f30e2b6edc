"""Live updates: one LISTEN connection per replica, fanned out to every open event stream.

Each writer NOTIFYs the seq of what it committed; PostgreSQL delivers notifications in commit
order, to every replica. After a lost connection (a database restart) the hub catches up from
the last seq it saw, so no stream misses an update.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog

from .db import is_transient
from .ledger import CHANNEL
from .queries import changes_after, current_seq, event_json, split_change, task_json

log = structlog.get_logger(__name__)
_BATCH = 500
_QUEUE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    task_id: str
    event: dict[str, Any]
    task: dict[str, Any]


class Subscription:
    """One stream's queue; closed (None) when it falls too far behind or the hub stops."""

    def __init__(self, task_id: str | None) -> None:
        self.task_id = task_id
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(_QUEUE_SIZE)
        self.closed = False

    def offer(self, change: Change | None) -> None:
        if self.closed:
            return
        if change is not None and self.task_id and change.task_id != self.task_id:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            # A stalled reader: end its stream; it reconnects with Last-Event-ID and catches up.
            self.closed = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)
            return
        if change is None:
            self.closed = True


@dataclass
class Hub:
    dsn: str
    pool: Any
    trace_url_template: str | None
    last_seq: int = 0
    subscribers: set[Subscription] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _connected: asyncio.Event = field(default_factory=asyncio.Event)

    def subscribe(self, task_id: str | None = None) -> Subscription:
        sub = Subscription(task_id)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    def close_all(self) -> None:
        for sub in list(self.subscribers):
            sub.offer(None)
        self.subscribers.clear()

    def change_from(self, record: Any) -> Change:
        event, task = split_change(record)
        return Change(
            seq=int(event["seq"]),
            task_id=str(event["task_id"]),
            event=event_json(event),
            task=task_json(task, self.trace_url_template),
        )

    def _notified(self, _conn: Any, _pid: int, _channel: str, _payload: str) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Listen, and after every wake-up (or reconnect) publish what was committed since."""
        while not stop.is_set():
            try:
                async with self.pool.acquire() as conn:
                    self.last_seq = await current_seq(conn)
                break
            except Exception as exc:
                if not is_transient(exc):
                    raise
                await _sleep_or_stop(stop, 1.0)
        while not stop.is_set():
            try:
                conn = await asyncpg.connect(self.dsn, timeout=10)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("live updates: database unreachable", error=type(exc).__name__)
                await _sleep_or_stop(stop, 2.0)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                await conn.add_listener(CHANNEL, self._notified)
                self._connected.set()
                self._wake.set()  # catch up with anything committed while we were away
                await self._pump(stop, lost)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("live updates: connection lost", error=type(exc).__name__)
            finally:
                self._connected.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 5)
            await _sleep_or_stop(stop, 0.5)

    async def _pump(self, stop: asyncio.Event, lost: asyncio.Event) -> None:
        while not stop.is_set() and not lost.is_set():
            waiters = {asyncio.ensure_future(e.wait()) for e in (self._wake, stop, lost)}
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED, timeout=30)
            finally:
                for w in waiters:
                    w.cancel()
            if stop.is_set() or lost.is_set():
                return
            self._wake.clear()
            await self._publish_since()

    async def _publish_since(self) -> None:
        while True:
            async with self.pool.acquire() as conn:
                rows = await changes_after(conn, self.last_seq, task_id=None, limit=_BATCH)
            for row in rows:
                change = self.change_from(row)
                self.last_seq = change.seq
                for sub in list(self.subscribers):
                    sub.offer(change)
            if len(rows) < _BATCH:
                return


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
