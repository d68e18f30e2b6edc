"""Where the services are and the credentials to use, from the environment (or make run's files)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"
DEFAULT_TRACKER_URL = "http://127.0.0.1:9104"
# `make run` generates these once; reading them lets its terminal's neighbours just work.
STATE_DIR = Path(".pagesmith")


def _secret(env: str, file_name: str) -> str | None:
    value = os.environ.get(env, "").strip()
    if value:
        return value
    path = STATE_DIR / file_name
    if path.is_file():
        return path.read_text().strip() or None
    return None


@dataclass(frozen=True, slots=True)
class Config:
    gateway_url: str
    tracker_url: str
    tracker_url_given: bool
    token: str | None
    secret: str | None

    @classmethod
    def from_env(cls) -> Config:
        tracker = os.environ.get("PAGESMITH_TRACKER_URL", "").strip()
        return cls(
            gateway_url=(
                os.environ.get("PAGESMITH_GATEWAY_URL", "").strip() or DEFAULT_GATEWAY_URL
            ).rstrip("/"),
            tracker_url=(tracker or DEFAULT_TRACKER_URL).rstrip("/"),
            tracker_url_given=bool(tracker),
            token=_secret("TRACKER_TOKEN", "tracker-token"),
            secret=_secret("GATEWAY_SECRET", "gateway-secret"),
        )
