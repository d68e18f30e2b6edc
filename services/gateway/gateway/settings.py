"""Gateway settings: the shared secret, the port and the request limits."""

from __future__ import annotations

from pagesmith_runtime import ServiceSettings
from pydantic import AnyHttpUrl, Field, SecretStr, field_validator


class GatewaySettings(ServiceSettings):
    """Read once in main(); the gateway never sees a GitHub token or an LLM key."""

    gateway_secret: SecretStr = Field(validation_alias="GATEWAY_SECRET", min_length=1)
    port: int = Field(8000, validation_alias="GATEWAY_PORT", ge=1, le=65535)
    host: str = Field("0.0.0.0", validation_alias="GATEWAY_HOST")
    # Real requests run to ~30 KB; attachments are capped again after decoding.
    max_body_bytes: int = Field(8 * 1024 * 1024, validation_alias="GATEWAY_MAX_BODY_BYTES", ge=1024)
    max_attachment_bytes: int = Field(
        2 * 1024 * 1024, validation_alias="GATEWAY_MAX_ATTACHMENT_BYTES", ge=1
    )
    max_attachments_total_bytes: int = Field(
        5 * 1024 * 1024, validation_alias="GATEWAY_MAX_ATTACHMENTS_TOTAL_BYTES", ge=1
    )
    publish_timeout_seconds: float = Field(
        5.0, validation_alias="GATEWAY_PUBLISH_TIMEOUT_SECONDS", gt=0
    )
    # The tracker's base URL: when set, the 200 names where to follow the task.
    status_url: str | None = Field(None, validation_alias="GATEWAY_STATUS_URL")

    @field_validator("status_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        AnyHttpUrl(value)  # raises for anything but an http(s) URL
        return value.rstrip("/")
