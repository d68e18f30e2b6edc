"""How an event moves a task: states ranked so that a late or repeated event never moves it back.

`notified` is final. `failed` is final too, except that a later `task.notified` of the same task
overrides it: the caller did get its callback (say, a redelivered message succeeded on a second
replica), and that is the outcome the caller sees. A `task.failed` after `task.notified` is kept
in the timeline only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .facts import Fact

STATES = ("unknown", "submitted", "checked-out", "generated", "published", "failed", "notified")
TERMINAL = frozenset({"failed", "notified"})


@dataclass(frozen=True, slots=True)
class Step:
    state: str
    rank: int


# Event type (without its version) → the state it proves the task reached.
_STEPS = {
    "task.submitted": Step("submitted", 1),
    "repo.checked-out": Step("checked-out", 2),
    "site.generated": Step("generated", 3),
    "site.published": Step("published", 4),
    "task.failed": Step("failed", 5),
    "task.notified": Step("notified", 6),
}


def step_for(event_type: str) -> Step | None:
    return _STEPS.get(event_type.rsplit(".v", 1)[0])


def next_stage(state: str, round_: int | None, fact_stage: str | None) -> str | None:
    """The service working on the task now (for a finished task: the one that finished it)."""
    if state == "submitted":
        return "publisher" if round_ == 2 else "generator"
    return {
        "checked-out": "generator",
        "generated": "publisher",
        "published": "notifier",
        "notified": "notifier",
    }.get(state, fact_stage)


@dataclass(frozen=True, slots=True)
class Row:
    """The columns of one task row the ledger computes; the database holds the rest."""

    state: str = "unknown"
    rank: int = 0
    stage: str | None = None
    email: str | None = None
    task: str | None = None
    round: int | None = None
    nonce: str | None = None
    received_at: datetime | None = None
    deadline: datetime | None = None
    finished_at: datetime | None = None
    repo_url: str | None = None
    commit_sha: str | None = None
    pages_url: str | None = None
    outcome: str | None = None
    degraded: bool = False
    degraded_reason: str | None = None
    selfcheck: dict[str, Any] | None = None
    failure_stage: str | None = None
    failure_reason: str | None = None
    trace_id: str | None = None


def _pick(current: Any, new: Any, advance: bool) -> Any:
    """A newer stage's value replaces the old one; an older stage's only fills a gap."""
    if new is None:
        return current
    return new if advance or current is None else current


def apply(row: Row, fact: Fact) -> Row:
    """The row after `fact`, whatever order the events came in and however often."""
    step = step_for(fact.type)
    advance = step is not None and step.rank > row.rank
    ident = fact.identity
    merged = replace(
        row,
        email=row.email or ident.email,
        task=row.task or ident.task,
        round=row.round if row.round is not None else ident.round,
        nonce=row.nonce or ident.nonce,
        received_at=row.received_at or ident.received_at,
        deadline=row.deadline or ident.deadline,
        trace_id=row.trace_id or fact.trace_id,
        repo_url=_pick(row.repo_url, fact.repo_url, advance),
        commit_sha=_pick(row.commit_sha, fact.commit_sha, advance),
        pages_url=_pick(row.pages_url, fact.pages_url, advance),
        selfcheck=_pick(row.selfcheck, fact.selfcheck, advance),
        degraded=row.degraded or fact.degraded,
        degraded_reason=_pick(row.degraded_reason, fact.degraded_reason, advance),
    )
    if advance and step is not None:
        merged = replace(
            merged,
            state=step.state,
            rank=step.rank,
            stage=next_stage(step.state, merged.round, fact.stage),
        )
        if step.state in TERMINAL:
            merged = replace(merged, finished_at=fact.time)
        if step.state == "failed":
            merged = replace(merged, failure_stage=fact.stage, failure_reason=fact.failure_reason)
        else:
            merged = replace(merged, failure_stage=None, failure_reason=None)
    elif merged.stage is None:
        merged = replace(merged, stage=next_stage(merged.state, merged.round, fact.stage))
    return replace(merged, outcome=_outcome(merged))


def _outcome(row: Row) -> str | None:
    if row.state == "failed":
        return "failed"
    if row.state == "notified":
        return "degraded" if row.degraded else "notified"
    return None
