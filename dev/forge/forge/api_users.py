"""GET /user, /users/{login} and /orgs/{org}."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import shapes
from .accounts import Account
from .context import forge_of, urls_of, user_of
from .errors import json_response, not_found
from .store import now_iso

routes = web.RouteTableDef()


def _profile(request: web.Request, account: Account) -> dict[str, Any]:
    store = forge_of(request).store
    owned = [r for r in store.all() if r.owner.lower() == account.login.lower()]
    stamp = now_iso()
    return {
        **shapes.user(urls_of(request), account),
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": sum(1 for r in owned if not r.private),
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": stamp,
        "updated_at": stamp,
    }


@routes.get("/api/v3/user")
async def get_authenticated_user(request: web.Request) -> web.Response:
    return json_response(_profile(request, user_of(request)))


@routes.get("/api/v3/users/{login}")
async def get_user(request: web.Request) -> web.Response:
    account = forge_of(request).accounts.get(request.match_info["login"])
    if account is None:
        raise not_found()
    return json_response(_profile(request, account))


@routes.get("/api/v3/orgs/{org}")
async def get_org(request: web.Request) -> web.Response:
    account = forge_of(request).accounts.get(request.match_info["org"])
    if account is None or account.type != "Organization":
        raise not_found()
    return json_response(_profile(request, account))
