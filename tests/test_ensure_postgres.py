"""scripts/ensure-postgres.sh: starts the installed cluster when it is down, creates the database.

The machine's own PostgreSQL is shared with other test runs, so the "installed cluster" here is
one the test owns, behind stand-ins for Debian's pg_lsclusters and pg_ctlcluster.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PG_BIN, PostgresCluster, _as_postgres, psql

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    pg = PostgresCluster()
    try:
        yield pg
    finally:
        pg.remove()


def fake_tools(tmp_path: Path, cluster: PostgresCluster | None) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    listing = f"echo '15 main {cluster.port} down postgres {cluster.data} log'" if cluster else ":"
    (bin_dir / "pg_lsclusters").write_text(f"#!/bin/sh\n{listing}\n")
    start = ""
    if cluster is not None:
        options = f"-p {cluster.port} -k {cluster.root} -c listen_addresses=127.0.0.1"
        argv = [
            *_as_postgres(),
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(cluster.data),
            "-o",
            options,
            "-l",
            str(cluster.root / "log"),
            "-w",
            "start",
        ]
        start = shlex.join(argv)
    (bin_dir / "pg_ctlcluster").write_text(
        f'#!/bin/sh\necho "$@" >> "{tmp_path}/pg_ctlcluster.calls"\n{start} >/dev/null\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def ensure(bin_dir: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/ensure-postgres.sh"],
        cwd=ROOT,
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "TRACKER_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_starts_the_installed_cluster_when_down_and_creates_the_database(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    bin_dir = fake_tools(tmp_path, cluster)
    url = f"postgresql://postgres@127.0.0.1:{cluster.port}/pagesmith_ledger"
    result = ensure(bin_dir, url)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "pg_ctlcluster.calls").read_text().splitlines()
    assert calls == ["--skip-systemctl-redirect 15 main start"]
    assert (
        psql(
            cluster.admin_url, "SELECT datname FROM pg_database WHERE datname = 'pagesmith_ledger'"
        )
        == "pagesmith_ledger\n"
    )
    # Up and created: a second run changes nothing.
    again = ensure(bin_dir, url)
    assert again.returncode == 0, again.stderr
    assert len((tmp_path / "pg_ctlcluster.calls").read_text().splitlines()) == 1


def test_without_a_cluster_it_says_how_to_get_one(tmp_path: Path) -> None:
    from tests.support.procs import free_port

    result = ensure(fake_tools(tmp_path, None), f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    assert result.returncode == 1
    assert "apt-get install postgresql" in result.stderr and "TRACKER_DATABASE_URL" in result.stderr
    assert not (tmp_path / "pg_ctlcluster.calls").exists()


def test_a_remote_database_that_is_down_is_not_started(tmp_path: Path) -> None:
    # A name that never resolves: nothing is contacted, and nothing local is started for it.
    result = ensure(fake_tools(tmp_path, None), "postgresql://u@db.invalid:5432/x")
    assert result.returncode == 1 and "does not answer" in result.stderr
