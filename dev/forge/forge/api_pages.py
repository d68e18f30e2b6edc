"""GitHub Pages: enable, read, change, disable the site; request and read builds."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import gitdata, shapes
from .access import find_repo
from .context import forge_of, urls_of, user_of
from .errors import ApiError, invalid, json_response, not_found, not_supplied, wrong_type
from .paging import paginate
from .params import read_json, string
from .store import PagesBuild, PagesSite, RepoRecord, now_iso

routes = web.RouteTableDef()
PAGES = "/api/v3/repos/{owner}/{repo}/pages"


def _site(request: web.Request, record: RepoRecord) -> PagesSite:
    if record.pages is None:
        raise not_found()
    return record.pages


def _source(body: dict[str, Any], default_branch: str) -> tuple[str, str] | None:
    """(branch, path) from body["source"], or None when absent."""
    source = body.get("source")
    if source is None:
        return None
    if not isinstance(source, dict):
        raise wrong_type("source", source, "an object")
    branch = string(source, "branch") or default_branch
    path = source.get("path", "/")
    if path not in ("/", "/docs"):
        raise wrong_type("source/path", path, 'one of ["/", "/docs"]')
    return branch, path


def _build_type(body: dict[str, Any]) -> str | None:
    build_type = string(body, "build_type")
    if build_type is not None and build_type not in ("legacy", "workflow"):
        raise wrong_type("build_type", build_type, 'one of ["legacy", "workflow"]')
    return build_type


def _branch_head(request: web.Request, record: RepoRecord, branch: str) -> str | None:
    with forge_of(request).store.git(record) as repo:
        return gitdata.read_ref(repo, f"refs/heads/{branch}")


def _require_branch(request: web.Request, record: RepoRecord, branch: str) -> str:
    head = _branch_head(request, record, branch)
    if head is None:
        raise invalid(f"The {branch} branch must exist before GitHub Pages can be built.")
    return head


def _build(request: web.Request, record: RepoRecord, head: str) -> PagesBuild:
    return forge_of(request).pages.start(record, head, user_of(request).login)


@routes.post(PAGES)
async def enable_pages(request: web.Request) -> web.Response:
    body = await read_json(request)
    record = find_repo(request, "admin")
    if record.pages is not None:
        raise ApiError(409, "GitHub Pages is already enabled.")
    build_type = _build_type(body)
    source = _source(body, record.default_branch)
    if build_type is None and source is None:
        raise not_supplied("source")
    build_type = build_type or "legacy"
    branch, path = source or (record.default_branch, "/")
    head = _require_branch(request, record, branch) if build_type == "legacy" else None
    record.pages = PagesSite(build_type, branch, path, now_iso())
    forge_of(request).store.save(record)
    if head:
        _build(request, record, head)
    return json_response(shapes.pages_site(urls_of(request), record), status=201)


@routes.get(PAGES)
async def get_pages(request: web.Request) -> web.Response:
    record = find_repo(request)
    _site(request, record)
    return json_response(shapes.pages_site(urls_of(request), record))


@routes.put(PAGES)
async def update_pages(request: web.Request) -> web.Response:
    body = await read_json(request)
    record = find_repo(request, "admin")
    site = _site(request, record)
    if not {"build_type", "source", "cname", "https_enforced", "public"} & body.keys():
        raise invalid('Invalid request.\n\nNo subschema in "anyOf" matched.')
    build_type = _build_type(body) or site.build_type
    branch, path = _source(body, record.default_branch) or (site.branch, site.path)
    head = _require_branch(request, record, branch) if build_type == "legacy" else None
    changed = (build_type, branch, path) != (site.build_type, site.branch, site.path)
    site.build_type, site.branch, site.path = build_type, branch, path
    forge_of(request).store.save(record)
    if changed and head:
        _build(request, record, head)
    return web.Response(status=204)


@routes.delete(PAGES)
async def disable_pages(request: web.Request) -> web.Response:
    forge = forge_of(request)
    record = find_repo(request, "admin")
    _site(request, record)
    forge.pages.cancel(record)
    record.pages, record.builds = None, []
    forge.store.save(record)
    return web.Response(status=204)


@routes.post(PAGES + "/builds")
async def request_build(request: web.Request) -> web.Response:
    record = find_repo(request, "write")
    site = _site(request, record)
    # Workflow sites are built by Actions runs on push; the request is accepted and ignored.
    if site.build_type == "legacy":
        head = _branch_head(request, record, site.branch)
        if head is not None:
            _build(request, record, head)
    url = f"{urls_of(request).repo_api(record.full_name)}/pages/builds/latest"
    return json_response({"url": url, "status": "queued"}, status=201)


def _build_json(request: web.Request, record: RepoRecord, build: PagesBuild) -> dict[str, Any]:
    pusher = forge_of(request).accounts.get(build.pusher) if build.pusher else None
    return shapes.pages_build(urls_of(request), record, build, pusher)


@routes.get(PAGES + "/builds")
async def list_builds(request: web.Request) -> web.Response:
    record = find_repo(request)
    _site(request, record)
    page, headers = paginate(request, list(reversed(record.builds)))
    return json_response([_build_json(request, record, b) for b in page], headers=headers)


@routes.get(PAGES + "/builds/latest")
async def latest_build(request: web.Request) -> web.Response:
    record = find_repo(request)
    _site(request, record)
    if not record.builds:
        raise not_found()
    return json_response(_build_json(request, record, record.builds[-1]))


@routes.get(PAGES + "/builds/{build_id:\\d+}")
async def get_build(request: web.Request) -> web.Response:
    record = find_repo(request)
    _site(request, record)
    wanted = int(request.match_info["build_id"])
    for build in record.builds:
        if build.id == wanted:
            return json_response(_build_json(request, record, build))
    raise not_found()
