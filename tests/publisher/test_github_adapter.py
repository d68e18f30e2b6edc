"""The gidgethub adapter: error translation, headers, retries in the deadline, no token leaks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import gidgethub
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer
from gidgethub import sansio
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pagesmith_runtime import PermanentError, TransientError
from prometheus_client import CollectorRegistry
from publisher.adapters.github import GitHubAdapter, GitHubUnavailable, translate
from publisher.metrics import PublisherMetrics
from publisher.ports import GitHubRequestError

from .conftest import make_settings

JSON = {"content-type": "application/json; charset=utf-8"}
TOKEN = "test-token-not-real"
NOW = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(minutes=9)


def raised(status: int, body: Any, **headers: str) -> gidgethub.HTTPException:
    """The exception gidgethub raises for this exact response."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(gidgethub.HTTPException) as info:
        sansio.decipher_response(status, {**JSON, **headers}, raw)
    return info.value


# -- translation -------------------------------------------------------------------------


def test_5xx_is_transient() -> None:
    error = translate(raised(502, {"message": "Server Error"}), deadline=DEADLINE, now=NOW)
    assert isinstance(error, TransientError)
    assert error.retry_after is None


def test_primary_rate_limit_before_the_deadline_waits_for_the_reset() -> None:
    reset = int((NOW + timedelta(seconds=30)).timestamp())
    exc = raised(
        403,
        {"message": "API rate limit exceeded"},
        **{
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset),
        },
    )
    assert isinstance(exc, gidgethub.RateLimitExceeded)
    error = translate(exc, deadline=DEADLINE, now=NOW)
    assert isinstance(error, TransientError)
    assert error.retry_after == pytest.approx(31, abs=1)


def test_primary_rate_limit_past_the_deadline_is_permanent() -> None:
    reset = int((DEADLINE + timedelta(minutes=5)).timestamp())
    exc = raised(
        403,
        {"message": "API rate limit exceeded"},
        **{
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset),
        },
    )
    error = translate(exc, deadline=DEADLINE, now=NOW)
    assert isinstance(error, PermanentError)


def test_secondary_rate_limit_honours_retry_after() -> None:
    exc = raised(
        403,
        {"message": "You have exceeded a secondary rate limit."},
        **{"retry-after": "7", "x-ratelimit-remaining": "4000"},
    )
    assert type(exc) is gidgethub.BadRequest
    error = translate(exc, deadline=DEADLINE, now=NOW)
    assert isinstance(error, TransientError)
    assert error.retry_after == 7


def test_secondary_rate_limit_without_retry_after_waits_a_minute() -> None:
    exc = raised(403, {"message": "You have exceeded a secondary rate limit."})
    error = translate(exc, deadline=DEADLINE, now=NOW)
    assert isinstance(error, TransientError)
    assert error.retry_after == 60


def test_429_is_transient() -> None:
    error = translate(raised(429, {"message": "Too Many Requests"}), deadline=DEADLINE, now=NOW)
    assert isinstance(error, TransientError)


def test_403_without_rate_limit_signals_is_permanent() -> None:
    error = translate(
        raised(403, {"message": "Resource not accessible by personal access token"}),
        deadline=DEADLINE,
        now=NOW,
    )
    assert isinstance(error, GitHubRequestError)
    assert error.status == 403


def test_name_taken_keeps_its_errors() -> None:
    exc = raised(
        422,
        {
            "message": "Repository creation failed.",
            "errors": [
                {
                    "resource": "Repository",
                    "code": "custom",
                    "field": "name",
                    "message": "name already exists on this account",
                }
            ],
        },
    )
    assert isinstance(exc, gidgethub.ValidationError)
    error = translate(exc, deadline=DEADLINE, now=NOW)
    assert isinstance(error, GitHubRequestError)
    assert (error.status, error.errors[0]["code"]) == (422, "custom")


def test_invalid_field_is_permanent() -> None:
    exc = raised(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": "Repository", "code": "missing_field", "field": "name"}],
        },
    )
    assert isinstance(exc, gidgethub.InvalidField)
    assert isinstance(translate(exc, deadline=DEADLINE, now=NOW), PermanentError)


def test_not_fast_forward_is_a_422_request_error() -> None:
    error = translate(
        raised(422, {"message": "Update is not a fast forward"}), deadline=DEADLINE, now=NOW
    )
    assert isinstance(error, GitHubRequestError)
    assert error.status == 422
    assert "fast forward" in error.message


def test_non_json_422_is_permanent() -> None:
    exc = raised(422, b"<html>oops</html>", **{"content-type": "text/html"})
    assert isinstance(exc, gidgethub.BadRequestUnknownError)
    assert isinstance(translate(exc, deadline=DEADLINE, now=NOW), GitHubRequestError)


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "Bad credentials"), (404, "Not Found"), (409, "Git Repository is empty.")],
)
def test_other_4xx_are_permanent_with_status(status: int, message: str) -> None:
    error = translate(raised(status, {"message": message}), deadline=DEADLINE, now=NOW)
    assert isinstance(error, GitHubRequestError)
    assert (error.status, error.message) == (status, message)


# -- the adapter against a scripted HTTP server ---------------------------------------------


class Scripted:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.responses: dict[tuple[str, str], list[Reply]] = {}

    def on(self, method: str, path: str, *responses: Reply) -> None:
        self.responses.setdefault((method, path), []).extend(responses)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.method, request.path_qs, dict(request.headers), body))
        queue = self.responses.get((request.method, request.path), [])
        if not queue:
            return web.json_response({"message": "Not Found"}, status=404)
        status, body, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        return web.json_response(body, status=status, headers=headers)


Reply = tuple[int, Any, dict[str, str]]


def reply(status: int, body: Any = None, **headers: str) -> Reply:
    return (status, body if body is not None else {}, headers)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Scripted, str]]:
    scripted = Scripted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    async with TestServer(app) as srv:
        yield scripted, str(srv.make_url("/api/v3"))


async def adapter_for(
    base_url: str, session: aiohttp.ClientSession, **overrides: object
) -> tuple[GitHubAdapter, PublisherMetrics]:
    metrics = PublisherMetrics(CollectorRegistry())
    settings = make_settings(github_api_url=base_url, github_token=TOKEN, **overrides)
    return GitHubAdapter(session, settings, metrics), metrics


def deadline_in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_every_call_sends_the_accept_version_and_token_headers(
    server: tuple[Scripted, str],
) -> None:
    scripted, base = server
    scripted.on("GET", "/api/v3/repos/o/r", reply(200, {"name": "r"}))
    async with aiohttp.ClientSession() as session:
        adapter, metrics = await adapter_for(base, session)
        gh = adapter.for_task(deadline_in(60))
        assert await gh.getitem("/repos/{owner}/{repo}", {"owner": "o", "repo": "r"}) == {
            "name": "r"
        }
    _, path, headers, _ = scripted.requests[0]
    assert path == "/api/v3/repos/o/r"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert headers["Authorization"] == f"token {TOKEN}"
    assert metrics.github_requests.labels(method="GET", status_class="2xx")._value.get() == 1
    assert TOKEN not in repr(adapter)


async def test_5xx_is_retried_then_succeeds(server: tuple[Scripted, str]) -> None:
    scripted, base = server
    scripted.on(
        "POST",
        "/api/v3/repos/o/r/git/commits",
        reply(502, {"message": "Bad Gateway"}),
        reply(502, {"message": "Bad Gateway"}),
        reply(201, {"sha": "a" * 40}),
    )
    async with aiohttp.ClientSession() as session:
        adapter, metrics = await adapter_for(base, session)
        gh = adapter.for_task(deadline_in(60))
        result = await gh.post("/repos/o/r/git/commits", data={"message": "m"})
    assert result == {"sha": "a" * 40}
    assert len(scripted.requests) == 3
    assert all(json.loads(r[3]) == {"message": "m"} for r in scripted.requests)
    assert metrics.github_requests.labels(method="POST", status_class="5xx")._value.get() == 2
    assert metrics.github_retries.labels(reason="server_error")._value.get() == 2


async def test_secondary_rate_limit_is_retried(server: tuple[Scripted, str]) -> None:
    scripted, base = server
    scripted.on(
        "POST",
        "/api/v3/repos/o/r/pages",
        reply(
            403, {"message": "You have exceeded a secondary rate limit."}, **{"Retry-After": "1"}
        ),
        reply(201, {"html_url": "https://o.github.io/r/"}),
    )
    async with aiohttp.ClientSession() as session:
        adapter, metrics = await adapter_for(base, session)
        result = await adapter.for_task(deadline_in(60)).post("/repos/o/r/pages", data={})
    assert result["html_url"] == "https://o.github.io/r/"
    assert metrics.github_retries.labels(reason="secondary_rate_limit")._value.get() == 1


async def test_retry_after_beyond_the_deadline_is_not_waited_for(
    server: tuple[Scripted, str],
) -> None:
    scripted, base = server
    scripted.on(
        "GET", "/api/v3/user", reply(429, {"message": "slow down"}, **{"Retry-After": "3600"})
    )
    async with aiohttp.ClientSession() as session:
        adapter, _ = await adapter_for(base, session)
        with pytest.raises(TransientError) as info:
            await adapter.for_task(deadline_in(60)).getitem("/user")
    assert info.value.retry_after == 3600
    assert len(scripted.requests) == 1


async def test_permanent_errors_are_not_retried(server: tuple[Scripted, str]) -> None:
    scripted, base = server
    async with aiohttp.ClientSession() as session:
        adapter, _ = await adapter_for(base, session)
        with pytest.raises(GitHubRequestError) as info:
            await adapter.for_task(deadline_in(60)).getitem("/repos/o/missing")
    assert info.value.status == 404
    assert len(scripted.requests) == 1


async def test_persistent_5xx_gives_up_as_transient(server: tuple[Scripted, str]) -> None:
    scripted, base = server
    scripted.on("GET", "/api/v3/user", reply(503, {"message": "Unavailable"}))
    async with aiohttp.ClientSession() as session:
        adapter, _ = await adapter_for(base, session)
        with pytest.raises(GitHubUnavailable):
            await adapter.for_task(deadline_in(60)).getitem("/user")
    assert len(scripted.requests) == 5  # stamina's test mode: attempts=5


async def test_unreachable_github_is_transient() -> None:
    async with aiohttp.ClientSession() as session:
        adapter, metrics = await adapter_for("http://127.0.0.1:9/api/v3", session)
        with pytest.raises(GitHubUnavailable) as info:
            await adapter.for_task(deadline_in(60)).getitem("/user")
    assert info.value.reason == "network"
    assert metrics.github_requests.labels(method="GET", status_class="error")._value.get() == 5


async def test_owner_defaults_to_the_token_user_and_is_resolved_once(
    server: tuple[Scripted, str],
) -> None:
    scripted, base = server
    scripted.on("GET", "/api/v3/user", reply(200, {"login": "someone", "type": "User"}))
    async with aiohttp.ClientSession() as session:
        adapter, _ = await adapter_for(base, session)
        first = await adapter.for_task(deadline_in(60)).account()
        second = await adapter.for_task(deadline_in(60)).account()
    assert first == second
    assert (first.login, first.is_org) == ("someone", False)
    assert [r[1] for r in scripted.requests] == ["/api/v3/user"]


async def test_an_organisation_owner(server: tuple[Scripted, str]) -> None:
    scripted, base = server
    scripted.on("GET", "/api/v3/user", reply(200, {"login": "someone", "type": "User"}))
    scripted.on("GET", "/api/v3/users/acme", reply(200, {"login": "acme", "type": "Organization"}))
    async with aiohttp.ClientSession() as session:
        adapter, _ = await adapter_for(base, session, github_owner="acme")
        account = await adapter.for_task(deadline_in(60)).account()
    assert (account.login, account.is_org) == ("acme", True)


async def test_another_users_account_is_refused(server: tuple[Scripted, str]) -> None:
    scripted, base = server
    scripted.on("GET", "/api/v3/user", reply(200, {"login": "someone", "type": "User"}))
    scripted.on("GET", "/api/v3/users/other", reply(200, {"login": "other", "type": "User"}))
    async with aiohttp.ClientSession() as session:
        adapter, _ = await adapter_for(base, session, github_owner="other")
        with pytest.raises(PermanentError):
            await adapter.for_task(deadline_in(60)).account()


async def test_the_token_is_in_no_log_line_and_no_span(server: tuple[Scripted, str]) -> None:
    scripted, base = server
    scripted.on(
        "GET",
        "/api/v3/user",
        reply(502, {"message": "Bad Gateway"}),
        reply(401, {"message": "Bad credentials"}),
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config = create_trace_config(tracer_provider=provider, sensitive_headers=["authorization"])
    with structlog.testing.capture_logs() as logs:
        async with aiohttp.ClientSession(trace_configs=[config]) as session:
            adapter, _ = await adapter_for(base, session)
            with pytest.raises(GitHubRequestError) as info:
                await adapter.for_task(deadline_in(60)).getitem("/user")
    assert TOKEN not in str(info.value)
    assert logs, "the retry should have been logged"
    assert TOKEN not in repr(logs)
    spans = exporter.get_finished_spans()
    assert len(spans) == 2
    assert all(TOKEN not in repr(dict(s.attributes or {})) for s in spans)
