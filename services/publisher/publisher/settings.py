"""The publisher's settings, read from the operator's environment once in main()."""

from __future__ import annotations

from pagesmith_runtime import ServiceSettings
from pydantic import Field, SecretStr


class PublisherSettings(ServiceSettings):
    """GitHub access plus the tunables of the Pages wait; GITHUB_TOKEN is required."""

    github_token: SecretStr = Field(validation_alias="GITHUB_TOKEN")
    github_api_url: str = Field("https://api.github.com", validation_alias="GITHUB_API_URL")
    # None: the repositories belong to the token's own user (GET /user).
    github_owner: str | None = Field(None, validation_alias="GITHUB_OWNER")
    ops_port: int = Field(9102, validation_alias="PUBLISHER_PORT")

    github_timeout_seconds: float = Field(
        30.0, gt=0, validation_alias="PUBLISHER_GITHUB_TIMEOUT_SECONDS"
    )
    github_attempts: int = Field(8, ge=1, validation_alias="PUBLISHER_GITHUB_ATTEMPTS")
    # Right after creation GitHub may answer 404/409 on the git data API for a moment.
    fresh_repo_retry_seconds: float = Field(
        15.0, ge=0, validation_alias="PUBLISHER_FRESH_REPO_RETRY_SECONDS"
    )
    max_repo_candidates: int = Field(
        100, ge=1, le=1000, validation_alias="PUBLISHER_MAX_REPO_CANDIDATES"
    )
    # Stop waiting for Pages this long before the task's deadline: the callback needs time too.
    pages_reserve_seconds: float = Field(
        75.0, ge=0, validation_alias="PUBLISHER_PAGES_RESERVE_SECONDS"
    )
    pages_poll_initial_seconds: float = Field(
        2.0, gt=0, validation_alias="PUBLISHER_PAGES_POLL_INITIAL_SECONDS"
    )
    pages_poll_max_seconds: float = Field(
        10.0, gt=0, validation_alias="PUBLISHER_PAGES_POLL_MAX_SECONDS"
    )
    # Ask for a build when the latest one is still for an older commit after this long.
    pages_rebuild_after_seconds: float = Field(
        45.0, ge=0, validation_alias="PUBLISHER_PAGES_REBUILD_AFTER_SECONDS"
    )
    site_timeout_seconds: float = Field(
        10.0, gt=0, validation_alias="PUBLISHER_SITE_TIMEOUT_SECONDS"
    )
    checkout_max_blob_bytes: int = Field(
        1_000_000, ge=1, validation_alias="PUBLISHER_CHECKOUT_MAX_BLOB_BYTES"
    )
    github_concurrency: int = Field(6, ge=1, le=32, validation_alias="PUBLISHER_GITHUB_CONCURRENCY")
