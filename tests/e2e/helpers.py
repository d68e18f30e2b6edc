"""Small helpers shared by the round-2 and idempotency end-to-end tests."""

from __future__ import annotations

import asyncio
import re
import struct
import time
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.support.stack import Stack, http_json

SERVICES = ("gateway", "generator", "publisher", "notifier")
_REPO = re.compile(r"^/repos/[^/]+/[^/]+")
_SHA = re.compile(r"/[0-9a-f]{40}(?=/|$)")
_ID = re.compile(r"/[0-9]+(?=/|$)")


async def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.1
) -> Any:
    """Poll without blocking the loop (the callback receiver lives on it); return the value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(every)
    raise TimeoutError("condition not met")


def script(
    stack: Stack, responses: list[dict[str, Any]], *, match: str | None, repeat_last: bool = False
) -> None:
    """Register a stub script that answers only requests containing `match`."""
    http_json(
        "POST",
        f"{stack.stub}/_stub/scripts",
        {"match": match, "responses": responses, "repeat_last": repeat_last},
    )


def add_fault(stack: Stack, **fault: Any) -> dict[str, Any]:
    return http_json("POST", f"{stack.forge}/_forge/faults", fault)  # type: ignore[no-any-return]


def clear_forge_log(stack: Stack) -> None:
    http_json("DELETE", f"{stack.forge}/_forge/requests")


def owner_repo(callback: dict[str, Any]) -> str:
    owner, name = callback["repo_url"].rstrip("/").split("/")[-2:]
    return f"{owner}/{name}"


def commits_on_main(stack: Stack, full_name: str) -> list[dict[str, Any]]:
    return stack.github(f"/repos/{full_name}/commits?sha=main&per_page=100")  # type: ignore[no-any-return]


def my_repos(stack: Stack) -> list[dict[str, Any]]:
    return stack.github("/user/repos?per_page=100")  # type: ignore[no-any-return]


def templated(path: str) -> str:
    """`/repos/o/r/git/commits/<sha>` → `/repos/{o}/{r}/git/commits/{sha}`."""
    path = _REPO.sub("/repos/{o}/{r}", path)
    path = _SHA.sub("/{sha}", path)
    return _ID.sub("/{id}", path)


def call_table(entries: list[dict[str, Any]]) -> tuple[str, int]:
    """A text table of (method, templated path, status) → count, in order of first use."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for e in entries:
        counts[(e["method"], templated(e["path"]), e["status"])] += 1
    width = max((len(p) for _, p, _ in counts), default=10)
    lines = [f"{'method':6}  {'path':{width}}  status  count"]
    lines += [f"{m:6}  {p:{width}}  {s:6}  {n:5}" for (m, p, s), n in counts.items()]
    total = sum(counts.values())
    lines.append(f"{'':6}  {'total':{width}}  {'':6}  {total:5}")
    return "\n".join(lines), total


def tiny_png() -> bytes:
    """A valid 2x2 RGB PNG: binary bytes with NULs, for byte-exactness checks."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes([255, 0, 0, 0, 255, 0]) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def assert_scripted(stack: Stack) -> None:
    """Every model call was answered by a test's script: no demo answer slipped in."""
    answered = [r["answered_by"] for r in stack.stub_requests()]
    assert "demo" not in answered, answered
