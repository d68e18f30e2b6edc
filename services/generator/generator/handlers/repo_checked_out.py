"""repo.checked-out: round 2 edits the current files and returns only the changes."""

from __future__ import annotations

from collections.abc import Sequence

from pagesmith_contracts import Event, RepoCheckedOutV1

from ..deps import Deps
from ..rounds import site_for_round2


async def handle_repo_checked_out(event: RepoCheckedOutV1, deps: Deps) -> Sequence[Event]:
    return [await site_for_round2(event, deps)]
