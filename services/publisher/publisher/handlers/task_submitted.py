"""task.submitted.v1, round 2 → the round-1 repository's current files → repo.checked-out.v1."""

from __future__ import annotations

from collections.abc import Sequence

from pagesmith_contracts import Event, RepoCheckedOutV1, TaskSubmittedV1

from ..checkout import checkout
from ..ports import Deps
from ..repos import find_latest


async def handle_task_submitted(event: TaskSubmittedV1, deps: Deps) -> Sequence[Event]:
    task = event.task
    if task.round == 1:
        return []  # the generator starts round 1 from the brief alone
    gh = deps.github.for_task(task.deadline)
    repo = await find_latest(gh, task, max_candidates=deps.settings.max_repo_candidates)
    head, files = await checkout(
        gh, repo, max_blob_bytes=deps.settings.checkout_max_blob_bytes, metrics=deps.metrics
    )
    return [
        RepoCheckedOutV1(
            source="pagesmith/publisher",
            subject=task.task_id,
            task=task,
            brief=event.brief,
            checks=event.checks,
            attachments=event.attachments,
            repo=repo,
            head_sha=head,
            files=files,
        )
    ]
