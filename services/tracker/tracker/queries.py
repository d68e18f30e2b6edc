"""Reading the ledger for the API, the page and the live stream."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .states import STATES

MAX_LIMIT = 200
_SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_TASK_COLUMNS = (
    "task_id, email, task, round, nonce, state, stage, received_at, deadline, finished_at,"
    " repo_url, commit_sha, pages_url, outcome, degraded, degraded_reason, selfcheck,"
    " failure_stage, failure_reason, trace_id, first_seen_at, updated_at, last_seq, sort_at"
)

# The task's columns next to an event's in one row: t.email AS t_email, …
_PREFIXED_TASK_COLUMNS = ", ".join(
    f"t.{c.strip()} AS t_{c.strip()}" for c in _TASK_COLUMNS.split(",")
)


class BadQuery(ValueError):
    """A filter or cursor the API cannot use; the message says which and why."""


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def task_json(record: Any, trace_url_template: str | None) -> dict[str, Any]:
    trace_id = record["trace_id"]
    return {
        "task_id": record["task_id"],
        "email": record["email"],
        "task": record["task"],
        "round": record["round"],
        "nonce": record["nonce"],
        "state": record["state"],
        "stage": record["stage"],
        "received_at": _iso(record["received_at"]),
        "deadline": _iso(record["deadline"]),
        "finished_at": _iso(record["finished_at"]),
        "repo_url": record["repo_url"],
        "commit_sha": record["commit_sha"],
        "pages_url": record["pages_url"],
        "outcome": record["outcome"],
        "degraded": record["degraded"],
        "degraded_reason": record["degraded_reason"],
        "selfcheck": record["selfcheck"],
        "failure_stage": record["failure_stage"],
        "failure_reason": record["failure_reason"],
        "trace_id": trace_id,
        "trace_url": trace_url_template.replace("{trace_id}", trace_id)
        if trace_url_template and trace_id
        else None,
        "first_seen_at": _iso(record["first_seen_at"]),
        "updated_at": _iso(record["updated_at"]),
        "seq": record["last_seq"],
    }


def event_json(record: Any) -> dict[str, Any]:
    return {
        "seq": record["seq"],
        "event_id": str(record["event_id"]),
        "task_id": record["task_id"],
        "type": record["type"],
        "source": record["source"],
        "stage": record["stage"],
        "time": _iso(record["time"]),
        "recorded_at": _iso(record["recorded_at"]),
        "trace_id": record["trace_id"],
        "detail": record["detail"],
    }


async def get_task(conn: Any, task_id: str) -> tuple[Any, list[Any]] | None:
    task = await conn.fetchrow(
        f"SELECT {_TASK_COLUMNS} FROM tracker.tasks WHERE task_id = $1", task_id
    )
    if task is None:
        return None
    events = await conn.fetch(
        "SELECT * FROM tracker.events WHERE task_id = $1 ORDER BY time, seq", task_id
    )
    return task, list(events)


@dataclass(frozen=True, slots=True)
class Filters:
    email: str | None = None
    task: str | None = None
    round: int | None = None
    states: tuple[str, ...] = ()
    since: datetime | None = None
    limit: int = 50
    cursor: tuple[datetime, str] | None = None


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`90s`, `30m`, `1h`, `2d`, `1w` ago, or an ISO 8601 time (UTC when it names no zone)."""
    now = now or datetime.now(UTC)
    match = _SINCE.match(value.strip().lower())
    if match:
        try:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except OverflowError as exc:
            raise BadQuery("since: that is further back than any task") from exc
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadQuery("since: use a duration like 30m, 1h, 2d or an ISO 8601 time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def encode_cursor(sort_at: datetime, task_id: str) -> str:
    raw = json.dumps([sort_at.astimezone(UTC).isoformat(), task_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        sort_at, task_id = json.loads(raw)
        return datetime.fromisoformat(sort_at), str(task_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadQuery("cursor: not one this API handed out") from exc


def parse_filters(query: Any) -> Filters:
    """Filters from a request's query string; raises BadQuery with a message for the caller."""
    known = {"email", "task", "round", "state", "since", "limit", "cursor"}
    unknown = sorted(set(query) - known)
    if unknown:
        raise BadQuery(f"unknown parameter(s): {', '.join(unknown)}")
    round_ = None
    if query.get("round"):
        try:
            round_ = int(query["round"])
        except ValueError as exc:
            raise BadQuery("round: must be a whole number") from exc
        if not 1 <= round_ <= 1000:
            raise BadQuery("round: must be between 1 and 1000")
    states = tuple(s.strip() for s in query.get("state", "").split(",") if s.strip())
    if bad := [s for s in states if s not in STATES]:
        raise BadQuery(f"state: {bad[0]!r} is not one of {', '.join(STATES)}")
    try:
        limit = int(query.get("limit", 50))
    except ValueError as exc:
        raise BadQuery("limit: must be a whole number") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit: must be between 1 and {MAX_LIMIT}")
    return Filters(
        email=query.get("email") or None,
        task=query.get("task") or None,
        round=round_,
        states=states,
        since=parse_since(query["since"]) if query.get("since") else None,
        limit=limit,
        cursor=decode_cursor(query["cursor"]) if query.get("cursor") else None,
    )


async def list_tasks(conn: Any, f: Filters) -> tuple[list[Any], str | None]:
    """Newest first; the cursor, when given, continues after the last task of a page."""
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if f.email:
        where.append(f"email = {arg(f.email)}")
    if f.task:
        where.append(f"task = {arg(f.task)}")
    if f.round is not None:
        where.append(f"round = {arg(f.round)}")
    if f.states:
        where.append(f"state = ANY({arg(list(f.states))}::text[])")
    if f.since:
        where.append(f"sort_at >= {arg(f.since)}")
    if f.cursor:
        where.append(f"(sort_at, task_id) < ({arg(f.cursor[0])}, {arg(f.cursor[1])})")
    sql = f"SELECT {_TASK_COLUMNS} FROM tracker.tasks"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY sort_at DESC, task_id DESC LIMIT {arg(f.limit + 1)}"
    rows = list(await conn.fetch(sql, *args))
    if len(rows) <= f.limit:
        return rows, None
    last = rows[f.limit - 1]
    return rows[: f.limit], encode_cursor(last["sort_at"], last["task_id"])


async def changes_after(conn: Any, seq: int, *, task_id: str | None, limit: int) -> list[Any]:
    """Timeline entries committed after `seq`, each with its task's current row."""
    sql = (
        f"SELECT e.*, {_PREFIXED_TASK_COLUMNS}"
        " FROM tracker.events e JOIN tracker.tasks t USING (task_id) WHERE e.seq > $1"
    )
    args: list[Any] = [seq]
    if task_id:
        sql += " AND e.task_id = $2"
        args.append(task_id)
    sql += f" ORDER BY e.seq LIMIT {int(limit)}"
    return list(await conn.fetch(sql, *args))


def split_change(record: Any) -> tuple[dict[str, Any], Any]:
    """A joined change row → (event record as a dict, task columns as a dict keyed by name)."""
    task = {k[2:]: v for k, v in record.items() if k.startswith("t_")}
    event = {k: v for k, v in record.items() if not k.startswith("t_")}
    return event, task


async def current_seq(conn: Any) -> int:
    return int(await conn.fetchval("SELECT seq FROM tracker.clock"))
