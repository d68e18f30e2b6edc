"""The script store: what tests register, and which script answers a request."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .replies import Reply, ScriptError, parse_reply

_KEYS = frozenset({"id", "match", "model", "responses", "repeat_last"})
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Names the stub gives itself: a chosen id may not take one, or the log would be ambiguous.
_RESERVED_ID = re.compile(r"demo|script-\d+")


@dataclass(slots=True)
class Script:
    id: str
    match: tuple[str, ...] | None  # every one must occur in the request's text
    model: str | None
    replies: tuple[Reply, ...]
    repeat_last: bool
    raw: dict[str, Any]
    used: int = 0

    @property
    def exhausted(self) -> bool:
        return not self.repeat_last and self.used >= len(self.replies)

    def fits(self, text: str, model: str) -> bool:
        if self.model is not None and self.model != model:
            return False
        return self.match is None or all(part in text for part in self.match)

    def take(self) -> Reply:
        reply = self.replies[min(self.used, len(self.replies) - 1)]
        self.used += 1
        return reply

    def view(self) -> dict[str, Any]:
        remaining = None if self.repeat_last else max(len(self.replies) - self.used, 0)
        return {
            "id": self.id,
            "match": self.raw.get("match"),
            "model": self.model,
            "repeat_last": self.repeat_last,
            "used": self.used,
            "remaining": remaining,  # null: repeats its last answer for ever
            "exhausted": self.exhausted,
            "responses": self.raw["responses"],
        }


def parse_script(raw: object, script_id: str) -> Script:
    if not isinstance(raw, dict):
        raise ScriptError("a script must be a JSON object")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ScriptError(f"unknown script keys {unknown}; allowed: {sorted(_KEYS)}")
    chosen, model = raw.get("id"), raw.get("model")
    if chosen is not None and (
        not isinstance(chosen, str) or not _ID.fullmatch(chosen) or _RESERVED_ID.fullmatch(chosen)
    ):
        raise ScriptError(
            "id: expected up to 64 letters, digits, '.', '_' or '-', other than "
            "'demo' and 'script-<n>'"
        )
    if model is not None and not isinstance(model, str):
        raise ScriptError("model: expected a string or null")
    repeat_last = raw.get("repeat_last", False)
    if not isinstance(repeat_last, bool):
        raise ScriptError("repeat_last: expected a boolean")
    responses = raw.get("responses")
    if not isinstance(responses, list) or not responses:
        raise ScriptError("responses: expected a non-empty list")
    replies = tuple(parse_reply(r, f"responses[{i}]") for i, r in enumerate(responses))
    return Script(chosen or script_id, _match(raw.get("match")), model, replies, repeat_last, raw)


def _match(match: object) -> tuple[str, ...] | None:
    if match is None:
        return None
    if isinstance(match, str):
        return (match,)
    if isinstance(match, list) and match and all(isinstance(m, str) for m in match):
        return tuple(match)
    raise ScriptError("match: expected a string, a non-empty list of strings, or null")


class ScriptStore:
    """Scripts in registration order; the first live one that fits answers."""

    def __init__(self) -> None:
        self._scripts: list[Script] = []
        self._ids = itertools.count(1)

    def add(self, raw: object) -> Script:
        return self.add_many([raw], batch=False)[0]

    def add_many(self, raws: list[object], *, batch: bool = True) -> list[Script]:
        """All or nothing: one bad script leaves the store as it was."""
        scripts = []
        taken = {s.id for s in self._scripts}
        for i, raw in enumerate(raws):
            try:
                script = parse_script(raw, "")
                if script.id and script.id in taken:
                    raise ScriptError(f"id: {script.id!r} is taken")
            except ScriptError as exc:
                raise ScriptError(f"scripts[{i}]: {exc}" if batch else str(exc)) from None
            taken.add(script.id)
            scripts.append(script)
        for script in scripts:
            script.id = script.id or f"script-{next(self._ids)}"
        self._scripts.extend(scripts)
        return scripts

    def load(self, path: Path) -> list[Script]:
        """A JSON file holding a list of scripts, or {"scripts": [...]}."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "scripts" in data:
            data = data["scripts"]
        if not isinstance(data, list):
            raise ScriptError(f"{path}: expected a list of scripts")
        return self.add_many(data)

    def next_reply(self, text: str, model: str) -> tuple[Script, Reply] | None:
        for script in self._scripts:
            if not script.exhausted and script.fits(text, model):
                return script, script.take()
        return None

    def views(self) -> list[dict[str, Any]]:
        return [s.view() for s in self._scripts]

    def models(self) -> list[str]:
        return [s.model for s in self._scripts if s.model]

    def clear(self) -> int:
        count = len(self._scripts)
        self._scripts.clear()
        return count
