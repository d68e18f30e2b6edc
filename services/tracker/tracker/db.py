"""The connection pool: opened and migrated at start, retried while PostgreSQL is down."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import structlog

from .migrate import migrate

log = structlog.get_logger(__name__)
# Errors that say "the database is away right now", not "this write is wrong".
TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, "starting up"
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.InsufficientResourcesError,
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


async def _init(conn: Any) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def open_pool(dsn: str, *, size: int, stop: asyncio.Event | None = None) -> Any:
    """Create the pool and migrate the schema, retrying with backoff while the database is away."""
    delay = 0.5
    while True:
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=1,
                max_size=size,
                init=_init,
                command_timeout=15,
                timeout=10,
                # Released connections are checked cheaply; a dead one is replaced on acquire.
                max_inactive_connection_lifetime=60,
            )
            try:
                async with pool.acquire() as conn:
                    await migrate(conn)
            except BaseException:
                await pool.close()
                raise
            return pool
        except Exception as exc:
            if not is_transient(exc) or (stop is not None and stop.is_set()):
                raise
            # The URL may carry a password: name only the error.
            log.warning("database unreachable, retrying", error=type(exc).__name__, retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
