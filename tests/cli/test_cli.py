"""The real `pagesmith` command against real processes: a tracker, a gateway, the broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.procs import BIN, Proc, command, free_port
from tests.tracker.helpers import TOKEN, eventually, hours_ago, story, task_in

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
SECRET = "cli-gateway-secret-2d9e"


def pagesmith(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{BIN}:/usr/bin:/bin", "COLUMNS": "220", "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [command("pagesmith"), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        # Not the checkout: `make run` may have left its .pagesmith/ files there.
        cwd=cwd or tempfile.mkdtemp(prefix="pagesmith-cli-"),
    )


async def test_tasks_and_status_show_states_and_reasons(tracker, publisher) -> None:
    ok, bad, old = (
        story(task="good-one"),
        story(task="bad-one", round_=2),
        story(received_at=hours_ago(5)),
    )
    for event in (ok.submitted(), ok.published(), ok.notified(), bad.submitted(), old.submitted()):
        await publisher.event(event)
    await publisher.event(bad.failed("no round-1 repository for this email and task"))
    await task_in(tracker.url, bad.ref.task_id, state="failed")
    await task_in(tracker.url, ok.ref.task_id, state="notified")
    env = {"PAGESMITH_TRACKER_URL": tracker.url, "TRACKER_TOKEN": TOKEN}

    listed = pagesmith("tasks", "--since", "1h", **env)
    assert listed.returncode == 0, listed.stderr
    assert ok.ref.task_id in listed.stdout and bad.ref.task_id in listed.stdout
    assert old.ref.task_id not in listed.stdout

    failed = pagesmith("tasks", "--state", "failed", **env)
    assert failed.returncode == 0, failed.stderr
    assert bad.ref.task_id in failed.stdout and ok.ref.task_id not in failed.stdout
    assert "no round-1 repository" in failed.stdout

    shown = pagesmith("status", bad.ref.task_id, **env)
    assert shown.returncode == 0, shown.stderr
    for text in (
        "failed",
        "notifier: no round-1 repository",
        "task.submitted.v1",
        "task.failed.v1",
    ):
        assert text in shown.stdout, text

    shown = pagesmith("status", ok.ref.task_id, **env)
    assert "https://o.forge.example/ShareVolume/" in shown.stdout and "notified" in shown.stdout

    missing = pagesmith("status", "no-such-task", **env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "pagesmith: no task no-such-task in the tracker"


def test_unreachable_services_and_wrong_credentials_are_one_line_and_non_zero(tracker) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    result = pagesmith("tasks", PAGESMITH_TRACKER_URL=down, TRACKER_TOKEN=TOKEN)
    assert result.returncode == 3
    assert result.stderr.startswith(f"pagesmith: cannot reach the tracker at {down}")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""

    result = pagesmith(
        "tasks", PAGESMITH_TRACKER_URL=tracker.url, TRACKER_TOKEN="wrong-token-123456"
    )
    assert result.returncode == 4
    assert result.stderr.strip() == "pagesmith: the tracker refused the token (check TRACKER_TOKEN)"

    result = pagesmith("watch", PAGESMITH_TRACKER_URL=tracker.url)
    assert result.returncode == 4 and "no tracker token" in result.stderr


def test_make_runs_files_stand_in_for_the_token(tracker, tmp_path: Path) -> None:
    (tmp_path / ".pagesmith").mkdir()
    (tmp_path / ".pagesmith" / "tracker-token").write_text(TOKEN + "\n")
    result = pagesmith("tasks", cwd=tmp_path, PAGESMITH_TRACKER_URL=tracker.url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no tasks match"


def test_submit_without_a_gateway_or_a_secret_says_so(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"email": "a@example.com", "task": "t", "round": 1}))
    result = pagesmith("submit", str(request), cwd=tmp_path)
    assert result.returncode == 4 and "set GATEWAY_SECRET" in result.stderr
    down = f"http://127.0.0.1:{free_port()}"
    result = pagesmith("submit", str(request), PAGESMITH_GATEWAY_URL=down, GATEWAY_SECRET="s")
    assert result.returncode == 3
    assert result.stderr.startswith(f"pagesmith: cannot reach the gateway at {down}")


async def test_submit_fills_secret_and_nonce_and_prints_where_to_follow(
    amqp_url, tracker, tmp_path: Path
) -> None:
    port = free_port()
    gateway = Proc(
        "gateway",
        [command("pagesmith-gateway")],
        {
            "AMQP_URL": amqp_url,
            "GATEWAY_SECRET": SECRET,
            "GATEWAY_PORT": str(port),
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_STATUS_URL": tracker.url,
        },
        tmp_path / "gateway.log",
        f"http://127.0.0.1:{port}/readyz",
    ).start()
    try:
        gateway.wait_ready(30)
        request = tmp_path / "request.json"
        body = {
            "email": "cli@example.com",
            "task": "cli-task",
            "round": 1,
            "brief": "A page.",
            "evaluation_url": "http://127.0.0.1:9/evaluate",
        }
        request.write_text(json.dumps(body))
        env = {"PAGESMITH_GATEWAY_URL": f"http://127.0.0.1:{port}", "GATEWAY_SECRET": SECRET}
        first, second = (
            pagesmith("submit", str(request), **env),
            pagesmith("submit", str(request), **env),
        )
        assert first.returncode == 0, first.stderr
        ids = [r.stdout.split("accepted: task ")[1].split()[0] for r in (first, second)]
        assert ids[0] != ids[1]  # a fresh nonce each time
        assert f"status:   {tracker.url}/api/tasks/{ids[0]}" in first.stdout
        task = (await task_in(tracker.url, ids[0]))["task"]
        assert (task["email"], task["state"], task["stage"]) == (
            "cli@example.com",
            "submitted",
            "generator",
        )

        wrong = pagesmith("submit", str(request), **{**env, "GATEWAY_SECRET": "nope"})
        assert wrong.returncode == 4
        assert (
            wrong.stderr.strip()
            == "pagesmith: the gateway refused the secret (check GATEWAY_SECRET)"
        )
    finally:
        gateway.stop()


async def test_watch_prints_every_change_as_it_happens(tracker, publisher, tmp_path: Path) -> None:
    log = (tmp_path / "watch.out").open("w")
    watch = subprocess.Popen(
        [command("pagesmith"), "watch"],
        env={
            "PATH": f"{BIN}:/usr/bin:/bin",
            "PAGESMITH_TRACKER_URL": tracker.url,
            "TRACKER_TOKEN": TOKEN,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = lambda: (tmp_path / "watch.out").read_text()  # noqa: E731
        await eventually(lambda: "watching" in output())
        s = story(task="watched")
        await publisher.event(s.submitted())
        await publisher.event(s.failed("caller answered 400: bad nonce"))
        await eventually(lambda: "task.failed.v1 -> failed" in output())
        lines = [line for line in output().splitlines() if s.ref.task_id in line]
        assert lines[0].startswith(f"{s.ref.task_id} watched r1 task.submitted.v1 -> submitted")
        assert lines[1].endswith("(notifier) caller answered 400: bad nonce")
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(10)
        log.close()
    assert watch.returncode in (0, 130, -2)
