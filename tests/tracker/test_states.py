"""The ledger's rules, without a database: any order and any repetition gives the same row."""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from tracker.facts import Fact, Unreadable, read_fact, trace_id_from
from tracker.states import Row, apply

from .helpers import TRACEPARENT, Story, story


def fact(event, **extra) -> Fact:
    body = json.loads(event.model_dump_json())
    body.update(extra)
    return read_fact(json.dumps(body).encode(), {"traceparent": TRACEPARENT})


def replay(facts: list[Fact]) -> Row:
    row = Row()
    for f in facts:
        row = apply(row, f)
    return row


def life(s: Story) -> list[Fact]:
    return [fact(s.submitted()), fact(s.generated()), fact(s.published()), fact(s.notified())]


def test_a_task_moves_through_every_state_in_order() -> None:
    s = story()
    states = []
    row = Row()
    for f in life(s):
        row = apply(row, f)
        states.append((row.state, row.stage))
    assert states == [
        ("submitted", "generator"),
        ("generated", "publisher"),
        ("published", "notifier"),
        ("notified", "notifier"),
    ]
    assert row.outcome == "notified" and row.finished_at is not None
    assert (row.email, row.task, row.round) == ("student@example.com", "ShareVolume", 1)
    assert row.commit_sha == "2321e82e9aef194d3050cfdb5f48bd383ba0a812"
    assert row.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_every_order_and_every_repeat_gives_the_same_row() -> None:
    s = story()
    events = life(s)
    expected = replay(events)
    for order in itertools.permutations(events):
        assert replay([*order, *order]) == expected, [f.type for f in order]


def test_a_late_event_never_moves_a_task_back() -> None:
    s = story()
    row = replay([fact(s.published()), fact(s.generated()), fact(s.submitted())])
    assert (row.state, row.stage) == ("published", "notifier")
    # What the late events knew still fills the gaps.
    assert row.received_at == s.ref.received_at and row.email == s.ref.email


def test_notified_wins_over_failed_in_either_order() -> None:
    s = story()
    for order in ([s.failed(), s.notified()], [s.notified(), s.failed()]):
        row = replay([fact(e) for e in order])
        assert (row.state, row.outcome) == ("notified", "notified")
        assert row.failure_reason is None


def test_failed_is_final_for_anything_but_notified() -> None:
    s = story()
    row = replay([fact(s.failed("no round-1 repository")), fact(s.published())])
    assert (row.state, row.stage, row.outcome) == ("failed", "notifier", "failed")
    assert row.failure_reason == "no round-1 repository"


def test_round_two_waits_on_the_publisher_first() -> None:
    s = story(round_=2)
    row = apply(Row(), fact(s.submitted()))
    assert (row.state, row.stage) == ("submitted", "publisher")
    row = apply(row, fact(s.checked_out()))
    assert (row.state, row.stage, row.repo_url) == (
        "checked-out",
        "generator",
        "https://forge.example/o/r",
    )
    row = apply(row, fact(s.published()))
    assert row.repo_url == "https://forge.example/o/ShareVolume"


def test_degraded_anywhere_marks_the_outcome() -> None:
    s = story()
    row = replay([fact(s.notified()), fact(s.generated(degraded=True))])
    assert (row.outcome, row.degraded, row.degraded_reason) == (
        "degraded",
        True,
        "model unreachable",
    )


def test_an_orphan_failure_opens_a_row_that_later_events_fill() -> None:
    s = story()
    orphan = s.failed().model_copy(update={"task": None})
    row = apply(Row(), fact(orphan))
    assert (row.state, row.email) == ("failed", None)
    row = apply(row, fact(s.submitted()))
    assert (row.state, row.email) == ("failed", "student@example.com")


def test_a_newer_event_with_fields_we_do_not_know_still_reads() -> None:
    s = story()
    selfcheck = {
        "outcome": "failed",
        "passed": 2,
        "failed": ["#total has the sum"],
        "unverified": 0,
    }
    f = fact(s.generated(), selfcheck=selfcheck, some_future_field=[1, 2])
    assert f.selfcheck == selfcheck and f.detail["selfcheck"] == selfcheck
    assert apply(Row(), f).selfcheck == selfcheck
    unknown = read_fact(
        json.dumps(
            {"id": str(uuid.uuid4()), "type": "task.cancelled.v1", "subject": "t-1", "source": "x"}
        ).encode()
    )
    assert apply(Row(), unknown).state == "unknown"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"type": "task.failed.v1"}',
        json.dumps({"id": "not-a-uuid", "type": "x", "subject": "t"}).encode(),
        json.dumps({"id": str(uuid.uuid4()), "type": "x", "subject": ""}).encode(),
    ],
)
def test_what_is_not_an_event_is_unreadable(body: bytes) -> None:
    with pytest.raises(Unreadable):
        read_fact(body)


def test_nul_characters_never_reach_the_database() -> None:
    s = story()
    f = fact(s.failed("bad\x00reason"), stage="notifier")
    assert f.failure_reason == "badreason"
    assert "\x00" not in json.dumps(f.detail)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"traceparent": TRACEPARENT}, "4bf92f3577b34da6a3ce929d0e0e4736"),
        ({"traceparent": TRACEPARENT.encode()}, "4bf92f3577b34da6a3ce929d0e0e4736"),
        ({"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"}, None),
        ({"traceparent": "garbage"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_trace_id_comes_from_a_valid_traceparent(headers, expected) -> None:
    assert trace_id_from(headers) == expected
