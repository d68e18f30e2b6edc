"""The stub's mutable state, shared by its handlers through one AppKey."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .conversation import Item
from .journal import Journal
from .scripts import ScriptStore
from .settings import StubSettings


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A Responses API answer kept for previous_response_id and GET /v1/responses/{id}."""

    items: tuple[Item, ...]  # the conversation up to and including this response's output
    body: dict[str, Any]


@dataclass(slots=True)
class StubState:
    settings: StubSettings
    scripts: ScriptStore = field(default_factory=ScriptStore)
    journal: Journal = field(default_factory=Journal)
    responses: dict[str, StoredResponse] = field(default_factory=dict)
    models_seen: dict[str, None] = field(default_factory=dict)  # an ordered set

    def reset(self) -> None:
        self.scripts.clear()
        self.journal.clear()
        self.responses.clear()


STATE = web.AppKey("llm_stub_state", StubState)
# Request-scoped: the journal entry of the request being handled.
JOURNAL_ENTRY = web.RequestKey("llm_stub_journal_entry", dict)
