"""GET /api/v3 (the root document) and /rate_limit."""

from __future__ import annotations

from aiohttp import web

from .context import forge_of, urls_of, user_of
from .errors import json_response
from .gate import USER_LIMIT

routes = web.RouteTableDef()


@routes.get("/api/v3")
@routes.get("/api/v3/")
async def root(request: web.Request) -> web.Response:
    api = urls_of(request).api
    listing = "{?type,page,per_page,sort}"
    return json_response(
        {
            "current_user_url": f"{api}/user",
            "repository_url": f"{api}/repos/{{owner}}/{{repo}}",
            "user_url": f"{api}/users/{{user}}",
            "user_repositories_url": f"{api}/users/{{user}}/repos{listing}",
            "organization_repositories_url": f"{api}/orgs/{{org}}/repos{listing}",
            "rate_limit_url": f"{api}/rate_limit",
        }
    )


@routes.get("/api/v3/rate_limit")
async def rate_limit(request: web.Request) -> web.Response:
    key = f"user:{user_of(request).login.lower()}"
    quota = forge_of(request).limits.peek(key, USER_LIMIT)
    core = {
        "limit": quota.limit,
        "remaining": quota.remaining,
        "reset": quota.reset,
        "used": quota.used,
        "resource": "core",
    }
    return json_response({"resources": {"core": core}, "rate": core})
