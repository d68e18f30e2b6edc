"""How tasks look in a terminal: rich tables, and one line per event while following a task."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

_STYLE = {"failed": "bold red", "notified": "bold green"}


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def span(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{sec:02d}s" if minutes else f"{sec}s"


def elapsed(task: dict[str, Any], now: datetime | None = None) -> str:
    start = parse_time(task.get("received_at"))
    if start is None:
        return "—"
    end = parse_time(task.get("finished_at")) or now or datetime.now(UTC)
    return span((end - start).total_seconds())


def headroom(task: dict[str, Any], now: datetime | None = None) -> str:
    deadline = parse_time(task.get("deadline"))
    if deadline is None:
        return "—"
    finished = parse_time(task.get("finished_at"))
    left = (deadline - (finished or now or datetime.now(UTC))).total_seconds()
    if left < 0:
        return f"{span(-left)} late"
    return f"{span(left)} to spare" if finished else f"{span(left)} left"


def state_text(task: dict[str, Any]) -> Text:
    label = task["state"] + (
        " (degraded)" if task.get("degraded") and task["state"] == "notified" else ""
    )
    return Text(label, style=_STYLE.get(task["state"], "cyan"))


def tasks_table(
    tasks: list[dict[str, Any]], *, title: str | None = None, width: int = 200
) -> Table:
    """The task id stays whole (it is what `pagesmith status` takes); narrow screens drop email."""
    table = Table(title=title, expand=False)
    table.add_column("task id", no_wrap=True)
    table.add_column("task", overflow="fold")
    table.add_column("round", no_wrap=True)
    wide = width >= 150
    if wide:
        table.add_column("email", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("stage", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("deadline", no_wrap=True)
    table.add_column("reason", overflow="fold", min_width=12)
    now = datetime.now(UTC)
    for t in tasks:
        cells: list[Any] = [t["task_id"], t.get("task") or "—", str(t.get("round") or "—")]
        if wide:
            cells.append(t.get("email") or "—")
        cells += [
            state_text(t),
            t.get("stage") or "—",
            elapsed(t, now),
            headroom(t, now),
            Text(t.get("failure_reason") or "", style="red"),
        ]
        table.add_row(*cells)
    return table


def task_table(task: dict[str, Any]) -> Table:
    table = Table(show_header=False, title=f"task {task['task_id']}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, Any]] = [
        ("task", f"{task.get('task')} (round {task.get('round')})"),
        ("email", task.get("email")),
        ("state", state_text(task)),
        ("stage", task.get("stage")),
        ("received", task.get("received_at")),
        ("deadline", f"{task.get('deadline')} ({headroom(task)})"),
        ("finished", task.get("finished_at")),
        ("time", elapsed(task)),
        (
            "failure",
            task.get("failure_reason") and f"{task.get('failure_stage')}: {task['failure_reason']}",
        ),
        ("degraded", task.get("degraded_reason") if task.get("degraded") else None),
        ("repo", task.get("repo_url")),
        ("commit", task.get("commit_sha")),
        ("pages", task.get("pages_url")),
        ("self-check", _selfcheck(task.get("selfcheck"))),
        ("trace", task.get("trace_url") or task.get("trace_id")),
    ]
    for name, value in rows:
        if value not in (None, ""):
            table.add_row(name, value if isinstance(value, Text) else str(value))
    return table


def _selfcheck(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    failed = value.get("failed") or []
    return f"{value.get('outcome')}: {value.get('passed', 0)} passed, {len(failed)} failed"


def describe(event: dict[str, Any]) -> str:
    d = event.get("detail") or {}
    parts = []
    if d.get("reason"):
        parts.append(str(d["reason"]))
    if d.get("files") is not None:
        parts.append(f"{d['files']} files")
    if d.get("degraded"):
        parts.append(f"degraded: {d.get('degraded_reason') or 'yes'}")
    if sc := _selfcheck(d.get("selfcheck")):
        parts.append(f"self-check {sc}")
    if d.get("pages_url"):
        parts.append(str(d["pages_url"]))
    if d.get("attempts") is not None:
        parts.append(f"{d['attempts']} callback attempt(s)")
    return " · ".join(parts)


def timeline_table(events: list[dict[str, Any]], received_at: str | None) -> Table:
    table = Table(title="timeline", title_justify="left")
    table.add_column("time", no_wrap=True)
    table.add_column("after", no_wrap=True, justify="right")
    table.add_column("event", no_wrap=True)
    table.add_column("stage", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for e in events:
        table.add_row(
            _clock(e), _after(e, received_at), e["type"], e.get("stage") or "", describe(e)
        )
    return table


def _clock(event: dict[str, Any]) -> str:
    at = parse_time(event.get("time"))
    return at.astimezone().strftime("%H:%M:%S") if at else "--:--:--"


def _after(event: dict[str, Any], received_at: str | None) -> str:
    start, at = parse_time(received_at), parse_time(event.get("time"))
    return f"+{(at - start).total_seconds():.1f}s" if start and at else ""


def event_line(event: dict[str, Any], task: dict[str, Any]) -> Text:
    line = Text(f"{_clock(event)} {_after(event, task.get('received_at')):>8}  ")
    line.append(f"{event['type']:<22}", style="bold")
    line.append(f" {event.get('stage') or '':<10}")
    if detail := describe(event):
        line.append(f" {detail}", style="red" if event["type"].startswith("task.failed") else "")
    return line


def task_line(task: dict[str, Any]) -> Text:
    """One task on one line, for terminals too narrow for the table."""
    line = Text(f"{task['task_id']}  {task.get('task') or '—'} r{task.get('round') or '?'}  ")
    line.append_text(state_text(task))
    line.append(f" ({task.get('stage') or '—'})  {elapsed(task)}  {headroom(task)}")
    if task.get("failure_reason"):
        line.append(f"  {task['failure_reason']}", style="red")
    return line
