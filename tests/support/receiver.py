"""A loopback HTTP listener standing in for the caller's evaluation_url."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web


class CallbackReceiver:
    """Records every POST; answers with `statuses` in order, then 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.content_types: list[str] = []
        self.statuses: list[int] = []
        self.on_post: Callable[[dict[str, Any]], None] | None = None
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.raw.append(body)
        self.content_types.append(request.headers.get("Content-Type", ""))
        status = self.statuses.pop(0) if self.statuses else 200
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {"_invalid": body.decode(errors="replace")}
        payload["_status"] = status
        self.received.append(payload)
        self._arrived.set()
        return web.json_response({"ok": status == 200}, status=status)

    async def start(self, port: int) -> CallbackReceiver:
        app = web.Application()
        app.router.add_post("/evaluate", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/evaluate"
        return self

    async def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """Wait until `count` callbacks answered 200 arrived."""
        async with asyncio.timeout(timeout):
            while len([p for p in self.received if p["_status"] == 200]) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return [p for p in self.received if p["_status"] == 200]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
