"""Fixtures for the publisher's tests: settings, a FakeGitHub, Deps and events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import stamina
from pagesmith_contracts import (
    Attachment,
    Check,
    SiteFile,
    SiteGeneratedV1,
    TaskRef,
    TaskSubmittedV1,
    make_task_ref,
)
from prometheus_client import CollectorRegistry
from publisher.metrics import PublisherMetrics
from publisher.ports import Deps
from publisher.settings import PublisherSettings

from .fakegithub import FakeGitHub, FakeSite

EMAIL = "student@example.com"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(
    range(256)
)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    # Retries stay real (several attempts) but without sleeping.
    with stamina.set_testing(True, attempts=5):
        yield


def make_settings(**overrides: object) -> PublisherSettings:
    values: dict[str, object] = {
        "github_token": "test-token-not-real",
        "pages_poll_initial_seconds": 0.01,
        "pages_poll_max_seconds": 0.02,
        "pages_rebuild_after_seconds": 0.05,
        "fresh_repo_retry_seconds": 2.0,
        "pages_reserve_seconds": 75.0,
    }
    values.update(overrides)
    return PublisherSettings.model_validate(values)


def make_deps(github: FakeGitHub, site: FakeSite | None = None, **overrides: object) -> Deps:
    return Deps(
        settings=make_settings(**overrides),
        github=github,
        site=site or FakeSite(),
        metrics=PublisherMetrics(CollectorRegistry()),
    )


def task_ref(
    task: str = "ShareVolume", *, round: int = 1, nonce: str = "n-1", minutes_left: float = 9
) -> TaskRef:
    received = datetime.now(UTC) - timedelta(minutes=10 - minutes_left)
    return make_task_ref(
        email=EMAIL,
        task=task,
        round=round,
        nonce=nonce,
        evaluation_url="https://caller.example/evaluate",
        received_at=received,
    )


def site_files() -> tuple[SiteFile, ...]:
    return (
        SiteFile(path="index.html", content=b"<!doctype html><title>Hi</title>\n"),
        SiteFile(path="LICENSE", content=b"MIT License ... is hereby granted ...\n"),
        SiteFile(path=".nojekyll", content=b""),
        SiteFile(path="assets/logo.png", content=PNG),
        SiteFile(path="run.sh", content=b"#!/bin/sh\necho hi\n", mode="100755"),
    )


def generated(task: TaskRef, **fields: object) -> SiteGeneratedV1:
    values: dict[str, object] = {
        "source": "pagesmith/generator",
        "subject": task.task_id,
        "task": task,
        "files": site_files(),
        "commit_message": "Add the site",
        "description": "A page that shows share volume",
    }
    values.update(fields)
    return SiteGeneratedV1.model_validate(values)


def submitted(task: TaskRef) -> TaskSubmittedV1:
    return TaskSubmittedV1(
        source="pagesmith/gateway",
        subject=task.task_id,
        task=task,
        brief="Add a chart",
        checks=(Check(text="has a chart"),),
        attachments=(Attachment(name="uid.txt", media_type="text/plain", data=b"abc"),),
    )


@pytest.fixture
def gh() -> FakeGitHub:
    return FakeGitHub()
