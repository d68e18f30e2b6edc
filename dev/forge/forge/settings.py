"""Forge settings, read once from the environment in main()."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

API_PREFIX = "/api/v3"


@dataclass(frozen=True, slots=True)
class ForgeSettings:
    """Everything the forge needs; tests build it directly with tmp_path."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8081
    # None: derive every URL from the request's own scheme and Host, which is what
    # in-process test servers on random ports need.
    public_url: str | None = None
    token: str = "forge-dev-token"
    user: str = "pagesmith-dev"
    extra_tokens: Mapping[str, str] = field(default_factory=dict)  # token -> login
    orgs: tuple[str, ...] = ()
    pages_build_seconds: float = 1.0
    lag_seconds: float = 0.0

    @property
    def tokens(self) -> dict[str, str]:
        """Every accepted token and the login it authenticates as."""
        return {**self.extra_tokens, self.token: self.user}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ForgeSettings:
        """Read FORGE_* variables; unset ones keep their defaults."""
        host = env.get("FORGE_HOST", "127.0.0.1")
        port = int(env.get("FORGE_PORT", "8081"))
        data_dir = env.get("FORGE_DATA_DIR") or tempfile.mkdtemp(prefix="pagesmith-forge-")
        return cls(
            data_dir=Path(data_dir),
            host=host,
            port=port,
            public_url=(env.get("FORGE_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
            token=env.get("FORGE_TOKEN", "forge-dev-token"),
            user=env.get("FORGE_USER", "pagesmith-dev"),
            extra_tokens=_pairs(env.get("FORGE_TOKENS", "")),
            orgs=tuple(o.strip() for o in env.get("FORGE_ORGS", "").split(",") if o.strip()),
            pages_build_seconds=float(env.get("FORGE_PAGES_BUILD_SECONDS", "1.0")),
            lag_seconds=float(env.get("FORGE_LAG_SECONDS", "0")),
        )


def _pairs(raw: str) -> dict[str, str]:
    """Parse "tok1:user1,tok2:user2"."""
    pairs = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        token, sep, login = item.strip().partition(":")
        if not sep or not token or not login:
            raise ValueError(f"FORGE_TOKENS entry {item!r} is not token:user")
        pairs[token] = login
    return pairs
