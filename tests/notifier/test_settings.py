"""Notifier settings: the operator's variable names (architecture.md), and safe defaults."""

from __future__ import annotations

import pytest
from notifier.settings import NotifierSettings


def test_defaults_refuse_private_egress() -> None:
    settings = NotifierSettings()
    assert settings.allow_private_egress is False
    assert settings.ops_port == 9103
    assert settings.attempt_timeout_seconds > 0


def test_reads_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGESMITH_ALLOW_PRIVATE_EGRESS", "1")
    monkeypatch.setenv("NOTIFIER_PORT", "19103")
    monkeypatch.setenv("NOTIFIER_ATTEMPT_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/x")
    settings = NotifierSettings()
    assert settings.allow_private_egress is True
    assert settings.ops_port == 19103
    assert settings.attempt_timeout_seconds == 5
    assert settings.amqp_url.get_secret_value() == "amqp://guest:guest@127.0.0.1:5672/x"


@pytest.mark.parametrize(
    ("name", "value"),
    [("NOTIFIER_PORT", "0"), ("NOTIFIER_ATTEMPT_TIMEOUT_SECONDS", "0")],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError):
        NotifierSettings()
