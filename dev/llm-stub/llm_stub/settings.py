"""Stub settings, read from LLM_STUB_* variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class StubSettings(BaseSettings):
    """Where to listen, which key to demand and which scripts to load at start."""

    # An empty LLM_STUB_KEY means "no key", not "the empty key".
    model_config = SettingsConfigDict(
        extra="ignore", frozen=True, env_ignore_empty=True, populate_by_name=True
    )

    host: str = Field("127.0.0.1", validation_alias="LLM_STUB_HOST")
    port: int = Field(8082, validation_alias="LLM_STUB_PORT", ge=0, le=65535)
    key: SecretStr | None = Field(None, validation_alias="LLM_STUB_KEY")
    scripts: Path | None = Field(None, validation_alias="LLM_STUB_SCRIPTS")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"
