"""Notifier settings: nothing secret, only timing and the egress switch."""

from __future__ import annotations

from pagesmith_runtime import ServiceSettings
from pydantic import Field


class NotifierSettings(ServiceSettings):
    ops_port: int = Field(9103, validation_alias="NOTIFIER_PORT", ge=1, le=65535)
    allow_private_egress: bool = Field(False, validation_alias="PAGESMITH_ALLOW_PRIVATE_EGRESS")
    attempt_timeout_seconds: float = Field(
        15.0, validation_alias="NOTIFIER_ATTEMPT_TIMEOUT_SECONDS", gt=0
    )
    max_backoff_seconds: float = Field(64.0, validation_alias="NOTIFIER_MAX_BACKOFF_SECONDS", gt=0)
