"""Helpers for the tracker's tests: events of one task, raw publishing, the API and its stream."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
from pagesmith_contracts import (
    Event,
    RepoCheckedOutV1,
    RepoRef,
    SiteFile,
    SiteGeneratedV1,
    SitePublishedV1,
    TaskFailedV1,
    TaskNotifiedV1,
    TaskRef,
    TaskSubmittedV1,
    make_task_ref,
)
from pagesmith_runtime import declare_topology

from tests.support.procs import Proc, command, free_port

TOKEN = "tracker-test-token-51c2e9ab"
SHA = "2321e82e9aef194d3050cfdb5f48bd383ba0a812"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def task_ref(
    *,
    email: str = "student@example.com",
    task: str = "ShareVolume",
    round_: int = 1,
    received_at: datetime | None = None,
    nonce: str | None = None,
) -> TaskRef:
    return make_task_ref(
        email=email,
        task=task,
        round=round_,
        nonce=nonce or str(uuid.uuid4()),
        evaluation_url="http://127.0.0.1:9/evaluate",
        received_at=received_at or datetime.now(UTC),
    )


@dataclass
class Story:
    """The events of one task's life, in pipeline order."""

    ref: TaskRef

    def submitted(self) -> TaskSubmittedV1:
        return TaskSubmittedV1(
            source="pagesmith/gateway", subject=self.ref.task_id, task=self.ref, brief="b"
        )

    def checked_out(self) -> RepoCheckedOutV1:
        return RepoCheckedOutV1(
            source="pagesmith/publisher",
            subject=self.ref.task_id,
            task=self.ref,
            brief="b",
            repo=RepoRef(owner="o", name="r", html_url="https://forge.example/o/r"),
            head_sha="1" * 40,
            files=(),
        )

    def generated(self, *, degraded: bool = False) -> SiteGeneratedV1:
        return SiteGeneratedV1(
            source="pagesmith/generator",
            subject=self.ref.task_id,
            task=self.ref,
            files=(SiteFile(path="index.html", content=b"<title>x</title>"),),
            commit_message="Round 1",
            degraded=degraded,
            degraded_reason="model unreachable" if degraded else None,
        )

    def published(self) -> SitePublishedV1:
        return SitePublishedV1(
            source="pagesmith/publisher",
            subject=self.ref.task_id,
            task=self.ref,
            repo_url="https://forge.example/o/ShareVolume",
            commit_sha=SHA,
            pages_url="https://o.forge.example/ShareVolume/",
        )

    def notified(self) -> TaskNotifiedV1:
        return TaskNotifiedV1(
            source="pagesmith/notifier",
            subject=self.ref.task_id,
            task=self.ref,
            repo_url="https://forge.example/o/ShareVolume",
            commit_sha=SHA,
            pages_url="https://o.forge.example/ShareVolume/",
            attempts=1,
        )

    def failed(
        self, reason: str = "caller answered 400", *, time_: datetime | None = None
    ) -> TaskFailedV1:
        return TaskFailedV1(
            source="pagesmith/notifier",
            subject=self.ref.task_id,
            task=self.ref,
            stage="notifier",
            reason=reason,
            **({"time": time_} if time_ else {}),
        )


def story(**kwargs: Any) -> Story:
    return Story(task_ref(**kwargs))


class Publisher:
    """Publishes raw bodies or events to the topic exchange of a vhost, confirmed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None
        self._exchange: Any = None

    async def __aenter__(self) -> Publisher:
        self._connection = await aio_pika.connect(self.url)
        channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        self._exchange = (await declare_topology(channel)).exchange
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self._connection.close()

    async def raw(
        self,
        body: bytes | dict[str, Any],
        *,
        routing_key: str,
        headers: dict[str, Any] | None = None,
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await self._exchange.publish(
            aio_pika.Message(
                data,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=headers or {},
            ),
            routing_key=routing_key,
            timeout=10,
        )

    async def event(
        self, event: Event, *, headers: dict[str, Any] | None = None, **extra: Any
    ) -> None:
        body = json.loads(event.model_dump_json())
        body.update(extra)
        await self.raw(body, routing_key=str(event.type), headers=headers)


def api(base: str, path: str, *, token: str | None = TOKEN, method: str = "GET") -> tuple[int, Any]:
    req = urllib.request.Request(f"{base}{path}", method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


async def eventually(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


async def task_in(
    base: str, task_id: str, *, state: str | None = None, timeout: float = 20.0
) -> dict[str, Any]:
    """Wait until the tracker has the task (in `state`, when given); return task + timeline."""

    def check() -> Any:
        status, body = api(base, f"/api/tasks/{task_id}")
        if status == 200 and (state is None or body["task"]["state"] == state):
            return body
        return None

    return await eventually(check, timeout)  # type: ignore[no-any-return]


@dataclass
class Tracker:
    """A pagesmith-tracker process."""

    amqp_url: str
    database_url: str
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spec(self) -> Proc:
        env = {
            "AMQP_URL": self.amqp_url,
            "TRACKER_DATABASE_URL": self.database_url,
            "TRACKER_TOKEN": TOKEN,
            "TRACKER_PORT": str(self.port),
            "TRACKER_HOST": "127.0.0.1",
            "TRACKER_SSE_HEARTBEAT_SECONDS": "1",
            "PAGESMITH_LOG_LEVEL": "INFO",
            **self.env,
        }
        return Proc(
            "tracker",
            [command("pagesmith-tracker")],
            env,
            self.log_dir / f"tracker-{self.port}.log",
            f"{self.url}/readyz",
        )

    def start(self, *, wait: bool = True) -> Tracker:
        self.proc = self.spec().start()
        if wait:
            self.proc.wait_ready(60)
        return self

    def stop(self) -> int | None:
        return self.proc.stop() if self.proc else None

    def log(self) -> str:
        return self.proc.log() if self.proc else ""


class Stream:
    """Reads the tracker's event stream in a thread-free way: aiohttp on the test's loop."""

    def __init__(
        self, base: str, *, task_id: str | None = None, last_event_id: int | None = None
    ) -> None:
        self.base = base
        self.task_id = task_id
        self.last_event_id = last_event_id
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.comments = 0
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def __aenter__(self) -> Stream:
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self._ready.wait(), 20)
        return self

    async def __aexit__(self, *_: Any) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        import aiohttp

        headers = {"Authorization": f"Bearer {TOKEN}"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        params = {"task_id": self.task_id} if self.task_id else {}
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{self.base}/api/tasks/events", headers=headers, params=params
            ) as response,
        ):
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"].startswith("text/event-stream")
            kind, data = "message", ""
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif line == "":
                    if data:
                        self.frames.append((kind, json.loads(data)))
                        if kind == "ready":
                            self._ready.set()
                    kind, data = "message", ""

    def changes(self) -> list[dict[str, Any]]:
        return [d for k, d in self.frames if k == "change"]


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)
