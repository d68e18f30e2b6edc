"""PostgreSQL for tests: a fresh database on the shared server, or a whole cluster of our own.

`create_database` gives each test its own database on the machine's PostgreSQL (others run
tests on it at the same time). `PostgresCluster` is a test-owned server (initdb + pg_ctl on a
free port in a temporary folder) for tests that stop and restart the database.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from .procs import free_port

ADMIN_URL = os.environ.get(
    "PAGESMITH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _server_bin() -> Path:
    """Debian keeps each major version's server in /usr/lib/postgresql/<version>/bin."""
    if os.environ.get("PAGESMITH_TEST_PG_BIN"):
        return Path(os.environ["PAGESMITH_TEST_PG_BIN"])
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
    )
    return versions[-1] if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _server_bin()


def psql(url: str, sql: str, *args: str) -> str:
    """Run SQL through psql (stops at the first error); returns its unaligned output."""
    out = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtX", *args, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout


def database_url(admin_url: str, name: str) -> str:
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def create_database(admin_url: str = ADMIN_URL, prefix: str = "pagesmith_test") -> str:
    """Create a uniquely named database; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    psql(admin_url, f'CREATE DATABASE "{name}"')
    return database_url(admin_url, name)


def drop_database(url: str, admin_url: str = ADMIN_URL) -> None:
    name = url.rsplit("/", 1)[1]
    psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_postgres() -> list[str]:
    """initdb and the server refuse to run as root; as root, run them as `postgres`."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class PostgresCluster:
    """A PostgreSQL server owned by one test: start, stop, restart, remove."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise FileNotFoundError(f"no PostgreSQL server binaries in {PG_BIN}")
        # Not pytest's tmp_path: that is private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="pagesmith-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            PG_BIN / "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str | Path) -> None:
        subprocess.run(
            [*_as_postgres(), *map(str, argv)], check=True, capture_output=True, timeout=120
        )

    def start(self) -> PostgresCluster:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            self.root / "log",
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as in a real restart."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.running():
            try:
                self.stop()
            except subprocess.CalledProcessError:
                time.sleep(1)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""
