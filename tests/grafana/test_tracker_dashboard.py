"""The Grafana provisioning for the tracker: every panel's SQL runs against the real PostgreSQL,
as the read-only role the datasource uses, and returns the rows the panel promises.

No Grafana server is installable here, so Grafana's part (macro expansion) is done the way its
PostgreSQL datasource does it, and the files are checked for what provisioning relies on.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from tracker.db import open_pool
from tracker.facts import read_fact
from tracker.ledger import record

from tests.support.postgres import psql
from tests.tracker.helpers import story

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "pagesmith" / "pagesmith-tasks.json"
_TIME_FILTER = re.compile(r"\$__timeFilter\(([a-z_]+)\)")


def datasource() -> dict[str, Any]:
    doc = yaml.safe_load((GRAFANA / "provisioning/datasources/tracker-postgres.yaml").read_text())
    assert doc["apiVersion"] == 1
    (ds,) = doc["datasources"]
    return ds  # type: ignore[no-any-return]


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())  # type: ignore[no-any-return]


def expand(sql: str, start: datetime, end: datetime) -> str:
    """Grafana's $__timeFilter(col): col BETWEEN the range's ends, as UTC literals."""
    return _TIME_FILTER.sub(
        lambda m: f"{m.group(1)} BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'", sql
    )


def panel_sql(title: str) -> str:
    (panel,) = [p for p in dashboard()["panels"] if p["title"] == title]
    (target,) = panel["targets"]
    return str(target["rawSql"])


def test_provisioning_files_fit_together() -> None:
    ds = datasource()
    board = dashboard()
    assert ds["type"] == "grafana-postgresql-datasource" and ds["uid"] == "pagesmith-tracker"
    assert "password" not in ds and set(ds["secureJsonData"]) == {"password"}
    assert ds["secureJsonData"]["password"].startswith("${")  # from the environment, never here
    # Provisioning upserts by uid: fixed, with no numeric id, named like its file.
    assert board["uid"] == DASHBOARD.stem and board["id"] is None
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/pagesmith.yaml").read_text())
    assert providers["apiVersion"] == 1
    assert providers["providers"][0]["options"]["path"].endswith("/dashboards/pagesmith")
    assert {"Recent tasks", "Failed tasks", "Tasks by state"} == {
        p["title"] for p in board["panels"]
    }
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == ds["uid"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == ds["uid"] and target["rawSql"].strip()
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[dict[str, Any]]:
    """A ledger with one notified, one failed, one running and one old task."""
    pool = await open_pool(database_url, size=2)
    now = datetime.now(UTC)
    ok, bad, running = story(task="ok-task"), story(task="bad-task", round_=2), story(task="busy")
    old = story(task="old-task", received_at=now - timedelta(days=3))

    async def put(event: Any) -> None:
        await record(pool, read_fact(event.model_dump_json().encode()))

    for event in (
        ok.submitted(),
        ok.published(),
        ok.notified(),
        running.submitted(),
        old.submitted(),
    ):
        await put(event)
    await put(bad.failed("no round-1 repository for this task"))
    await put(old.failed("old failure"))
    await pool.close()
    yield {"ok": ok, "bad": bad, "running": running, "old": old, "now": now}


@pytest.fixture
def reader(database_url: str, ledger: dict[str, Any]) -> Iterator[str]:
    """The read-only role, made by deploy/grafana/tracker-reader.sql itself."""
    name = f"pagesmith_grafana_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [
            "psql",
            database_url,
            "-v",
            "ON_ERROR_STOP=1",
            "-qX",
            "-v",
            f"reader={name}",
            "-v",
            "password=reader-password",
            "-f",
            str(GRAFANA / "tracker-reader.sql"),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        yield database_url.replace("postgres@", f"{name}:reader-password@")
    finally:
        psql(database_url, f'DROP OWNED BY "{name}"; DROP ROLE "{name}"')


async def run_panel(url: str, title: str, since: timedelta) -> list[asyncpg.Record]:
    now = datetime.now(UTC)
    conn = await asyncpg.connect(url)
    try:
        return list(
            await conn.fetch(expand(panel_sql(title), now - since, now + timedelta(minutes=1)))
        )
    finally:
        await conn.close()


async def test_recent_tasks_lists_the_range_newest_first(
    reader: str, ledger: dict[str, Any]
) -> None:
    rows = await run_panel(reader, "Recent tasks", timedelta(hours=24))
    # Received in the order ok, bad, busy (the fixture made them so); old is outside the range.
    assert [r["task"] for r in rows] == ["busy", "bad-task", "ok-task"]
    by_task = {r["task"]: r for r in rows}
    assert by_task["ok-task"]["state"] == "notified" and by_task["ok-task"]["pages"]
    assert by_task["busy"]["stage"] == "generator"
    assert 0 < by_task["busy"]["headroom seconds"] <= 600
    received = [r["received"] for r in rows]
    assert received == sorted(received, reverse=True)
    wider = await run_panel(reader, "Recent tasks", timedelta(days=7))
    assert "old-task" in {r["task"] for r in wider}


async def test_failed_tasks_show_stage_and_reason(reader: str, ledger: dict[str, Any]) -> None:
    rows = await run_panel(reader, "Failed tasks", timedelta(hours=24))
    assert [(r["task"], r["round"], r["stage"], r["reason"]) for r in rows] == [
        ("bad-task", 2, "notifier", "no round-1 repository for this task")
    ]
    assert [r["task_id"] for r in rows] == [ledger["bad"].ref.task_id]


async def test_tasks_by_state_counts_each_state(reader: str, ledger: dict[str, Any]) -> None:
    rows = await run_panel(reader, "Tasks by state", timedelta(hours=24))
    assert [(r["state"], r["tasks"]) for r in rows] == [
        ("failed", 1),
        ("notified", 1),
        ("submitted", 1),
    ]


async def test_the_datasource_role_cannot_write(reader: str, ledger: dict[str, Any]) -> None:
    conn = await asyncpg.connect(reader)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("BEGIN READ WRITE; DELETE FROM tracker.tasks")
        await conn.execute("ROLLBACK")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("DELETE FROM tracker.tasks")
    finally:
        await conn.close()
