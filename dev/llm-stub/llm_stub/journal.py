"""The request log: every /v1 request, in order, with its exact body."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from multidict import CIMultiDictProxy

_REDACTED = ("authorization", "proxy-authorization", "api-key")


class Journal:
    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []

    def record(
        self, method: str, path: str, headers: CIMultiDictProxy[str], raw: bytes
    ) -> dict[str, Any]:
        """Append an entry; the caller fills in status and answered_by once it knows them."""
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "headers": redact(headers),
            "body": _body(raw),
            "status": None,
            "answered_by": None,  # a script id, "demo", or null when nothing was answered
            "warnings": [],
        }
        self._entries.append(entry)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)

    def clear(self) -> int:
        count = len(self._entries)
        self._entries.clear()
        return count


def redact(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    return {
        name: ("<redacted>" if name.lower() in _REDACTED else value)
        for name, value in headers.items()
    }


def _body(raw: bytes) -> Any:
    """The parsed JSON body; the raw text when it is not JSON; null when there is none."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
