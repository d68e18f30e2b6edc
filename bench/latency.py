"""Gateway ack latency and POST-to-callback time, on real processes with zero-latency stand-ins.

    uv run python -m bench.latency [--acks 1000] [--tasks 20] [--selfcheck]

Starts the whole stack (tests/support/stack.py) on a fresh RabbitMQ vhost, then
1. POSTs `--acks` valid requests one after another and reports the 200's latency (p50/p99);
2. runs `--tasks` tasks one after another through the whole pipeline (forge Pages builds take
   0 s, the llm stub answers at once) and reports POST-to-callback times.
Figures are medians and percentiles: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from tests.support.broker import create_vhost, delete_vhost
from tests.support.procs import free_port
from tests.support.receiver import CallbackReceiver
from tests.support.stack import Stack, draft, http_json

INDEX = (
    "<!doctype html><html><head><title>Bench</title></head>"
    '<body><h1>ok</h1><p id="total-sales">400.75</p></body></html>'
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def ack_latency(stack: Stack, n: int) -> list[float]:
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(n):
            body = stack.task_body(
                nonce=str(uuid.uuid4()),
                task=f"ack-bench-{i}",
                evaluation_url="http://127.0.0.1:9/none",
            )
            started = time.perf_counter()
            async with session.post(f"{stack.gateway}/api/tasks", json=body) as r:
                await r.read()
                assert r.status == 200, r.status
            times.append(time.perf_counter() - started)
    return times


async def pipeline(stack: Stack, n: int) -> list[float]:
    http_json(
        "POST",
        f"{stack.stub}/_stub/scripts",
        {"match": None, "responses": [draft({"index.html": INDEX})], "repeat_last": True},
    )
    times: list[float] = []
    for i in range(n):
        body = stack.task_body(nonce=str(uuid.uuid4()), task=f"pipeline-bench-{i}")
        started = time.perf_counter()
        status, _ = stack.post_task(body)
        assert status == 200
        await stack.receiver.wait_for(i + 1, timeout=120)
        times.append(time.perf_counter() - started)
    return times


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--acks", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--selfcheck", action="store_true", help="keep the browser self-check on")
    args = parser.parse_args()

    vhost, url = create_vhost("pagesmith-bench")
    receiver = await CallbackReceiver().start(free_port())
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(amqp_url=url, tmp=Path(tmp), receiver=receiver, pages_build_seconds=0.0)
        stack.extra_env["generator"] = {"GENERATOR_SELFCHECK": "1" if args.selfcheck else "0"}
        try:
            stack.start()
            # The consumers would work through the ack run's tasks; only the gateway is measured.
            for name in ("generator", "publisher", "notifier"):
                stack.procs[name].stop()
            acks = await ack_latency(stack, args.acks)
            p50, p99 = statistics.median(acks) * 1000, pct(acks, 0.99) * 1000
            print(
                f"gateway ack latency over {len(acks)} sequential requests: "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {max(acks) * 1000:.2f} ms"
            )
            delete_vhost(vhost)
            vhost, url = create_vhost("pagesmith-bench")
            stack.amqp_url = url
            for name in ("gateway", "generator", "publisher", "notifier"):
                stack.procs[name].stop()
                stack.restart(name)
            times = await pipeline(stack, args.tasks)
            print(
                f"POST-to-callback over {len(times)} sequential tasks "
                f"(self-check {'on' if args.selfcheck else 'off'}): "
                f"p50 {statistics.median(times):.3f} s, p90 {pct(times, 0.9):.3f} s, "
                f"max {max(times):.3f} s"
            )
        finally:
            stack.stop()
            await receiver.stop()
            delete_vhost(vhost)


if __name__ == "__main__":
    asyncio.run(main())
