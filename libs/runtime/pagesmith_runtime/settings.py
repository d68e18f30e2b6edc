"""Settings every service shares; each service subclasses this once and builds it in main()."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Broker URL, logging and shutdown timing, read from the operator's environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    amqp_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", validation_alias="AMQP_URL")
    log_level: str = Field("INFO", validation_alias="PAGESMITH_LOG_LEVEL")
    shutdown_grace_seconds: float = Field(
        6.0, validation_alias="PAGESMITH_SHUTDOWN_GRACE_SECONDS", ge=0, le=60
    )
