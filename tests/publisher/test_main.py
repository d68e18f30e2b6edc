"""Wiring: settings from the operator's variables, Deps from the runtime, handlers by type."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from pagesmith_runtime import PUBLISHER, Runtime, Telemetry
from prometheus_client import CollectorRegistry
from publisher.__main__ import main, make_deps
from publisher.adapters.github import GitHubAdapter
from publisher.adapters.site import SiteHttpProbe
from publisher.app import HANDLERS
from publisher.settings import PublisherSettings

ENV = ("GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_OWNER", "PUBLISHER_PORT")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_settings_read_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:8081/api/v3")
    monkeypatch.setenv("GITHUB_OWNER", "acme")
    monkeypatch.setenv("PUBLISHER_PORT", "9999")
    monkeypatch.setenv("PUBLISHER_PAGES_RESERVE_SECONDS", "90")
    settings = PublisherSettings()
    assert settings.github_token.get_secret_value() == "ghp_secret"
    assert "ghp_secret" not in repr(settings)
    assert settings.github_api_url == "http://127.0.0.1:8081/api/v3"
    assert (settings.github_owner, settings.ops_port) == ("acme", 9999)
    assert settings.pages_reserve_seconds == 90


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    settings = PublisherSettings()
    assert settings.github_api_url == "https://api.github.com"
    assert settings.github_owner is None
    assert settings.ops_port == 9102


def test_main_refuses_to_start_without_a_token() -> None:
    with pytest.raises(SystemExit, match="GITHUB_TOKEN"):
        main()


def test_handlers_cover_the_publisher_queue() -> None:
    assert set(HANDLERS) == set(PUBLISHER.bindings)


async def test_make_deps_builds_the_real_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    registry = CollectorRegistry()

    async def publish(event: object) -> None:
        raise AssertionError("nothing is published while wiring")

    runtime = Runtime(
        publish=publish, registry=registry, telemetry=Telemetry(tracer_provider=TracerProvider())
    )
    async with make_deps(PublisherSettings(), runtime) as deps:
        assert isinstance(deps.github, GitHubAdapter)
        assert isinstance(deps.site, SiteHttpProbe)
    names = {m.name for m in registry.collect()}
    assert {"pagesmith_github_requests", "pagesmith_pages_wait_seconds"} <= names
