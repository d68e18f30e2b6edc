"""Events: JSON round trips, discriminated decoding, immutability, task ids and repo keys."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from pagesmith_contracts import (
    DEADLINE,
    EVENT_TYPES,
    AnyEvent,
    Event,
    SelfCheckSummary,
    SiteFile,
    SiteGeneratedV1,
    SitePublishedV1,
    TaskFailedV1,
    TaskRef,
    TaskSubmittedV1,
    decode_event,
    event_type,
    make_task_ref,
    repo_key_for,
    task_id_for,
)
from pydantic import ValidationError

from .samples import BINARY, SHA, sample_events, task_ref

EVENTS = sample_events()


def ids(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_samples_cover_every_event_type() -> None:
    assert {type(e) for e in EVENTS} == set(EVENT_TYPES)
    union_members = get_args(get_args(AnyEvent)[0])
    assert set(union_members) == set(EVENT_TYPES)


@pytest.mark.parametrize("event", EVENTS, ids=ids(EVENTS))
def test_round_trip_through_json(event: Event) -> None:
    wire = event.model_dump_json()
    decoded = decode_event(wire)
    assert type(decoded) is type(event)
    assert decoded == event
    # And once more from bytes, as the broker hands them over.
    assert decode_event(wire.encode()) == event


@pytest.mark.parametrize("event", EVENTS, ids=ids(EVENTS))
def test_type_is_the_routing_key_and_on_the_wire(event: Event) -> None:
    assert json.loads(event.model_dump_json())["type"] == event.type == event_type(type(event))
    assert re.fullmatch(r"[a-z]+(\.[a-z-]+)+\.v\d+", event.type)


def test_bytes_stay_bytes_and_travel_as_one_line_of_base64() -> None:
    event = EVENTS[2]  # site.generated: files with binary content
    wire = event.model_dump_json()
    assert "\\n" not in json.dumps([f["content"] for f in json.loads(wire)["files"]])
    body = json.loads(wire)
    logo = next(f for f in body["files"] if f["path"] == "logo.png")
    assert logo["content"] == base64.b64encode(BINARY).decode("ascii")
    assert "\n" not in logo["content"] and len(logo["content"]) > 76  # no MIME line wrapping
    decoded = decode_event(wire)
    assert isinstance(decoded, SiteGeneratedV1)
    content = next(f.content for f in decoded.files if f.path == "logo.png")
    assert type(content) is bytes
    assert content == BINARY


def test_attachment_bytes_round_trip() -> None:
    event = EVENTS[0]
    assert isinstance(event, TaskSubmittedV1)
    decoded = decode_event(event.model_dump_json())
    assert isinstance(decoded, TaskSubmittedV1)
    assert [a.data for a in decoded.attachments] == [b"1066", BINARY]
    assert all(type(a.data) is bytes for a in decoded.attachments)


def test_python_mode_dump_keeps_bytes() -> None:
    dumped = EVENTS[2].model_dump()
    assert dumped["files"][1]["content"] == BINARY


@pytest.mark.parametrize("content", ["not base64!", "aGVsbG8", 42])
def test_invalid_base64_on_the_wire_is_refused(content: object) -> None:
    file = {"path": "a", "content": content, "mode": "100644"}
    with pytest.raises(ValidationError):
        SiteFile.model_validate_json(json.dumps(file))


@pytest.mark.parametrize("event", EVENTS, ids=ids(EVENTS))
def test_decoding_is_discriminated_on_type(event: Event) -> None:
    body = json.loads(event.model_dump_json())
    decoded = decode_event(json.dumps(body))
    assert isinstance(decoded, type(event))
    # Another event's type with this body fails on the fields, not by guessing.
    other = next(e for e in EVENTS if type(e) is not type(event))
    with pytest.raises(ValidationError):
        decode_event(json.dumps({**body, "type": other.type}))


@pytest.mark.parametrize(
    "body",
    [
        {"type": "site.published.v2"},
        {"type": "nonsense"},
        {},
        {"type": None},
    ],
)
def test_unknown_or_missing_type_is_refused(body: dict[str, object]) -> None:
    wire = json.loads(EVENTS[3].model_dump_json())
    wire.pop("type")
    with pytest.raises(ValidationError):
        decode_event(json.dumps({**wire, **body}))


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b"null", b"\xff\xfe"])
def test_undecodable_bodies_raise_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationError):
        decode_event(body)


@pytest.mark.parametrize("event", EVENTS, ids=ids(EVENTS))
def test_events_are_frozen(event: Event) -> None:
    with pytest.raises(ValidationError):
        event.subject = "other"  # type: ignore[misc]
    task = getattr(event, "task", None)
    if task is not None:
        with pytest.raises(ValidationError):
            task.round = 2


@pytest.mark.parametrize("event", EVENTS, ids=ids(EVENTS))
def test_extra_fields_are_forbidden(event: Event) -> None:
    body = json.loads(event.model_dump_json())
    with pytest.raises(ValidationError, match="extra"):
        decode_event(json.dumps({**body, "surprise": 1}))
    if body.get("task") is not None:
        body["task"]["surprise"] = 1
        with pytest.raises(ValidationError, match="extra"):
            decode_event(json.dumps(body))


def test_extra_fields_are_forbidden_on_construction() -> None:
    with pytest.raises(ValidationError):
        TaskFailedV1(source="s", subject="x", task=None, stage="runtime", reason="r", extra=1)  # type: ignore[call-arg]


def test_envelope_defaults() -> None:
    event = TaskFailedV1(
        source="pagesmith/test", subject="t", task=None, stage="runtime", reason="r"
    )
    assert isinstance(event.id, uuid.UUID)
    assert event.time.tzinfo is not None
    assert event.specversion == "1.0"
    other = TaskFailedV1(
        source="pagesmith/test", subject="t", task=None, stage="runtime", reason="r"
    )
    assert other.id != event.id


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        TaskFailedV1(
            source="s",
            subject="t",
            task=None,
            stage="runtime",
            reason="r",
            time=datetime(2025, 1, 1),
        )


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValidationError):
        TaskFailedV1(source="s", subject="t", task=None, stage="elsewhere", reason="r")


@pytest.mark.parametrize("sha", ["", SHA[:7], SHA.upper(), SHA + "0", "g" * 40])
def test_published_commit_sha_is_a_full_lowercase_sha(sha: str) -> None:
    with pytest.raises(ValidationError):
        SitePublishedV1(
            source="s", subject="t", task=task_ref(), repo_url="u", commit_sha=sha, pages_url="p"
        )


def test_task_failed_may_carry_the_task() -> None:
    event = TaskFailedV1(source="s", subject="t", task=task_ref(), stage="generator", reason="r")
    decoded = decode_event(event.model_dump_json())
    assert isinstance(decoded, TaskFailedV1)
    assert decoded.task == task_ref()


@pytest.mark.parametrize("cls", [SiteGeneratedV1, SitePublishedV1])
def test_messages_from_before_the_selfcheck_field_still_decode(cls: type[Event]) -> None:
    [sample] = [e for e in sample_events() if isinstance(e, cls)]
    body = json.loads(sample.model_dump_json())
    body.pop("selfcheck")  # what a message queued by the previous version holds
    decoded = decode_event(json.dumps(body))
    assert isinstance(decoded, cls) and decoded.selfcheck is None  # type: ignore[attr-defined]


def test_selfcheck_summary_is_strict() -> None:
    summary = SelfCheckSummary(outcome="failed", passed=1, failed=("a",), unverified=2)
    assert SelfCheckSummary.model_validate_json(summary.model_dump_json()) == summary
    with pytest.raises(ValidationError):
        SelfCheckSummary.model_validate({"outcome": "repaired"})
    with pytest.raises(ValidationError):
        SelfCheckSummary.model_validate({"outcome": "passed", "extra": 1})


# --- task ids -------------------------------------------------------------------------------

BASE = ("student@example.com", "ShareVolume", 1, "019a2530-e570-7496-8bf5-46d73aa1848c")


def test_task_id_is_deterministic_and_a_uuid() -> None:
    first = task_id_for(*BASE)
    assert first == task_id_for(*BASE)
    assert uuid.UUID(first).version == 5


@pytest.mark.parametrize(
    "changed",
    [
        ("other@example.com", *BASE[1:]),
        (BASE[0], "ShareVolume2", *BASE[2:]),
        (BASE[0], "sharevolume", *BASE[2:]),
        (*BASE[:2], 2, BASE[3]),
        (*BASE[:3], "019a2530-e570-7496-8bf5-46d73aa1848d"),
    ],
    ids=["email", "task", "task-case", "round", "nonce"],
)
def test_task_id_differs_when_any_value_differs(changed: tuple[str, str, int, str]) -> None:
    assert task_id_for(*changed) != task_id_for(*BASE)


def test_task_id_keeps_values_apart() -> None:
    # Values that would run together under a separator character still get distinct ids.
    email = "student@example.com"
    assert task_id_for(email, "t\x1f1", 1, "n") != task_id_for(email, "t", 1, "1\x1fn")
    assert task_id_for(email, "ab", 1, "c") != task_id_for(email, "a", 1, "bc")


def test_make_task_ref_derives_id_and_deadline() -> None:
    received = datetime(2025, 10, 28, 9, 30, tzinfo=UTC)
    ref = make_task_ref(
        email=BASE[0],
        task=BASE[1],
        round=1,
        nonce=BASE[3],
        evaluation_url="http://localhost:8787/evaluate",
        received_at=received,
    )
    assert ref.task_id == task_id_for(*BASE)
    assert timedelta(minutes=10) == DEADLINE
    assert ref.deadline == received + timedelta(minutes=10)
    assert ref.seconds_left(received) == 600
    assert ref.seconds_left(received + timedelta(minutes=11)) == -60


def test_task_ref_requires_aware_times() -> None:
    fields = task_ref().model_dump()
    with pytest.raises(ValidationError):
        TaskRef(**{**fields, "deadline": datetime(2025, 1, 1)})


# --- repo keys ------------------------------------------------------------------------------


def test_repo_key_is_stable_short_hex_and_ignores_round_and_nonce() -> None:
    key = repo_key_for("student@example.com", "ShareVolume")
    assert re.fullmatch(r"[0-9a-f]{16}", key)
    assert key == repo_key_for("student@example.com", "ShareVolume")
    assert task_ref(1).repo_key == task_ref(2).repo_key == key
    assert task_ref(1).task_id != task_ref(2).task_id


@pytest.mark.parametrize(
    ("email", "task"),
    [
        ("other@example.com", "ShareVolume"),
        ("student@example.com", "ShareVolume2"),
        ("student@example.com", "sharevolume"),
    ],
)
def test_repo_key_differs_per_email_and_task(email: str, task: str) -> None:
    assert repo_key_for(email, task) != repo_key_for("student@example.com", "ShareVolume")
