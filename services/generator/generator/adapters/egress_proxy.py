"""A forward proxy for the self-check browser: every connection Chromium makes is vetted here.

Chromium is told to send everything (loopback included) through it. The proxy resolves names
itself, vets each answer with the runtime's egress policy and connects only to a vetted address,
so redirects, iframes, images, fetches and WebSockets get the same rule as the first URL, and a
name cannot answer one address for the check and another for the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import structlog
from aiohttp.abc import AbstractResolver
from pagesmith_runtime.egress import EgressPolicy, EgressRefused, GuardedResolver, is_ip_literal

log = structlog.get_logger(__name__)

REFUSED_HEADER = "X-Pagesmith-Egress"
HEAD_LIMIT = 64 * 1024
CHUNK = 64 * 1024
# Request headers that describe the hop to the proxy, not the request to the target.
HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade")
)
Target = tuple[str, int]  # (host, port)


class BadRequest(Exception):
    """The client sent something that is not a proxy request we forward."""


@dataclass
class ProxyScope:
    """One check's view of the proxy: its own listener, allowed origins and refusals."""

    origins: frozenset[Target]
    server: str = ""
    refused: list[str] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)


def origin_target(origin: str) -> Target:
    """`http://127.0.0.1:8123` -> ("127.0.0.1", 8123)."""
    parts = urlsplit(origin)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError(f"an allowed origin is http://host:port, not {origin!r}")
    return parts.hostname, parts.port


class EgressProxy:
    """Started once, shared by every check; each check opens a scope with its own origins."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        resolver: AbstractResolver | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self._policy = policy
        self._resolver = GuardedResolver(policy, inner=resolver)
        self._connect_timeout = connect_timeout
        self._base: ProxyScope | None = None
        self._base_server: asyncio.Server | None = None
        self._lock = asyncio.Lock()

    @property
    def server(self) -> str:
        """The listener for traffic that belongs to no check (Chromium's own): policy only."""
        if self._base is None:
            raise RuntimeError("the proxy has not been started")
        return self._base.server

    async def start(self) -> None:
        async with self._lock:
            if self._base is None:
                scope = ProxyScope(frozenset())
                self._base_server = await self._listen(scope)
                self._base = scope

    async def close(self) -> None:
        if self._base_server is not None and self._base is not None:
            await self._stop(self._base_server, self._base)
            self._base_server = self._base = None
        await self._resolver.close()

    @asynccontextmanager
    async def scope(self, origins: Iterable[str] = ()) -> AsyncIterator[ProxyScope]:
        """A listener that also lets through `origins`; closed, tunnels and all, on exit."""
        scope = ProxyScope(frozenset(origin_target(o) for o in origins))
        server = await self._listen(scope)
        try:
            yield scope
        finally:
            await self._stop(server, scope)

    async def _listen(self, scope: ProxyScope) -> asyncio.Server:
        server = await asyncio.start_server(
            lambda r, w: self._serve(scope, r, w), "127.0.0.1", 0, limit=HEAD_LIMIT
        )
        port = server.sockets[0].getsockname()[1]
        scope.server = f"http://127.0.0.1:{port}"
        return server

    async def _stop(self, server: asyncio.Server, scope: ProxyScope) -> None:
        server.close()
        tasks = list(scope._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), timeout=5)

    async def _serve(
        self, scope: ProxyScope, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:  # so that closing the scope can cancel it
            scope._tasks.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            request = _parse_request(await reader.readuntil(b"\r\n\r\n"))
            try:
                up_reader, upstream = await self._open(scope, request.host, request.port)
            except EgressRefused as exc:
                scope.refused.append(request.shown[:300])
                log.info("self-check request refused", target=request.shown[:300], reason=str(exc))
                await _answer(writer, 403, str(exc), refused=True)
                return
            except (OSError, TimeoutError) as exc:
                await _answer(writer, 502, f"could not reach {request.host}: {type(exc).__name__}")
                return
            if request.method == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                await writer.drain()
                await _pipe_both(reader, writer, up_reader, upstream)
            else:
                await _forward(request, reader, writer, up_reader, upstream)
        except BadRequest as exc:
            await _answer(writer, 400, str(exc))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            if task is not None:
                scope._tasks.discard(task)
            for w in (upstream, writer):
                if w is not None:
                    w.close()

    async def _open(
        self, scope: ProxyScope, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect to a vetted address of host: the one that was checked is the one used."""
        if (host, port) in scope.origins:
            addresses = [host]
        elif is_ip_literal(host):
            self._policy.check_address(host)
            addresses = [host.strip("[]")]
        else:
            results = await self._resolver.resolve(host, port, socket.AF_UNSPEC)
            addresses = list(dict.fromkeys(r["host"] for r in results))
        error: Exception = OSError(f"no address for {host}")
        for address in addresses:
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=HEAD_LIMIT),
                    self._connect_timeout,
                )
            except (OSError, TimeoutError) as exc:
                error = exc
        raise error


@dataclass(frozen=True, slots=True)
class Request:
    """A proxy request: CONNECT host:port, or an absolute-form http:// request."""

    method: str
    host: str
    port: int
    path: str  # origin-form path for the target; "" for CONNECT
    authority: str  # the Host a forwarded request carries
    headers: tuple[tuple[str, str], ...]

    @property
    def shown(self) -> str:
        if self.method == "CONNECT":
            return self.authority
        return f"http://{self.authority}{self.path}"


def _parse_request(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise BadRequest("malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise BadRequest("only HTTP/1.x")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise BadRequest("malformed header")
        headers.append((name, value.strip()))
    method = method.upper()
    if method == "CONNECT":
        host, sep, port = target.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise BadRequest("CONNECT needs host:port")
        return Request(method, host.strip("[]"), int(port), "", target, tuple(headers))
    try:
        parts = urlsplit(target)
        port_number = parts.port or 80
    except ValueError:
        raise BadRequest("malformed URL") from None
    if parts.scheme != "http" or not parts.hostname or "@" in parts.netloc:
        raise BadRequest("a proxy request names an absolute http:// URL without credentials")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Request(method, parts.hostname, port_number, path, parts.netloc, tuple(headers))


async def _answer(
    writer: asyncio.StreamWriter, status: int, text: str, *, refused: bool = False
) -> None:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = text.encode()
    marker = f"{REFUSED_HEADER}: refused\r\n" if refused else ""
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n{marker}\r\n".encode()
        + body
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()


async def _forward(
    request: Request,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    upstream: asyncio.StreamWriter,
) -> None:
    """One request, one response, then both connections close.

    `Connection: close` both ways: a client connection to the proxy is never reused for
    another request, which could name another host.
    """
    listed = {
        t.strip().lower()
        for n, v in request.headers
        if n.lower() == "connection"
        for t in v.split(",")
    }
    drop = HOP_BY_HOP | listed
    kept = [(n, v) for n, v in request.headers if n.lower() not in drop]
    if not any(n.lower() == "host" for n, _ in kept):
        kept.insert(0, ("Host", request.authority))
    lengths = {v for n, v in kept if n.lower() == "content-length"}
    chunked = any(n.lower() == "transfer-encoding" for n, _ in kept)
    if len(lengths) > 1 or (lengths and chunked) or any(not v.isdigit() for v in lengths):
        raise BadRequest("ambiguous request body length")
    upstream.write(
        f"{request.method} {request.path} HTTP/1.1\r\n".encode("latin-1")
        + b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in kept)
        + b"Connection: close\r\n\r\n"
    )
    if lengths:
        await _copy(reader, upstream, int(next(iter(lengths))))
        body: asyncio.Task[None] | None = None
    else:
        # A chunked upload runs until the response is done; a bodyless request sends nothing.
        body = asyncio.create_task(_pipe(reader, upstream)) if chunked else None
    try:
        await upstream.drain()
        await _relay_response(up_reader, writer)
    finally:
        if body is not None:
            body.cancel()
            with contextlib.suppress(BaseException):
                await body


async def _relay_response(up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        head = await up_reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)
        informational = len(status) > 1 and status[1].startswith("1") and status[1] != "101"
        if informational:
            writer.write(head)
            continue
        kept = [
            line
            for line in lines[1:]
            if line and line.partition(":")[0].strip().lower() not in HOP_BY_HOP
        ]
        writer.write("\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1"))
        break
    await _pipe(up_reader, writer)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int) -> None:
    while size > 0:
        data = await reader.read(min(CHUNK, size))
        if not data:
            raise asyncio.IncompleteReadError(b"", size)
        writer.write(data)
        await writer.drain()
        size -= len(data)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    upstream: asyncio.StreamWriter,
) -> None:
    """A tunnel: bytes both ways until both sides are done (or the scope closes)."""
    await asyncio.gather(_pipe(reader, upstream), _pipe(up_reader, writer))
