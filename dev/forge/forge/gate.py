"""The API gate: version header, User-Agent, authentication, rate limit, error translation."""

from __future__ import annotations

import logging
import secrets

from aiohttp import BasicAuth, web
from aiohttp.typedefs import Handler, Middleware

from .accounts import Account
from .errors import ApiError, not_found
from .faults import PRIMARY_DOCS
from .requestlog import USER, is_api
from .state import Forge

log = logging.getLogger(__name__)

API_VERSIONS = ("2022-11-28", "2026-03-10")
USER_LIMIT = 5000
ANONYMOUS_LIMIT = 60


def api_gate_middleware(forge: Forge) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_api(request):
            return await handler(request)
        version = request.headers.get("X-GitHub-Api-Version", API_VERSIONS[0])
        headers = {
            "x-github-request-id": _request_id(),
            "x-github-api-version-selected": version,
            "x-github-media-type": "github.v3; format=json",
        }
        try:
            response = await _guarded(forge, request, handler, version, headers)
        except ApiError as exc:
            response = exc.response()
        except web.HTTPException as exc:
            # The router's 404/405 for unknown routes: GitHub answers both with Not Found.
            if exc.status in (404, 405):
                response = not_found().response()
            else:
                response = ApiError(exc.status, exc.reason).response()
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            response = ApiError(500, "Server Error").response()
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    return middleware


async def _guarded(
    forge: Forge, request: web.Request, handler: Handler, version: str, headers: dict[str, str]
) -> web.StreamResponse:
    if not request.headers.get("User-Agent"):
        raise ApiError(
            403,
            "Request forbidden by administrative rules. "
            "Please make sure your request has a User-Agent header "
            "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).",
        )
    if version not in API_VERSIONS:
        raise ApiError(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}")
    token = _token(request.headers.get("Authorization", ""))
    user = forge.accounts.by_token(token) if token else None
    if user:
        quota = forge.limits.hit(f"user:{user.login.lower()}", USER_LIMIT)
    else:
        quota = forge.limits.hit(f"ip:{request.remote}", ANONYMOUS_LIMIT)
    headers.update(quota.headers())
    if token is None:
        raise ApiError(401, "Requires authentication")
    if user is None:
        raise ApiError(401, "Bad credentials")
    if quota.exceeded:
        raise _rate_limited(user, headers)
    headers["x-oauth-scopes"] = "repo, workflow"
    request[USER] = user
    return await handler(request)


def _token(authorization: str) -> str | None:
    """The token from `token T`, `Bearer T` or Basic (password = token); "" if malformed."""
    scheme, _, value = authorization.strip().partition(" ")
    if not scheme:
        return None
    if scheme.lower() in ("token", "bearer"):
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return str(BasicAuth.decode(authorization).password)
        except ValueError:
            return ""
    return ""


def _rate_limited(user: Account, headers: dict[str, str]) -> ApiError:
    return ApiError(
        403,
        f"API rate limit exceeded for user ID {user.id}. If you reach out to GitHub Support for "
        f"help, please include the request ID {headers['x-github-request-id']}.",
        documentation_url=PRIMARY_DOCS,
    )


def _request_id() -> str:
    # GitHub's request ids look like "C0DE:1A2B:3C4D5E:6F7A8B:65F00D12".
    parts = (secrets.token_hex(n).upper() for n in (2, 2, 3, 3, 4))
    return ":".join(parts)
