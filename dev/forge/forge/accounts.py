"""Users and organisations, all declared by settings; tokens map to users."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from .settings import ForgeSettings


@dataclass(frozen=True, slots=True)
class Account:
    login: str
    id: int
    type: Literal["User", "Organization"]


def _account_id(login: str) -> int:
    # Stable across restarts without storing anything: ids only need to be distinct.
    return 1_000_000 + zlib.crc32(login.lower().encode()) % 90_000_000


class Accounts:
    """Resolves tokens and logins; the default user is a member of every org."""

    def __init__(self, settings: ForgeSettings) -> None:
        self._tokens = {tok: login for tok, login in settings.tokens.items()}
        self._default = settings.user.lower()
        self._all: dict[str, Account] = {}
        for login in settings.tokens.values():
            self._all[login.lower()] = Account(login, _account_id(login), "User")
        for org in settings.orgs:
            self._all[org.lower()] = Account(org, _account_id(org), "Organization")

    def by_token(self, token: str) -> Account | None:
        login = self._tokens.get(token)
        return self._all[login.lower()] if login else None

    def get(self, login: str) -> Account | None:
        return self._all.get(login.lower())

    def can_admin(self, user: Account, owner: Account) -> bool:
        """Owners administer their repos; the default user administers the orgs'."""
        if owner.type == "User":
            return owner.login.lower() == user.login.lower()
        return user.login.lower() == self._default

    def is_member(self, user: Account, org: Account) -> bool:
        return org.type == "Organization" and user.login.lower() == self._default

    def user_id(self, request: web.Request) -> int:
        """The id of the user a request's token names, 0 if none (for rate-limit messages)."""
        _, _, token = request.headers.get("Authorization", "").partition(" ")
        user = self.by_token(token.strip())
        return user.id if user else 0
