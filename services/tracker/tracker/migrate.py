"""Versioned schema migrations: numbered SQL files, applied in one transaction under a lock.

Our own forty lines rather than yoyo: yoyo drives a synchronous DB-API driver and keeps its lock
in a table, so it would bring a second PostgreSQL driver and a thread for start-up alone. Here
the advisory lock is held by the migrating transaction itself, so two replicas that start at
once apply each file exactly once, and a crash mid-way leaves nothing half applied.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import structlog

log = structlog.get_logger(__name__)
# Any constant works; it only has to be the same in every replica (pg_advisory_xact_lock).
LOCK_KEY = 0x7061_6765_736D_7468 & 0x7FFF_FFFF_FFFF_FFFF
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """The database and this code disagree about an applied migration."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def bundled() -> list[Migration]:
    """The migrations shipped in this package, in version order."""
    found = []
    for entry in resources.files("tracker").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


async def migrate(conn: Any, migrations: list[Migration] | None = None) -> list[int]:
    """Apply what is missing; return the versions applied now."""
    migrations = bundled() if migrations is None else migrations
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        await conn.execute(
            "CREATE SCHEMA IF NOT EXISTS tracker;"
            "CREATE TABLE IF NOT EXISTS tracker.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {
            r["version"]: r["checksum"]
            for r in await conn.fetch("SELECT version, checksum FROM tracker.schema_migrations")
        }
        done = []
        for m in migrations:
            if m.version in applied:
                if applied[m.version] != m.checksum:
                    raise MigrationError(f"{m.name} changed after it was applied")
                continue
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO tracker.schema_migrations (version, name, checksum)"
                " VALUES ($1, $2, $3)",
                m.version,
                m.name,
                m.checksum,
            )
            done.append(m.version)
        newer = sorted(set(applied) - {m.version for m in migrations})
        if newer:
            # A newer replica migrated first; migrations stay backward compatible, so carry on.
            log.info("database has migrations this version does not know", versions=newer)
    if done:
        log.info("schema migrated", applied=done)
    return done
