"""Egress test doubles: a stand-in internet host on 127.0.0.2, a tripwire, scripted DNS."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping, Sequence

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from pagesmith_runtime.egress import EgressPolicy

# No internet in tests: 127.0.0.2 plays a public host, 127.0.0.1 stays what must not be reached.
STANDIN = "127.0.0.2"


def standin_policy(*, allow_private: bool = False) -> EgressPolicy:
    return EgressPolicy(
        allow_private=allow_private, treat_as_public=(ipaddress.ip_network(f"{STANDIN}/32"),)
    )


class Tripwire:
    """A TCP listener that records every connection made to it, HTTP or not."""

    def __init__(self) -> None:
        self.hits: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Tripwire:
        self._server = await asyncio.start_server(self._accept, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            self.hits.append(await asyncio.wait_for(reader.read(300), 2) or b"(connected)")
        except TimeoutError:
            self.hits.append(b"(connected)")
        writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class ScriptedResolver(AbstractResolver):
    """Answers each name from a script: one list of addresses per lookup, the last repeated."""

    def __init__(self, answers: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self._answers = {k: list(v) for k, v in answers.items()}
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        script = self._answers.get(host)
        if not script:
            raise OSError(f"no such name in this test: {host}")
        addresses = script.pop(0) if len(script) > 1 else script[0]
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for a in addresses
        ]

    async def close(self) -> None:
        pass


async def serve(app: web.Application, host: str, port: int = 0) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, int(runner.addresses[0][1])


async def standin_and_tripwire(app: web.Application) -> tuple[web.AppRunner, Tripwire, int]:
    """`app` on 127.0.0.2 and a tripwire on 127.0.0.1, on the same port (rebinding tests)."""
    for _ in range(20):
        runner, port = await serve(app, STANDIN)
        try:
            return runner, await Tripwire().start("127.0.0.1", port), port
        except OSError:
            await runner.cleanup()
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")
