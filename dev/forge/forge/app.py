"""The app factory: middlewares, routes and background builds, composed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from . import (
    api_actions,
    api_commits,
    api_contents,
    api_git,
    api_meta,
    api_pages,
    api_repo_lists,
    api_repos,
    api_users,
    control,
    pages_site,
    raw,
    repo_page,
)
from .faults import fault_middleware
from .gate import api_gate_middleware
from .githttp import GIT_WSGI, ROUTE, git_http_handler, serve_git
from .requestlog import request_log_middleware
from .settings import ForgeSettings
from .state import FORGE, Forge

MAX_BODY = 150 * 1024 * 1024  # GitHub takes blobs up to 100 MB, and base64 adds a third


def create_app(settings: ForgeSettings) -> web.Application:
    forge = Forge.build(settings)
    app = web.Application(
        client_max_size=MAX_BODY,
        middlewares=[
            request_log_middleware(forge.log),  # outermost: sees injected faults too
            fault_middleware(forge.faults, forge.accounts.user_id),
            api_gate_middleware(forge),
        ],
    )
    app[FORGE] = forge
    app[GIT_WSGI] = git_http_handler(forge)
    # Fixed prefixes first: "/{owner}/{repo}.git" would otherwise swallow them.
    modules = (control, api_meta, api_users, api_repos, api_repo_lists, api_git, api_commits)
    for module in (*modules, api_contents, api_pages, api_actions, pages_site, raw):
        app.router.add_routes(module.routes)
    app.router.add_route("*", ROUTE, serve_git)
    app.router.add_routes(repo_page.routes)  # last: "/{owner}/{repo}" matches almost anything
    app.cleanup_ctx.append(_background)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    forge = app[FORGE]
    forge.resume()
    yield
    forge.stop()
