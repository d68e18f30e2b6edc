"""The status API: one task with its timeline, a filtered list, and the live event stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web

from .db import is_transient
from .http import error
from .hub import Change, Subscription
from .queries import (
    BadQuery,
    changes_after,
    event_json,
    get_task,
    list_tasks,
    parse_filters,
    task_json,
)
from .state import STATE

log = structlog.get_logger(__name__)
_CATCH_UP_LIMIT = 1000


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _unavailable() -> web.Response:
    return error(503, "the task database is not reachable right now; try again")


async def get_one(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if state.pool is None:
        return _unavailable()
    task_id = request.match_info["task_id"]
    try:
        async with state.pool.acquire() as conn:
            found = await get_task(conn, task_id)
    except Exception as exc:
        if is_transient(exc):
            return _unavailable()
        raise
    if found is None:
        return error(404, f"no task {task_id} in the ledger (yet)")
    task, events = found
    return web.json_response(
        {
            "task": task_json(task, state.settings.trace_url_template),
            "timeline": [event_json(e) for e in events],
        }
    )


async def get_list(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        filters = parse_filters(request.query)
    except BadQuery as exc:
        return error(400, str(exc))
    if state.pool is None:
        return _unavailable()
    try:
        async with state.pool.acquire() as conn:
            rows, cursor = await list_tasks(conn, filters)
    except Exception as exc:
        if is_transient(exc):
            return _unavailable()
        raise
    template = state.settings.trace_url_template
    return web.json_response(
        {"tasks": [task_json(r, template) for r in rows], "next_cursor": cursor, "now": _now()}
    )


def _frame(kind: str, data: dict[str, Any], seq: int | None = None) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _change_frame(change: Change) -> bytes:
    data = {"seq": change.seq, "task": change.task, "event": change.event}
    return _frame("change", data, change.seq)


def _last_event_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("since")
    if raw is None or raw == "":
        return None
    value = int(raw)
    if not 0 <= value < 2**63:
        raise ValueError(raw)
    return value


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: `change` per committed event, `: ping` heartbeats, catch-up by id."""
    state = request.app[STATE]
    unknown = sorted(set(request.query) - {"task_id", "since"})
    if unknown:
        return error(400, f"unknown parameter(s): {', '.join(unknown)}")
    try:
        after = _last_event_id(request)
    except ValueError:
        return error(400, "Last-Event-ID / since: must be a seq this stream handed out")
    hub = state.hub
    if hub is None or state.pool is None:
        return _unavailable()
    task_id = request.query.get("task_id") or None
    sub = hub.subscribe(task_id)
    # Everything after this seq reaches `sub` through the hub.
    sent = hub.last_seq
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    state.metrics.streams.inc()
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")
        if after is not None:
            sent = await _catch_up(request, response, after, task_id)
        await response.write(_frame("ready", {"seq": sent, "now": _now()}, sent))
        await _follow(response, sub, sent, state.settings.heartbeat_seconds)
    except ConnectionResetError:
        pass  # the client went away
    finally:
        hub.unsubscribe(sub)
        state.metrics.streams.dec()
    return response


async def _catch_up(
    request: web.Request, response: web.StreamResponse, after: int, task_id: str | None
) -> int:
    state = request.app[STATE]
    assert state.hub is not None
    async with state.pool.acquire() as conn:
        rows = await changes_after(conn, after, task_id=task_id, limit=_CATCH_UP_LIMIT)
    sent = after
    for row in rows:
        change = state.hub.change_from(row)
        await response.write(_change_frame(change))
        sent = change.seq
    if len(rows) == _CATCH_UP_LIMIT:
        # Too far behind to replay: the client reloads its view instead.
        await response.write(_frame("reset", {"reason": "too many changes to replay"}))
    return sent


async def _follow(
    response: web.StreamResponse, sub: Subscription, sent: int, heartbeat: float
) -> None:
    while True:
        try:
            change = await asyncio.wait_for(sub.queue.get(), heartbeat)
        except TimeoutError:
            await response.write(b": ping\n\n")
            continue
        if change is None:
            with contextlib.suppress(ConnectionResetError):
                await response.write_eof()
            return
        if change.seq <= sent:
            continue
        await response.write(_change_frame(change))
        sent = change.seq
