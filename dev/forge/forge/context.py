"""Per-request helpers: the forge state, the authenticated user, the public URLs."""

from __future__ import annotations

from aiohttp import web

from .accounts import Account
from .requestlog import USER
from .state import FORGE, Forge
from .urls import Urls


def forge_of(request: web.Request) -> Forge:
    return request.app[FORGE]


def user_of(request: web.Request) -> Account:
    """The account the API gate authenticated (every API route requires one)."""
    user: Account = request[USER]
    return user


def urls_of(request: web.Request) -> Urls:
    public = forge_of(request).settings.public_url
    return Urls(public or f"{request.scheme}://{request.host}")
