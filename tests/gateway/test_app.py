"""The gateway answers JSON for every status, aiohttp's own 404 and 405 included."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from gateway.app import create_app
from gateway.settings import GatewaySettings
from pytest_aiohttp import AiohttpClient

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, monkeypatch: pytest.MonkeyPatch
) -> TestClient[web.Request, web.Application]:
    monkeypatch.setenv("GATEWAY_SECRET", "s3cret-gateway-value")
    # No broker needed: routing answers before any handler runs.
    monkeypatch.setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:1/")
    return await aiohttp_client(create_app(GatewaySettings()))


@pytest.mark.parametrize("path", ["/", "/api/task", "/api/tasks/123", "/readyz/x"])
async def test_unknown_paths_are_a_json_404(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status == 404
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "not found"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("GET", "/api/tasks", "POST"), ("PUT", "/api/tasks", "POST"), ("POST", "/readyz", "GET,HEAD")],
)
async def test_wrong_methods_are_a_json_405_with_allow(
    client: Client, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status == 405
    assert response.content_type == "application/json"
    assert sorted(response.headers["Allow"].split(",")) == sorted(allow.split(","))
    assert await response.json() == {
        "error": f"method {method} not allowed",
        "allowed": sorted(allow.split(",")),
    }
