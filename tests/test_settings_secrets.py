"""No service's settings show the broker password, however they are printed or dumped."""

from __future__ import annotations

import pytest
from gateway.settings import GatewaySettings
from generator.settings import GeneratorSettings
from notifier.settings import NotifierSettings
from pagesmith_runtime import ServiceSettings
from publisher.settings import PublisherSettings

PASSWORD = "broker-pw-9d2f41"
URL = f"amqp://pagesmith:{PASSWORD}@rabbit.internal:5672/prod"
REQUIRED = {
    "GATEWAY_SECRET": "gateway-secret-value",
    "OPENAI_API_KEY": "sk-test-key-value",
    "GITHUB_TOKEN": "ghp-test-token-value",
}


@pytest.mark.parametrize(
    "cls", [GatewaySettings, GeneratorSettings, PublisherSettings, NotifierSettings]
)
def test_the_broker_password_never_shows(
    cls: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMQP_URL", URL)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    settings = cls()
    assert settings.amqp_url.get_secret_value() == URL
    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump())]
    for text in shown:
        assert PASSWORD not in text
        for secret in REQUIRED.values():
            assert secret not in text


def test_the_default_broker_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMQP_URL", raising=False)
    assert ServiceSettings().amqp_url.get_secret_value() == "amqp://guest:guest@127.0.0.1:5672/"
