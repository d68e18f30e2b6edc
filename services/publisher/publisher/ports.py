"""What the handlers depend on: the GitHub port, the site probe, and the Deps that carry them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pagesmith_runtime import PermanentError

from .metrics import PublisherMetrics
from .settings import PublisherSettings

UrlVars = Mapping[str, str | int]


class GitHubRequestError(PermanentError):
    """GitHub refused a request for good. `status` and `errors` let callers spot known cases."""

    def __init__(self, status: int, message: str, *, errors: Any = None) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status
        self.message = message
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Account:
    """The user or organisation that owns Pagesmith's repositories."""

    login: str
    is_org: bool


class GitHub(Protocol):
    """GitHub's REST API for one task: relative URLs (URI templates), JSON in and out.

    Raises TransientError once retries inside the task's deadline are spent, and
    GitHubRequestError (a PermanentError) for answers that retrying cannot change.
    """

    async def getitem(self, url: str, url_vars: UrlVars | None = None) -> Any: ...

    async def post(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any: ...

    async def patch(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any: ...

    async def put(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any: ...

    async def account(self) -> Account: ...


class GitHubClient(Protocol):
    """Hands out a GitHub port whose retries stop at the given deadline."""

    def for_task(self, deadline: datetime) -> GitHub: ...


class SiteProbe(Protocol):
    """A plain, unauthenticated GET of a published page."""

    async def status(self, url: str) -> int | None:
        """The HTTP status, or None when the site could not be reached at all."""
        ...


@dataclass(frozen=True, slots=True)
class Deps:
    settings: PublisherSettings
    github: GitHubClient
    site: SiteProbe
    metrics: PublisherMetrics
