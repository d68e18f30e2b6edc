"""Tracker settings: the database URL and the API token, nothing else secret."""

from __future__ import annotations

from pagesmith_runtime import ServiceSettings
from pydantic import Field, SecretStr, field_validator

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/pagesmith"


class TrackerSettings(ServiceSettings):
    """Read once in main(); the tracker never sees the gateway secret, a GitHub token or a key."""

    database_url: SecretStr = Field(
        SecretStr(DEFAULT_DATABASE_URL), validation_alias="TRACKER_DATABASE_URL"
    )
    token: SecretStr = Field(validation_alias="TRACKER_TOKEN", min_length=16)
    port: int = Field(9104, validation_alias="TRACKER_PORT", ge=1, le=65535)
    host: str = Field("0.0.0.0", validation_alias="TRACKER_HOST", min_length=1)
    retention_days: int = Field(30, validation_alias="TRACKER_RETENTION_DAYS", ge=1)
    retention_interval_seconds: float = Field(
        3600.0, validation_alias="TRACKER_RETENTION_INTERVAL_SECONDS", gt=0
    )
    # e.g. http://grafana:3000/explore?left={"queries":[{"query":"{trace_id}"}]}; None: no link.
    trace_url_template: str | None = Field(None, validation_alias="TRACKER_TRACE_URL_TEMPLATE")
    concurrency: int = Field(64, validation_alias="TRACKER_CONCURRENCY", ge=1, le=1000)
    pool_size: int = Field(8, validation_alias="TRACKER_DB_POOL_SIZE", ge=2, le=100)
    heartbeat_seconds: float = Field(15.0, validation_alias="TRACKER_SSE_HEARTBEAT_SECONDS", gt=0)

    @field_validator("trace_url_template")
    @classmethod
    def _names_the_trace(cls, value: str | None) -> str | None:
        if not value:
            return None
        if "{trace_id}" not in value:
            raise ValueError("must contain {trace_id}")
        return value
