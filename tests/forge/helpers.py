"""Helpers for the forge tests: a gidgethub wrapper, a commit flow, polling, the git CLI."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gidgethub.aiohttp import GitHubAPI

TOKEN = "forge-dev-token"
USER = "pagesmith-dev"
OTHER_TOKEN = "outsider-token"
ORG = "acme"
# What Pagesmith's adapter sends on every call (ecosystem-notes.md §8).
HEADERS = {"X-GitHub-Api-Version": "2022-11-28"}
ACCEPT = "application/vnd.github+json"


class GH:
    """gidgethub's GitHubAPI with the accept and version headers on every call."""

    def __init__(self, api: GitHubAPI) -> None:
        self.api = api

    async def get(self, url: str, **kw: Any) -> Any:
        return await self.api.getitem(url, accept=ACCEPT, extra_headers=HEADERS, **kw)

    async def iter(self, url: str, **kw: Any) -> list[Any]:
        items = self.api.getiter(url, accept=ACCEPT, extra_headers=HEADERS, **kw)
        return [item async for item in items]

    async def post(self, url: str, data: Any = None, **kw: Any) -> Any:
        return await self.api.post(url, data=data, accept=ACCEPT, extra_headers=HEADERS, **kw)

    async def patch(self, url: str, data: Any, **kw: Any) -> Any:
        return await self.api.patch(url, data=data, accept=ACCEPT, extra_headers=HEADERS, **kw)

    async def put(self, url: str, data: Any = None, **kw: Any) -> Any:
        return await self.api.put(url, data=data, accept=ACCEPT, extra_headers=HEADERS, **kw)

    async def delete(self, url: str, data: Any = b"", **kw: Any) -> None:
        await self.api.delete(url, data=data, accept=ACCEPT, extra_headers=HEADERS, **kw)


async def new_repo(gh: GH, name: str, **fields: Any) -> dict[str, Any]:
    return await gh.post("/user/repos", data={"name": name, **fields})  # type: ignore[no-any-return]


async def commit_files(gh: GH, full: str, files: dict[str, bytes], message: str = "site") -> str:
    """One commit on main through the git data API (the publisher's flow); returns its sha."""
    head = await gh.get(f"/repos/{full}/git/ref/heads/main")
    parent = await gh.get(f"/repos/{full}/git/commits/{head['object']['sha']}")
    entries = []
    for path, data in files.items():
        blob = await gh.post(
            f"/repos/{full}/git/blobs",
            data={"content": base64.b64encode(data).decode(), "encoding": "base64"},
        )
        entries.append({"path": path, "mode": "100644", "type": "blob", "sha": blob["sha"]})
    tree = await gh.post(
        f"/repos/{full}/git/trees", data={"base_tree": parent["tree"]["sha"], "tree": entries}
    )
    commit = await gh.post(
        f"/repos/{full}/git/commits",
        data={"message": message, "tree": tree["sha"], "parents": [parent["sha"]]},
    )
    await gh.patch(
        f"/repos/{full}/git/refs/heads/main", data={"sha": commit["sha"], "force": False}
    )
    return commit["sha"]  # type: ignore[no-any-return]


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


async def git(*args: str, cwd: Path | None = None) -> str:
    """Run the real git CLI without blocking the loop the forge runs on."""
    proc = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"GIT_TERMINAL_PROMPT": "0", "HOME": str(cwd or Path.cwd()), "PATH": "/usr/bin:/bin"},
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {err.decode()}")
    return out.decode()
