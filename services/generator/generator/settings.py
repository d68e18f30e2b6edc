"""The generator's settings: its own variables only (architecture.md, operator interface)."""

from __future__ import annotations

from pagesmith_runtime import ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class GeneratorSettings(ServiceSettings):
    """OpenAI endpoint and model, ops port, egress rule and the generation budget.

    Tunables without an explicit alias read `GENERATOR_<NAME>`.
    """

    model_config = SettingsConfigDict(env_prefix="GENERATOR_", extra="ignore", frozen=True)

    openai_api_key: SecretStr = Field(validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    model: str = Field("gpt-4.1-mini", validation_alias="GENERATOR_MODEL")
    ops_port: int = Field(9101, validation_alias="GENERATOR_PORT")
    # Tests only: the fetch tool and the self-check browser may reach loopback/private targets
    # (never link-local or metadata). PAGESMITH_ALLOW_PRIVATE_EGRESS is the notifier's, not ours.
    allow_private_fetch: bool = Field(False, validation_alias="GENERATOR_ALLOW_PRIVATE_FETCH")

    # Time kept after generation for the commit, the Pages build and the callback.
    publish_reserve_seconds: float = Field(240.0, ge=0, le=590)
    call_timeout_seconds: float = Field(180.0, gt=0)
    # Transient model failures are retried until the budget runs out; this only caps the calls.
    llm_attempts: int | None = Field(None, ge=1)
    llm_backoff_initial_seconds: float = Field(1.0, gt=0)
    llm_backoff_max_seconds: float = Field(15.0, gt=0)
    max_completion_tokens: int | None = Field(None, ge=256)
    max_tool_rounds: int = Field(8, ge=0, le=50)
    max_repair_rounds: int = Field(2, ge=0, le=10)
    # Below this many seconds left, no repair round starts: the first valid draft ships.
    min_repair_seconds: float = Field(45.0, ge=0)
    send_images: bool = True
    license_holder: str = "Pagesmith contributors"

    prompt_attachment_chars: int = Field(6000, ge=200)
    prompt_repo_chars: int = Field(60000, ge=1000)
    tool_read_chars: int = Field(100_000, ge=1000)

    fetch_max_bytes: int = Field(2_000_000, ge=1024)
    fetch_timeout_seconds: float = Field(15.0, gt=0)
    fetch_user_agent: str = "Pagesmith/0.1 site generator (pagesmith@example.com)"

    selfcheck: bool = True
    chromium_path: str = "/usr/bin/chromium"
    selfcheck_timeout_seconds: float = Field(30.0, gt=0)
