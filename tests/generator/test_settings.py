"""Settings read the generator's own variables and nothing else."""

from __future__ import annotations

import pytest
from generator.settings import GeneratorSettings
from pydantic import ValidationError

FOREIGN = {
    "GITHUB_TOKEN": "ghp_foreignTOKENvalue0000000000000000000",
    "GATEWAY_SECRET": "gateway-secret-value",
    "GITHUB_API_URL": "http://forge.test",
    "PUBLISHER_PORT": "9999",
}


def test_reads_only_the_generator_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in FOREIGN.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0000000000000000000000")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("GENERATOR_MODEL", "gpt-test")
    monkeypatch.setenv("GENERATOR_PORT", "9111")
    # The notifier's switch: it opens callbacks, never the generator's fetches.
    monkeypatch.setenv("PAGESMITH_ALLOW_PRIVATE_EGRESS", "1")
    monkeypatch.setenv("GENERATOR_PUBLISH_RESERVE_SECONDS", "200")
    monkeypatch.setenv("AMQP_URL", "amqp://u:p@127.0.0.1:5672/v")

    s = GeneratorSettings()  # type: ignore[call-arg]

    assert s.openai_api_key.get_secret_value() == "sk-from-env-0000000000000000000000"
    assert s.openai_base_url == "http://127.0.0.1:9/v1"
    assert (s.model, s.ops_port) == ("gpt-test", 9111)
    assert s.allow_private_fetch is False  # PAGESMITH_ALLOW_PRIVATE_EGRESS=1 does not open it
    assert s.publish_reserve_seconds == 200 and s.amqp_url.get_secret_value().endswith("/v")
    dumped = repr(s.model_dump())
    for value in FOREIGN.values():
        assert value not in dumped
    assert "sk-from-env" not in repr(s)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_BASE_URL",
        "GENERATOR_MODEL",
        "GENERATOR_PORT",
        "GENERATOR_ALLOW_PRIVATE_FETCH",
        "PAGESMITH_OPS_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    s = GeneratorSettings()  # type: ignore[call-arg]
    assert (s.openai_base_url, s.model, s.ops_port) == (None, "gpt-4.1-mini", 9101)
    assert s.allow_private_fetch is False
    assert s.ops_host == "0.0.0.0"
    assert s.llm_attempts is None  # model calls are retried for as long as the budget lasts


def test_private_fetch_has_its_own_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("GENERATOR_ALLOW_PRIVATE_FETCH", "1")
    monkeypatch.setenv("PAGESMITH_OPS_HOST", "127.0.0.1")
    s = GeneratorSettings()  # type: ignore[call-arg]
    assert s.allow_private_fetch is True and s.ops_host == "127.0.0.1"


def test_the_model_retry_tunables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("GENERATOR_LLM_ATTEMPTS", "12")
    monkeypatch.setenv("GENERATOR_LLM_BACKOFF_INITIAL_SECONDS", "0.05")
    monkeypatch.setenv("GENERATOR_LLM_BACKOFF_MAX_SECONDS", "2")
    s = GeneratorSettings()  # type: ignore[call-arg]
    assert (s.llm_attempts, s.llm_backoff_initial_seconds, s.llm_backoff_max_seconds) == (
        12,
        0.05,
        2,
    )


def test_the_openai_key_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ValidationError):
        GeneratorSettings()  # type: ignore[call-arg]
