"""What the tracker reads from one message: lenient, so a newer or richer event still records.

The contracts forbid unknown fields, which is right for a stage that acts on an event but wrong
for a ledger: an optional field added upstream (say, a self-check summary) or a new event type
must still land in the timeline, not in a dead-letter queue.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_MAX_TEXT = 4000


class Unreadable(Exception):
    """Not an event: no JSON object, or no id, type and subject. It can never be recorded."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _TaskIn(_Lenient):
    task_id: str | None = None
    email: str | None = None
    task: str | None = None
    round: int | None = None
    nonce: str | None = None
    received_at: AwareDatetime | None = None
    deadline: AwareDatetime | None = None


class _EventIn(_Lenient):
    id: uuid.UUID
    type: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=200)
    source: str = ""
    time: AwareDatetime | None = None
    task: _TaskIn | None = None


@dataclass(frozen=True, slots=True)
class TaskIdentity:
    email: str | None = None
    task: str | None = None
    round: int | None = None
    nonce: str | None = None
    received_at: datetime | None = None
    deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """One event as the ledger records it."""

    event_id: uuid.UUID
    type: str
    task_id: str
    source: str
    stage: str | None  # the service that emitted it (task.failed: the stage that failed)
    time: datetime
    trace_id: str | None
    identity: TaskIdentity
    repo_url: str | None = None
    commit_sha: str | None = None
    pages_url: str | None = None
    degraded: bool = False
    degraded_reason: str | None = None
    selfcheck: dict[str, Any] | None = None
    failure_reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def scrub(value: Any) -> Any:
    """What PostgreSQL refuses (NUL characters, non-finite numbers) goes; long strings are cut."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "")[:_MAX_TEXT]
    if isinstance(value, dict):
        return {scrub(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return scrub(value) if isinstance(value, str) and value else None


def _count(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    return len(value) if isinstance(value, list) else None


def trace_id_from(headers: dict[str, Any] | None) -> str | None:
    """The trace id of a W3C traceparent header, if the message carries a valid one."""
    raw = (headers or {}).get("traceparent")
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    match = _TRACEPARENT.match(raw.strip().lower())
    if match is None or set(match.group(1)) == {"0"}:
        return None
    return match.group(1)


def _source_stage(source: str) -> str | None:
    name = source.rsplit("/", 1)[-1].strip()
    return scrub(name)[:50] if name else None


def _detail(event_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """A small summary for the timeline: never the brief, files or attachments themselves."""
    base = event_type.rsplit(".v", 1)[0]
    task: dict[str, Any] = body["task"] if isinstance(body.get("task"), dict) else {}
    if base == "task.submitted":
        return {
            "round": task.get("round"),
            "checks": _count(body, "checks"),
            "attachments": _count(body, "attachments"),
        }
    if base == "repo.checked-out":
        repo: dict[str, Any] = body["repo"] if isinstance(body.get("repo"), dict) else {}
        return {
            "repo_url": _text(repo, "html_url"),
            "head_sha": _text(body, "head_sha"),
            "files": _count(body, "files"),
        }
    if base == "site.generated":
        return {
            "files": _count(body, "files"),
            "deleted": _count(body, "deleted"),
            "degraded": bool(body.get("degraded")),
            "degraded_reason": _text(body, "degraded_reason"),
            "usage": scrub(body.get("usage")) if isinstance(body.get("usage"), dict) else None,
            "selfcheck": _selfcheck(body),
        }
    if base == "site.published":
        return {
            "repo_url": _text(body, "repo_url"),
            "commit_sha": _text(body, "commit_sha"),
            "pages_url": _text(body, "pages_url"),
            "degraded": bool(body.get("degraded")),
            "selfcheck": _selfcheck(body),
        }
    if base == "task.notified":
        return {"attempts": scrub(body.get("attempts")), "degraded": bool(body.get("degraded"))}
    if base == "task.failed":
        return {"stage": _text(body, "stage"), "reason": _text(body, "reason")}
    return {}


def _selfcheck(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("selfcheck")
    return scrub(value) if isinstance(value, dict) else None


def read_fact(body: bytes, headers: dict[str, Any] | None = None) -> Fact:
    """Read one message body (and its AMQP headers); raises Unreadable."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unreadable("body is not JSON") from exc
    if not isinstance(raw, dict):
        raise Unreadable("body is not a JSON object")
    try:
        envelope = _EventIn.model_validate(raw)
    except ValidationError as exc:
        raise Unreadable(f"not an event: {exc.error_count()} errors in its envelope") from exc
    task = envelope.task or _TaskIn()
    event_type = scrub(envelope.type)
    base = event_type.rsplit(".v", 1)[0]
    stage = _source_stage(envelope.source)
    if base == "task.failed":
        stage = _text(raw, "stage") or stage
    repo_url = _text(raw, "repo_url")
    if repo_url is None and isinstance(raw.get("repo"), dict):
        repo_url = _text(raw["repo"], "html_url")
    return Fact(
        event_id=envelope.id,
        type=event_type,
        task_id=scrub(envelope.subject),
        source=scrub(envelope.source)[:200],
        stage=stage,
        time=envelope.time or datetime.now(UTC),
        trace_id=trace_id_from(headers),
        identity=TaskIdentity(
            email=scrub(task.email) if task.email else None,
            task=scrub(task.task) if task.task else None,
            round=task.round,
            nonce=scrub(task.nonce) if task.nonce else None,
            received_at=task.received_at,
            deadline=task.deadline,
        ),
        repo_url=repo_url,
        commit_sha=_text(raw, "commit_sha"),
        pages_url=_text(raw, "pages_url"),
        degraded=bool(raw.get("degraded")),
        degraded_reason=_text(raw, "degraded_reason"),
        selfcheck=_selfcheck(raw),
        failure_reason=_text(raw, "reason") if base == "task.failed" else None,
        detail={k: v for k, v in _detail(event_type, raw).items() if v is not None},
    )
