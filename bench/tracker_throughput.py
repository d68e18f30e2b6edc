"""How fast the tracker commits events: rows/s and events/s, on the real broker and PostgreSQL.

    uv run python -m bench.tracker_throughput [--tasks 500] [--runs 3] [--concurrency 64]

Each run takes a fresh vhost and database, queues `--tasks` tasks' worth of realistic events
(task.submitted with a CSV attachment, site.generated with its files, site.published,
task.notified: four per task) while no tracker runs, then starts pagesmith-tracker and waits
until every event is committed. The rate comes from the ledger's own commit times
(recorded_at of the first and the last event), so start-up and polling do not count. Prints
each run and the median of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
from pagesmith_contracts import Attachment, SiteFile

from tests.support.broker import create_vhost, delete_vhost
from tests.support.postgres import create_database, drop_database
from tests.tracker.helpers import Publisher, Tracker, story

CSV = b"product,region,sales\n" + b"".join(b"Widget%d,North,%d.50\n" % (i, i) for i in range(200))
INDEX = (
    b"<!doctype html><html><head><title>Bench</title></head><body>"
    + b"x" * 4000
    + b"</body></html>"
)


async def queue_events(amqp_url: str, tasks: int) -> int:
    count = 0
    async with Publisher(amqp_url) as pub:
        for i in range(tasks):
            s = story(task=f"bench-{i % 50}")
            submitted = s.submitted().model_copy(
                update={
                    "attachments": (Attachment(name="data.csv", media_type="text/csv", data=CSV),)
                }
            )
            generated = s.generated().model_copy(
                update={
                    "files": (
                        SiteFile(path="index.html", content=INDEX),
                        SiteFile(path="data.csv", content=CSV),
                        SiteFile(path="README.md", content=b"# Bench\n" * 50),
                    )
                }
            )
            for event in (submitted, generated, s.published(), s.notified()):
                await pub.event(event)
                count += 1
    return count


async def one_run(tasks: int, concurrency: int) -> tuple[float, float, int]:
    vhost, amqp_url = create_vhost("pagesmith-bench")
    database_url = create_database(prefix="pagesmith_bench")
    logs = Path(tempfile.mkdtemp(prefix="pagesmith-bench-"))
    tracker = Tracker(amqp_url, database_url, logs, env={"TRACKER_CONCURRENCY": str(concurrency)})
    try:
        # The tracker's queue exists (every service declares the topology) before it first runs.
        events = await queue_events(amqp_url, tasks)
        tracker.start()
        conn = await asyncpg.connect(database_url)
        try:
            deadline = time.monotonic() + 600
            while await conn.fetchval("SELECT count(*) FROM tracker.events") < events:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the tracker did not commit {events} events:\n{tracker.log()}"
                    )
                await asyncio.sleep(0.2)
            first, last = await conn.fetchrow(
                "SELECT min(recorded_at), max(recorded_at) FROM tracker.events"
            )
            rows = await conn.fetchval("SELECT count(*) FROM tracker.tasks")
        finally:
            await conn.close()
        seconds = max((last - first).total_seconds(), 1e-6)
        return events / seconds, rows / seconds, events
    finally:
        tracker.stop()
        delete_vhost(vhost)
        drop_database(database_url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    rates = []
    for run in range(1, args.runs + 1):
        events_per_s, rows_per_s, events = await one_run(args.tasks, args.concurrency)
        rates.append((events_per_s, rows_per_s))
        print(
            f"run {run}: {events} events committed at {events_per_s:.0f} events/s "
            f"({rows_per_s:.0f} task rows/s)"
        )
    median_events = statistics.median(r[0] for r in rates)
    median_rows = statistics.median(r[1] for r in rates)
    print(
        f"median of {args.runs}: {median_events:.0f} events/s, {median_rows:.0f} task rows/s "
        f"(prefetch {args.concurrency}, batched commits)"
    )


if __name__ == "__main__":
    asyncio.run(main())
