"""Gateway settings: the shared secret, the port and the request limits."""

from __future__ import annotations

from pagesmith_runtime import ServiceSettings
from pydantic import Field, SecretStr


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
