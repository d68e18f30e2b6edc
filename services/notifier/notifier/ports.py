"""What the notifier's handler depends on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """One attempt: an HTTP status, or None when no answer came (connection error, timeout)."""

    status: int | None
    detail: str


class CallbackPort(Protocol):
    async def post(self, url: str, payload: dict[str, Any], *, timeout: float) -> CallbackResult:
        """POST the payload as JSON once; never raises for HTTP or network failures.

        Raises PermanentError (EgressRefused among them) for a URL it must or can never call.
        """
        ...
