"""Author and committer identities: from the request body, else the authenticated user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import gitdata
from .accounts import Account
from .errors import ApiError, invalid


def person_for(account: Account) -> gitdata.Person:
    """How GitHub signs API commits for a user without a public email."""
    email = f"{account.id}+{account.login}@users.noreply.github.com"
    return gitdata.Person(account.login, email, datetime.now(UTC))


def signature(value: Any, field: str) -> gitdata.Person | None:
    """Parse {name, email, date?} from a request; None when the field is absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ApiError(422, f"Invalid request.\n\nFor 'properties/{field}', is not an object.")
    for key in ("name", "email"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise ApiError(422, f'Invalid request.\n\n"{key}" wasn\'t supplied.')
    when = datetime.now(UTC)
    if value.get("date") is not None:
        try:
            when = datetime.fromisoformat(str(value["date"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise invalid(
                f"Invalid request.\n\n{value['date']!r} is not a valid date-time."
            ) from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return gitdata.Person(value["name"], value["email"], when)
