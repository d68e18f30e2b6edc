"""POST /api/tasks on a real broker: the protocol's answers; nothing queued on a refusal."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from gateway.app import create_app
from gateway.settings import GatewaySettings
from pagesmith_contracts import TaskSubmittedV1, task_id_for

from tests.support.fixtures import TDS_TASKS
from tests.support.queues import drain

pytestmark = pytest.mark.integration
SECRET = "s3cret-gateway-value"
CSV = b"product,region,sales\nWidget,North,120.50\nGadget,South,80.25\n"


def request_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "student@example.com",
        "secret": SECRET,
        "task": "sum-of-sales-3f9a1",
        "round": 1,
        "nonce": "019a252d-a236-748a-836e-afd11f49bc4b",
        "brief": "Publish a page that sums data.csv.",
        "checks": [
            "index.html has a title",
            {"js": "document.title === `Sales Summary abc12`"},
        ],
        "evaluation_url": "http://127.0.0.1:9/evaluate",
        "attachments": [
            {"name": "data.csv", "url": "data:text/csv;base64," + base64.b64encode(CSV).decode()}
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
async def client(amqp_url, aiohttp_client, monkeypatch):
    monkeypatch.setenv("GATEWAY_SECRET", SECRET)
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", str(256 * 1024))
    app = create_app(GatewaySettings())
    c = await aiohttp_client(app)
    for _ in range(100):
        if (await c.get("/readyz")).status == 200:
            break
        await asyncio.sleep(0.05)
    return c


async def test_accepts_and_queues_a_confirmed_task(client, amqp_url):
    response = await client.post("/api/tasks", json=request_body())
    assert response.status == 200
    body = await response.json()
    expected_id = task_id_for(
        "student@example.com", "sum-of-sales-3f9a1", 1, "019a252d-a236-748a-836e-afd11f49bc4b"
    )
    assert body == {"status": "accepted", "task_id": expected_id}

    (event,) = await drain(amqp_url, "pagesmith.generator")
    assert isinstance(event, TaskSubmittedV1)
    assert event.subject == expected_id
    assert event.task.round == 1
    assert event.task.nonce == "019a252d-a236-748a-836e-afd11f49bc4b"
    assert (event.task.deadline - event.task.received_at).total_seconds() == 600
    assert event.attachments[0].name == "data.csv"
    assert event.attachments[0].data == CSV
    assert [(c.text, c.js) for c in event.checks] == [
        ("index.html has a title", None),
        ("document.title === `Sales Summary abc12`", True),
    ]
    # The publisher's queue gets it too (it checks out round-2 repositories).
    assert len(await drain(amqp_url, "pagesmith.publisher")) == 1
    assert SECRET not in event.model_dump_json()


async def test_same_request_twice_gets_the_same_task_id(client):
    first = await (await client.post("/api/tasks", json=request_body())).json()
    second = await (await client.post("/api/tasks", json=request_body())).json()
    assert first == second


async def test_real_requests_are_accepted(client, amqp_url):
    for name in ("Analyze", "LLMPages", "ShareVolume"):
        body = json.loads((TDS_TASKS / f"{name}.round1.request.json").read_text())
        body["secret"] = SECRET
        response = await client.post("/api/tasks", json=body)
        assert response.status == 200, await response.text()
    events = await drain(amqp_url, "pagesmith.generator")
    assert sorted(e.task.task for e in events) == ["Analyze", "LLMPages", "ShareVolume"]


@pytest.mark.parametrize(
    "secret",
    [None, "", "wrong", 12345, SECRET + "x"],
    ids=["missing", "empty", "wrong", "int", "longer"],
)
async def test_wrong_secret_is_403_and_nothing_queued(client, amqp_url, secret):
    body = request_body()
    if secret is None:
        del body["secret"]
    else:
        body["secret"] = secret
    response = await client.post("/api/tasks", json=body)
    assert response.status == 403
    assert await response.json() == {"error": "forbidden"}
    assert await drain(amqp_url, "pagesmith.generator") == []


async def test_secret_is_checked_before_fields(client):
    response = await client.post("/api/tasks", json={"secret": "nope", "round": "x"})
    assert response.status == 403


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"), (b"\xff\xfe", "not valid JSON")],
)
async def test_unparseable_body_is_400(client, amqp_url, raw, reason):
    response = await client.post(
        "/api/tasks", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert reason in (await response.json())["error"]
    assert await drain(amqp_url, "pagesmith.generator") == []


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"round": 3}, ["round"]),
        ({"round": "1"}, ["round"]),
        ({"email": None}, ["email"]),
        ({"task": "   "}, ["task"]),
        ({"evaluation_url": "not a url"}, ["evaluation_url"]),
        ({"checks": [{"py": "x"}]}, ["checks", 0]),
        (
            {"attachments": [{"name": "a.csv", "url": "https://example.com/a.csv"}]},
            ["attachments", 0, "url"],
        ),
        (
            {"attachments": [{"name": "a.csv", "url": "data:text/csv;base64,@@@"}]},
            ["attachments", 0, "url"],
        ),
        ({"attachments": [{"name": "../..", "url": "data:,x"}]}, ["attachments", 0, "name"]),
    ],
)
async def test_bad_fields_are_400_with_field_errors(client, amqp_url, change, loc):
    body = request_body(**change)
    if change.get("email", "") is None:
        del body["email"]
    response = await client.post("/api/tasks", json=body)
    assert response.status == 400
    answer = await response.json()
    assert answer["error"] == "invalid request"
    assert any(d["loc"][: len(loc)] == loc for d in answer["detail"]), answer
    assert SECRET not in await response.text()
    assert await drain(amqp_url, "pagesmith.generator") == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://168.63.129.16/machine",
        "http://100.100.100.200/latest/meta-data/",
        "http://192.0.0.192/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://[fe80::1]/",
        "http://169.254.1.1:8787/evaluate",
        # Legacy IPv4 forms, normalised by the URL parser to the metadata address.
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://2852039166/",
        "http://0251.0376.0251.0376/",
        "http://169.254.43518/",
        "http://169.254.169.254./",
    ],
)
async def test_a_metadata_evaluation_url_is_400_and_nothing_queued(client, amqp_url, url):
    response = await client.post("/api/tasks", json=request_body(evaluation_url=url))
    assert response.status == 400
    answer = await response.json()
    assert answer["error"] == "invalid request"
    [detail] = answer["detail"]
    assert detail["loc"] == ["evaluation_url"] and detail["type"] == "egress_refused"
    assert await drain(amqp_url, "pagesmith.generator") == []
    assert await drain(amqp_url, "pagesmith.publisher") == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8787/evaluate",  # loopback callbacks are the notifier's call
        "http://10.0.0.5/evaluate",
        "https://metadata.example.com/evaluate",  # a name: checked where it resolves
    ],
)
async def test_other_evaluation_urls_are_left_to_the_notifier(client, url):
    response = await client.post("/api/tasks", json=request_body(evaluation_url=url))
    assert response.status == 200


async def test_oversized_body_is_413_and_nothing_queued(client, amqp_url):
    big = base64.b64encode(b"x" * 300_000).decode()
    body = request_body(attachments=[{"name": "big.txt", "url": f"data:text/plain;base64,{big}"}])
    response = await client.post("/api/tasks", json=body)
    assert response.status == 413
    assert await drain(amqp_url, "pagesmith.generator") == []


async def test_oversized_attachment_is_400(amqp_url, aiohttp_client, monkeypatch):
    monkeypatch.setenv("GATEWAY_SECRET", SECRET)
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("GATEWAY_MAX_ATTACHMENT_BYTES", "10")
    client = await aiohttp_client(create_app(GatewaySettings()))
    response = await client.post("/api/tasks", json=request_body())
    assert response.status == 400
    assert (await response.json())["detail"][0]["type"] == "too_large"


async def test_missing_attachments_and_null_are_fine(client):
    body = request_body()
    del body["attachments"]
    assert (await client.post("/api/tasks", json=body)).status == 200
    assert (await client.post("/api/tasks", json=request_body(attachments=None))).status == 200


async def test_broker_down_is_503_and_not_ready(aiohttp_client, monkeypatch):
    monkeypatch.setenv("GATEWAY_SECRET", SECRET)
    monkeypatch.setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:1/")
    client = await aiohttp_client(create_app(GatewaySettings()))
    response = await client.post("/api/tasks", json=request_body())
    assert response.status == 503
    assert (await client.get("/readyz")).status == 503
    assert (await client.get("/healthz")).status == 200


async def test_metrics_count_answers(client):
    await client.post("/api/tasks", json=request_body())
    await client.post("/api/tasks", json=request_body(secret="bad"))
    text = await (await client.get("/metrics")).text()
    assert 'pagesmith_gateway_responses_total{status="200"} 1.0' in text
    assert 'pagesmith_gateway_responses_total{status="403"} 1.0' in text
    assert 'pagesmith_tasks_total{outcome="accepted",round="1"} 1.0' in text


async def test_status_url_names_the_task_in_the_tracker(amqp_url, aiohttp_client, monkeypatch):
    monkeypatch.setenv("GATEWAY_SECRET", SECRET)
    monkeypatch.setenv("AMQP_URL", amqp_url)
    monkeypatch.setenv("GATEWAY_STATUS_URL", "http://127.0.0.1:9104/")
    client = await aiohttp_client(create_app(GatewaySettings()))
    for _ in range(100):
        if (await client.get("/readyz")).status == 200:
            break
        await asyncio.sleep(0.05)
    response = await client.post("/api/tasks", json=request_body())
    assert response.status == 200
    body = await response.json()
    expected_id = task_id_for(
        "student@example.com", "sum-of-sales-3f9a1", 1, "019a252d-a236-748a-836e-afd11f49bc4b"
    )
    # The protocol's two fields unchanged, plus where to follow the task.
    assert body == {
        "status": "accepted",
        "task_id": expected_id,
        "status_url": f"http://127.0.0.1:9104/api/tasks/{expected_id}",
    }


def test_status_url_must_be_an_http_url(monkeypatch):
    monkeypatch.setenv("GATEWAY_SECRET", SECRET)
    monkeypatch.setenv("GATEWAY_STATUS_URL", "javascript:alert(1)")
    with pytest.raises(ValueError):
        GatewaySettings()
