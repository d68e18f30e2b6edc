"""gidgethub behind the GitHub port: fixed headers, typed errors, stamina retries in the deadline.

Every call sends `Accept: application/vnd.github+json` and `X-GitHub-Api-Version`, which
gidgethub leaves out (ecosystem-notes §8). gidgethub's exceptions are translated here and
nowhere else (style.md rule 5, ecosystem-notes §9).
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import gidgethub
import gidgethub.aiohttp
import stamina
import structlog
from pagesmith_runtime import PermanentError, TransientError

from ..metrics import PublisherMetrics
from ..ports import Account, GitHub, GitHubRequestError, UrlVars
from ..settings import PublisherSettings

log = structlog.get_logger(__name__)

ACCEPT = "application/vnd.github+json"
API_VERSION = {"X-GitHub-Api-Version": "2022-11-28"}
USER_AGENT = "pagesmith-publisher"
# GitHub's advice for a secondary limit without retry-after: wait at least a minute.
SECONDARY_LIMIT_WAIT = 60.0
# Even a task past its deadline gets one honest attempt per call.
MIN_BUDGET_SECONDS = 1.0


class GitHubUnavailable(TransientError):
    """Worth retrying; `reason` labels the retry metric."""

    def __init__(self, message: str, *, reason: str, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.reason = reason


def translate(
    exc: gidgethub.HTTPException, *, deadline: datetime, now: datetime | None = None
) -> GitHubUnavailable | GitHubRequestError:
    """Map a gidgethub exception to a transient or a permanent error."""
    now = now or datetime.now(UTC)
    status = int(exc.status_code)
    message = str(exc)
    headers = exc.headers
    if isinstance(exc, gidgethub.GitHubBroken):
        return GitHubUnavailable(
            f"GitHub answered {status}: {message}",
            reason="server_error",
            retry_after=_retry_after(headers, now),
        )
    if isinstance(exc, gidgethub.RateLimitExceeded):
        reset: datetime = exc.rate_limit.reset_datetime
        if reset >= deadline:
            return GitHubRequestError(
                status, f"rate limit exhausted until {reset.isoformat()}, past the deadline"
            )
        until_reset = max((reset - now).total_seconds() + 1.0, 1.0)
        return GitHubUnavailable(
            "rate limit exhausted", reason="rate_limit", retry_after=until_reset
        )
    if status in (403, 429):
        wait = _retry_after(headers, now)
        if wait is None and headers.get("x-ratelimit-remaining") == "0":
            wait = _reset_wait(headers, now)
        if wait is None and (status == 429 or "secondary rate limit" in message.lower()):
            wait = SECONDARY_LIMIT_WAIT
        if wait is not None:
            return GitHubUnavailable(
                f"GitHub answered {status}: {message}",
                reason="secondary_rate_limit",
                retry_after=wait,
            )
    if isinstance(exc, gidgethub.BadRequestUnknownError):
        return GitHubRequestError(status, str(exc.response)[:500])
    errors = getattr(exc, "errors", None)
    return GitHubRequestError(status, message, errors=errors)


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _reset_wait(headers: Mapping[str, str], now: datetime) -> float | None:
    try:
        reset = float(headers["x-ratelimit-reset"])
    except (KeyError, ValueError):
        return None
    return max(reset - now.timestamp() + 1.0, 1.0)


class _CountingAPI(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's aiohttp client, counting every response by method and status class."""

    def __init__(
        self, session: aiohttp.ClientSession, *, metrics: PublisherMetrics, **kwargs: Any
    ) -> None:
        super().__init__(session, USER_AGENT, **kwargs)
        self._metrics = metrics

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        try:
            status, response_headers, data = await super()._request(method, url, headers, body)
        except (aiohttp.ClientError, TimeoutError):
            self._metrics.github_requests.labels(method=method, status_class="error").inc()
            raise
        self._metrics.github_requests.labels(method=method, status_class=f"{status // 100}xx").inc()
        return status, response_headers, data


class GitHubAdapter:
    """The process-wide GitHub client; `for_task` binds it to one task's deadline."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: PublisherSettings,
        metrics: PublisherMetrics,
    ) -> None:
        self._api = _CountingAPI(
            session,
            metrics=metrics,
            oauth_token=settings.github_token.get_secret_value(),
            base_url=settings.github_api_url,
        )
        self._settings = settings
        self.metrics = metrics
        self.attempts = settings.github_attempts
        self._slots = asyncio.Semaphore(settings.github_concurrency)
        self._account: Account | None = None
        self._account_lock = asyncio.Lock()

    def __repr__(self) -> str:  # never show the token, even by accident
        return f"GitHubAdapter(base_url={self._settings.github_api_url!r})"

    def for_task(self, deadline: datetime) -> TaskGitHub:
        return TaskGitHub(self, deadline)

    async def account(self, gh: GitHub) -> Account:
        """The owner of Pagesmith's repositories, resolved once per process."""
        async with self._account_lock:
            if self._account is None:
                self._account = await _resolve_account(gh, self._settings.github_owner)
                log.info("repository owner", owner=self._account.login, org=self._account.is_org)
            return self._account

    async def send(
        self, method: str, url: str, url_vars: UrlVars | None, data: Any, deadline: datetime
    ) -> Any:
        """One request, no retries; errors already translated."""
        api = self._api
        vars_ = dict(url_vars or {})
        headers = dict(API_VERSION)
        try:
            async with self._slots:
                if method == "GET":
                    return await api.getitem(url, vars_, accept=ACCEPT, extra_headers=headers)
                if method == "POST":
                    return await api.post(
                        url, vars_, data=data, accept=ACCEPT, extra_headers=headers
                    )
                if method == "PATCH":
                    return await api.patch(
                        url, vars_, data=data, accept=ACCEPT, extra_headers=headers
                    )
                return await api.put(url, vars_, data=data, accept=ACCEPT, extra_headers=headers)
        except gidgethub.HTTPException as exc:
            raise translate(exc, deadline=deadline) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GitHubUnavailable(
                f"{method} {url}: {type(exc).__name__}", reason="network"
            ) from exc


class TaskGitHub:
    """The GitHub port for one task: retries transient failures until its deadline."""

    def __init__(self, client: GitHubAdapter, deadline: datetime) -> None:
        self._client = client
        self._deadline = deadline

    async def getitem(self, url: str, url_vars: UrlVars | None = None) -> Any:
        return await self._call("GET", url, url_vars, b"")

    async def post(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any:
        return await self._call("POST", url, url_vars, data)

    async def patch(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any:
        return await self._call("PATCH", url, url_vars, data)

    async def put(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any:
        return await self._call("PUT", url, url_vars, data)

    async def account(self) -> Account:
        return await self._client.account(self)

    def _seconds_left(self) -> float:
        return (self._deadline - datetime.now(UTC)).total_seconds()

    def _should_retry(self, exc: Exception) -> bool | float:
        if not isinstance(exc, GitHubUnavailable):
            return False
        left = self._seconds_left()
        wait = exc.retry_after
        if wait is not None and wait > left:
            return False
        self._client.metrics.github_retries.labels(reason=exc.reason).inc()
        log.warning("GitHub call failed, retrying", error=str(exc), retry_after=wait)
        return True if wait is None else wait

    async def _call(self, method: str, url: str, url_vars: UrlVars | None, data: Any) -> Any:
        budget = max(self._seconds_left(), MIN_BUDGET_SECONDS)
        async for attempt in stamina.retry_context(
            on=self._should_retry,
            attempts=self._client.attempts,
            timeout=budget,
            wait_initial=0.5,
            wait_max=8.0,
        ):
            with attempt:
                return await self._client.send(method, url, url_vars, data, self._deadline)
        raise AssertionError("unreachable: stamina re-raises the last error")


async def _resolve_account(gh: GitHub, configured: str | None) -> Account:
    me = await gh.getitem("/user")
    login = str(me["login"])
    if configured is None or configured.lower() == login.lower():
        return Account(login=login, is_org=False)
    other = await gh.getitem("/users/{owner}", {"owner": configured})
    if other.get("type") == "Organization":
        return Account(login=str(other["login"]), is_org=True)
    raise PermanentError(
        f"GITHUB_OWNER {configured!r} is another user; the token can create repositories "
        f"only for {login!r} or an organisation it belongs to"
    )
