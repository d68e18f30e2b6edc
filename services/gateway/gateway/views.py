"""POST /api/tasks: decide in protocol order (413, 400, 403, 400, 503, 200), first match wins."""

from __future__ import annotations

import contextlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import structlog
from aiohttp import web
from opentelemetry import trace
from pagesmith_contracts import Attachment, TaskRequest, TaskSubmittedV1, make_task_ref
from pagesmith_runtime import TransientError
from pagesmith_runtime.egress import refused_in_every_mode
from pydantic import AnyHttpUrl, ValidationError

from .broker import BROKER
from .metrics import GatewayMetrics
from .settings import GatewaySettings

log = structlog.get_logger(__name__)
SETTINGS = web.AppKey("settings", GatewaySettings)
METRICS = web.AppKey("metrics", GatewayMetrics)


def _answer(request: web.Request, status: int, body: dict[str, Any]) -> web.Response:
    request.app[METRICS].responses.labels(status=str(status)).inc()
    return web.json_response(body, status=status)


def _secret_matches(given: object, expected: str) -> bool:
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    # No `input` in the answer: it could echo the secret or a whole attachment back.
    return [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def _attachment_errors(
    attachments: tuple[Attachment, ...], settings: GatewaySettings
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    total = 0
    for i, att in enumerate(attachments):
        total += len(att.data)
        if len(att.data) > settings.max_attachment_bytes:
            errors.append(
                {
                    "loc": ["attachments", i, "url"],
                    "msg": f"attachment decodes to {len(att.data)} bytes; the limit is "
                    f"{settings.max_attachment_bytes}",
                    "type": "too_large",
                }
            )
    if total > settings.max_attachments_total_bytes:
        errors.append(
            {
                "loc": ["attachments"],
                "msg": f"attachments decode to {total} bytes in all; the limit is "
                f"{settings.max_attachments_total_bytes}",
                "type": "too_large",
            }
        )
    return errors


def _evaluation_url_errors(url: str) -> list[dict[str, Any]]:
    """A literal address no callback may reach (link-local, metadata…) is refused up front.

    Both the URL parser's normalised host (hex, octal and dotless IPv4 become dotted) and the
    host as written are judged. Names are resolved and checked by the notifier at call time.
    """
    hosts = {(AnyHttpUrl(url).host or "").strip("[]")}
    with contextlib.suppress(ValueError):
        hosts.add(urlsplit(url).hostname or "")
    if any(refused_in_every_mode(h) for h in hosts if h):
        return [
            {
                "loc": ["evaluation_url"],
                "msg": "evaluation_url names a link-local, metadata or other address that "
                "callbacks never reach",
                "type": "egress_refused",
            }
        ]
    return []


async def submit_task(request: web.Request) -> web.Response:
    """Validate, queue durably, and answer 200 only once the broker has confirmed."""
    started = time.perf_counter()
    settings = request.app[SETTINGS]
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _answer(request, 413, {"error": f"body larger than {settings.max_body_bytes} bytes"})
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _answer(request, 400, {"error": "body is not valid JSON"})
    if not isinstance(body, dict):
        return _answer(request, 400, {"error": "body must be a JSON object"})
    if not _secret_matches(body.get("secret"), settings.gateway_secret.get_secret_value()):
        log.warning("forbidden: secret missing or wrong")
        return _answer(request, 403, {"error": "forbidden"})
    try:
        task_request = TaskRequest.model_validate(body)
    except ValidationError as exc:
        return _answer(request, 400, {"error": "invalid request", "detail": _field_errors(exc)})
    if errors := _evaluation_url_errors(task_request.evaluation_url):
        log.warning("refused: evaluation_url is an address callbacks never reach")
        return _answer(request, 400, {"error": "invalid request", "detail": errors})
    attachments = task_request.decoded_attachments()
    if errors := _attachment_errors(attachments, settings):
        return _answer(request, 400, {"error": "invalid request", "detail": errors})

    ref = make_task_ref(
        email=task_request.email,
        task=task_request.task,
        round=task_request.round,
        nonce=task_request.nonce,
        evaluation_url=task_request.evaluation_url,
        received_at=datetime.now(UTC),
    )
    structlog.contextvars.bind_contextvars(task_id=ref.task_id)
    span = trace.get_current_span()
    span.set_attribute("pagesmith.task_id", ref.task_id)
    span.set_attribute("pagesmith.round", ref.round)
    event = TaskSubmittedV1(
        source="pagesmith/gateway",
        subject=ref.task_id,
        task=ref,
        brief=task_request.brief,
        checks=task_request.normalised_checks(),
        attachments=attachments,
    )
    publish = request.app[BROKER].publish
    if publish is None:
        return _answer(request, 503, {"error": "cannot queue the task now; try again"})
    try:
        await publish(event)
    except TransientError as exc:
        log.warning("broker did not confirm; answering 503", error=str(exc))
        return _answer(request, 503, {"error": "cannot queue the task now; try again"})
    metrics = request.app[METRICS]
    metrics.tasks.labels(round=str(ref.round), outcome="accepted").inc()
    metrics.ack_latency.observe(time.perf_counter() - started)
    log.info("task accepted", task=ref.task, round=ref.round)
    answer = {"status": "accepted", "task_id": ref.task_id}
    if settings.status_url:
        answer["status_url"] = f"{settings.status_url}/api/tasks/{ref.task_id}"
    return _answer(request, 200, answer)
