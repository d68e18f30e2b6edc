"""Repository names from task names, and the marker that ties a repository to its task."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

MAX_NAME = 100  # GitHub's limit on repository names
MAX_DESCRIPTION = 200  # GitHub allows 350; long descriptions made creation fail for students
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DASHES = re.compile(r"-{2,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MARKER = re.compile(r"\[pagesmith:(?P<key>[0-9a-f]{16}):(?P<task>[0-9a-f-]{8})\]")


def base_name(task: str) -> str:
    """A deterministic GitHub-safe name: [A-Za-z0-9._-], at most 100 chars, never empty."""
    ascii_text = unicodedata.normalize("NFKD", task).encode("ascii", "ignore").decode("ascii")
    name = _DASHES.sub("-", _UNSAFE.sub("-", ascii_text))
    name = _tidy(name[:MAX_NAME])
    if not name:
        # Nothing usable (say, an all-CJK task name): a stable name that still tells tasks apart.
        name = "task-" + hashlib.sha256(task.encode()).hexdigest()[:8]
    return name


def candidate(base: str, n: int) -> str:
    """The n-th name to try: `base`, then `base-2`, `base-3`, … always within 100 chars."""
    if n <= 1:
        return base
    suffix = f"-{n}"
    return _tidy(base[: MAX_NAME - len(suffix)]) + suffix


def _tidy(name: str) -> str:
    # A leading "." or "-" and a ".git" ending are refused or rewritten by GitHub.
    name = name.lstrip(".-")
    while True:
        stripped = name.rstrip("-.")
        if stripped.lower().endswith(".git"):
            stripped = stripped[:-4]
        if stripped == name:
            return name
        name = stripped


@dataclass(frozen=True, slots=True)
class Marker:
    """`[pagesmith:{repo_key}:{task_id[:8]}]` in a repository's description."""

    repo_key: str
    task_prefix: str

    def __str__(self) -> str:
        return f"[pagesmith:{self.repo_key}:{self.task_prefix}]"


def marker_for(repo_key: str, task_id: str) -> Marker:
    return Marker(repo_key=repo_key, task_prefix=task_id[:8])


def find_marker(description: str | None) -> Marker | None:
    """The marker in a description, if any."""
    match = _MARKER.search(description or "")
    return Marker(match["key"], match["task"]) if match else None


def description_for(summary: str, task: str, marker: Marker) -> str:
    """A short one-line description ending in the marker, with no control characters."""
    tag = f" {marker}"
    text = _one_line(summary) or _one_line(f"Pagesmith site for {task}")
    room = MAX_DESCRIPTION - len(tag)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return text + tag


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())
