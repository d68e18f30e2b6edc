"""One valid instance of every event type, for round trips and decoding."""

from __future__ import annotations

from datetime import UTC, datetime

from pagesmith_contracts import (
    Attachment,
    Check,
    Event,
    ModelUsage,
    RepoCheckedOutV1,
    RepoRef,
    SelfCheckSummary,
    SiteFile,
    SiteGeneratedV1,
    SitePublishedV1,
    TaskFailedV1,
    TaskNotifiedV1,
    TaskRef,
    TaskSubmittedV1,
    make_task_ref,
)

# Every byte value, a NUL and a newline: what JSON text cannot carry without base64.
BINARY = bytes(range(256)) + b"\x00\n\r\n" * 40
SHA = "2321e82e9aef194d3050cfdb5f48bd383ba0a812"


def task_ref(round: int = 1) -> TaskRef:
    return make_task_ref(
        email="student@example.com",
        task="ShareVolume",
        round=round,
        nonce="019a2530-e570-7496-8bf5-46d73aa1848c",
        evaluation_url="http://localhost:8787/evaluate",
        received_at=datetime(2025, 10, 28, 9, 30, tzinfo=UTC),
    )


def sample_events() -> list[Event]:
    task = task_ref()
    common = {"source": "pagesmith/test", "subject": task.task_id}
    repo = RepoRef(
        owner="owner", name="ShareVolume", html_url="https://github.com/owner/ShareVolume"
    )
    files = (
        SiteFile(path="index.html", content=b"<!doctype html>\n<title>Biogen</title>\n"),
        SiteFile(path="logo.png", content=BINARY),
        SiteFile(path="run.sh", content=b"#!/bin/sh\necho hi\n", mode="100755"),
    )
    checks = (Check(text="index.html has a <title>"), Check(text="!!document.title", js=True))
    attachments = (
        Attachment(name="uid.txt", media_type="text/plain", data=b"1066"),
        Attachment(name="blob.bin", media_type="application/octet-stream", data=BINARY),
    )
    return [
        TaskSubmittedV1(
            **common, task=task, brief="Build it.\n", checks=checks, attachments=attachments
        ),
        RepoCheckedOutV1(
            **common,
            task=task_ref(2),
            brief="Add a chart.",
            checks=checks,
            attachments=attachments,
            repo=repo,
            head_sha=SHA,
            files=files,
        ),
        SiteGeneratedV1(
            **common,
            task=task,
            files=files,
            deleted=("old.js",),
            repo=repo,
            base_sha=SHA,
            pages_build="workflow",
            commit_message="Round 1",
            description="A page",
            degraded=True,
            degraded_reason="model refused",
            usage=ModelUsage(model="m", calls=2, input_tokens=10, output_tokens=20),
        ),
        SitePublishedV1(
            **common,
            task=task,
            repo_url=repo.html_url,
            commit_sha=SHA,
            pages_url="https://owner.github.io/ShareVolume/",
            selfcheck=SelfCheckSummary(
                outcome="failed", passed=2, failed=("document.title === 'x'",), unverified=1
            ),
        ),
        TaskNotifiedV1(
            **common,
            task=task,
            repo_url=repo.html_url,
            commit_sha=SHA,
            pages_url="https://owner.github.io/ShareVolume/",
            attempts=3,
        ),
        TaskFailedV1(**common, task=None, stage="notifier", reason="caller answered 400"),
    ]
