"""task.submitted: round 1 becomes a whole site; round 2 waits for the publisher's checkout."""

from __future__ import annotations

from collections.abc import Sequence

from pagesmith_contracts import Event, TaskSubmittedV1

from ..deps import Deps
from ..rounds import site_for_round1


async def handle_task_submitted(event: TaskSubmittedV1, deps: Deps) -> Sequence[Event]:
    if event.task.round != 1:
        return []  # the publisher checks the repository out first (repo.checked-out)
    return [await site_for_round1(event, deps)]
