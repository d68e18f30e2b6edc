"""Settings every service shares; each service subclasses this once and builds it in main()."""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Broker URL, logging, shutdown timing and where ops endpoints listen, from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    # Secret because its password is: repr(settings) and logs must never show it.
    amqp_url: SecretStr = Field(
        SecretStr("amqp://guest:guest@127.0.0.1:5672/"), validation_alias="AMQP_URL"
    )
    log_level: str = Field("INFO", validation_alias="PAGESMITH_LOG_LEVEL")
    shutdown_grace_seconds: float = Field(
        6.0, validation_alias="PAGESMITH_SHUTDOWN_GRACE_SECONDS", ge=0, le=60
    )
    # All interfaces, for probes from outside a container; `make run` keeps them on loopback.
    ops_host: str = Field("0.0.0.0", validation_alias="PAGESMITH_OPS_HOST", min_length=1)


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], command: str) -> S:
    """Build settings from the environment, or exit with a message naming the bad variables.

    pydantic's own message would echo the values it read, secrets included.
    """
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        )
        sys.exit(f"{command}: bad settings: {problems}")
