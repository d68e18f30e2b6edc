"""pagesmith: submit tasks through the gateway and follow them through the tracker."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.live import Live

from .client import EXIT_FAILED, EXIT_REFUSED, CliError, Tracker, submit
from .config import Config
from .render import event_line, task_line, task_table, tasks_table, timeline_table

T = TypeVar("T")
TERMINAL = {"notified", "failed"}
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def run(step: Callable[[], Awaitable[T]]) -> T:
    """Run an async step; a CliError becomes one line on stderr and its exit code."""
    try:
        return asyncio.run(step())  # type: ignore[arg-type]
    except CliError as exc:
        err.print(f"pagesmith: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.code)
    except KeyboardInterrupt:
        sys.exit(130)


def tracker_for(config: Config, status_url: str | None = None) -> Tracker:
    url = config.tracker_url
    # The gateway's answer names the tracker when no address was configured here.
    if status_url and not config.tracker_url_given and "/api/tasks/" in status_url:
        url = status_url.split("/api/tasks/", 1)[0]
    return Tracker(url, config.token)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Submit tasks to Pagesmith and see where they are.

    Reads PAGESMITH_GATEWAY_URL (http://127.0.0.1:8000), PAGESMITH_TRACKER_URL
    (http://127.0.0.1:9104), TRACKER_TOKEN and GATEWAY_SECRET; the last two fall back to the
    files `make run` keeps in .pagesmith/.
    """


def _load_request(path: Path, config: Config) -> dict[str, Any]:
    try:
        request = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}", 2) from exc
    if not isinstance(request, dict):
        raise CliError(f"{path} must hold a JSON object (a task request)", 2)
    if "secret" not in request:
        if not config.secret:
            raise CliError("the request has no secret: set GATEWAY_SECRET", EXIT_REFUSED)
        request["secret"] = config.secret
    # A fresh nonce per submission unless the file pins one: the same file can be sent again.
    request.setdefault("nonce", str(uuid.uuid4()))
    return request


@cli.command("submit")
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--watch", is_flag=True, help="Follow the task live until it is notified or failed.")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to follow it at most.")
def submit_command(request_file: Path, watch: bool, timeout: float) -> None:
    """Send REQUEST_FILE (a task request; secret and nonce may be left out) to the gateway."""
    config = Config.from_env()

    async def step() -> int:
        request = _load_request(request_file, config)
        answer = await submit(config.gateway_url, request)
        task_id = answer["task_id"]
        out.print(f"accepted: task {task_id}", markup=False)
        if answer.get("status_url"):
            out.print(f"status:   {answer['status_url']}", markup=False)
        if not watch:
            return 0
        tracker = tracker_for(config, answer.get("status_url"))
        try:
            return await asyncio.wait_for(follow(tracker, task_id), timeout)
        except TimeoutError:
            raise CliError(
                f"task {task_id} did not finish within {timeout:.0f} s", EXIT_FAILED
            ) from None

    sys.exit(run(step))


async def follow(tracker: Tracker, task_id: str) -> int:
    """Print each event of one task as it is recorded; 0 once notified, 1 once failed."""
    seen: set[str] = set()
    last: int | None = None
    task: dict[str, Any] = {}
    while True:
        async for kind, data in tracker.stream(task_id=task_id, last_event_id=last):
            if kind == "ready" and last is None:
                # Subscribed: now read what was recorded before, then follow the stream.
                last = int(data["seq"])
                found = await tracker.task(task_id)
                if found is not None:
                    task = found["task"]
                    for event in found["timeline"]:
                        seen.add(event["event_id"])
                        out.print(event_line(event, task), soft_wrap=True)
            elif kind == "change":
                last = int(data["seq"])
                task = data["task"]
                event = data["event"]
                if event["event_id"] not in seen:
                    seen.add(event["event_id"])
                    out.print(event_line(event, task), soft_wrap=True)
            if task.get("state") in TERMINAL:
                return _finish(task)
        # The stream ended (a tracker restart): reconnect and replay from the last seq.
        await asyncio.sleep(1)


def _finish(task: dict[str, Any]) -> int:
    if task["state"] == "notified":
        label = "notified (degraded site)" if task.get("degraded") else "notified"
        out.print(f"{label}: {task.get('pages_url')}", style="bold green", markup=False)
        out.print(
            f"  repo   {task.get('repo_url')}\n  commit {task.get('commit_sha')}", markup=False
        )
        return 0
    out.print(
        f"failed at {task.get('failure_stage')}: {task.get('failure_reason')}",
        style="bold red",
        markup=False,
    )
    return EXIT_FAILED


@cli.command("status")
@click.argument("task_id")
def status_command(task_id: str) -> None:
    """One task: its state, links and timeline."""
    config = Config.from_env()

    async def step() -> int:
        found = await tracker_for(config).task(task_id)
        if found is None:
            raise CliError(f"no task {task_id} in the tracker", EXIT_FAILED)
        out.print(task_table(found["task"]))
        out.print(timeline_table(found["timeline"], found["task"].get("received_at")))
        return 0

    sys.exit(run(step))


@cli.command("tasks")
@click.option("--state", help="Only these states (comma-separated), e.g. failed.")
@click.option("--since", help="Received since: 30m, 1h, 2d or an ISO 8601 time.")
@click.option("--email", help="Only this caller's tasks.")
@click.option("--task", "task_name", help="Only this task name.")
@click.option("--round", "round_", type=int, help="Only this round.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
def tasks_command(
    state: str | None,
    since: str | None,
    email: str | None,
    task_name: str | None,
    round_: int | None,
    limit: int,
) -> None:
    """Recent tasks, newest first."""
    config = Config.from_env()
    params = {
        k: str(v)
        for k, v in {
            "state": state,
            "since": since,
            "email": email,
            "task": task_name,
            "round": round_,
            "limit": limit,
        }.items()
        if v is not None
    }

    async def step() -> int:
        body = await tracker_for(config).tasks(params)
        if not body["tasks"]:
            out.print("no tasks match")
            return 0
        if out.width < 120:
            for task in body["tasks"]:
                out.print(task_line(task), soft_wrap=True)
        else:
            out.print(tasks_table(body["tasks"], width=out.width))
        return 0

    sys.exit(run(step))


@cli.command("watch")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
def watch_command(limit: int) -> None:
    """A live table of recent tasks (one line per change when not on a terminal). Ctrl-C ends it."""
    config = Config.from_env()
    tracker = tracker_for(config)

    async def step() -> int:
        tasks: dict[str, dict[str, Any]] = {}

        def newest() -> list[dict[str, Any]]:
            key = lambda t: t.get("received_at") or t.get("first_seen_at") or ""  # noqa: E731
            return sorted(tasks.values(), key=key, reverse=True)[:limit]

        live = Live(tasks_table([]), console=out, auto_refresh=False) if out.is_terminal else None
        last: int | None = None
        try:
            if live is not None:
                live.start()
            while True:
                async for kind, data in tracker.stream(last_event_id=last):
                    if kind == "ready" and last is None:
                        last = int(data["seq"])
                        body = await tracker.tasks({"limit": str(limit)})
                        tasks.update({t["task_id"]: t for t in body["tasks"]})
                        if live is None:
                            out.print(f"watching {len(tasks)} recent tasks", markup=False)
                    elif kind == "change":
                        last = int(data["seq"])
                        task = data["task"]
                        tasks[task["task_id"]] = task
                        if live is None:
                            reason = task.get("failure_reason") or ""
                            moved = f"{data['event']['type']} -> {task['state']}"
                            out.print(
                                f"{task['task_id']} {task.get('task')} r{task.get('round')} "
                                f"{moved} ({task.get('stage')}) {reason}".rstrip(),
                                markup=False,
                                soft_wrap=True,
                            )
                    if live is not None:
                        live.update(
                            tasks_table(
                                newest(), title="pagesmith tasks (Ctrl-C ends)", width=out.width
                            ),
                            refresh=True,
                        )
                await asyncio.sleep(1)
        finally:
            if live is not None:
                live.stop()

    sys.exit(run(step))


def main() -> None:
    cli(prog_name="pagesmith")


if __name__ == "__main__":
    main()
