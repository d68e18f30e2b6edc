"""Repository listings for a user, the authenticated user and an org, paged with Link."""

from __future__ import annotations

from aiohttp import web

from .access import can_read, can_write
from .api_repos import repo_json
from .context import forge_of, user_of
from .errors import json_response, not_found, validation_failed
from .paging import paginate
from .store import RepoRecord

routes = web.RouteTableDef()


def _sorted(request: web.Request, records: list[RepoRecord], default: str) -> list[RepoRecord]:
    sort = request.query.get("sort", default)
    if sort not in ("created", "updated", "pushed", "full_name"):
        sort = default
    direction = request.query.get("direction", "asc" if sort == "full_name" else "desc")
    keys = {
        "created": lambda r: (r.created_at, r.id),
        "updated": lambda r: (r.updated_at, r.id),
        "pushed": lambda r: (r.pushed_at, r.id),
        "full_name": lambda r: (r.full_name.lower(), r.id),
    }
    return sorted(records, key=keys[sort], reverse=direction == "desc")


def _listing(request: web.Request, records: list[RepoRecord], default_sort: str) -> web.Response:
    page, headers = paginate(request, _sorted(request, records, default_sort))
    return json_response([repo_json(request, r) for r in page], headers=headers)


@routes.get("/api/v3/user/repos")
async def list_mine(request: web.Request) -> web.Response:
    forge, user = forge_of(request), user_of(request)
    query = request.query
    if "type" in query and ("visibility" in query or "affiliation" in query):
        raise validation_failed("Repository", "type", "invalid", "type cannot be combined")
    kind = query.get("type", "all")
    visibility = query.get("visibility", "all")
    affiliation = query.get("affiliation", "owner,collaborator,organization_member").split(",")
    records = []
    for record in forge.store.all():
        own = record.owner.lower() == user.login.lower()
        member = not own and can_write(forge, user, record)
        if not (own or member):
            continue
        if (own and "owner" not in affiliation) or (
            member and "organization_member" not in affiliation
        ):
            continue
        if (kind == "owner" and not own) or (kind == "member" and not member):
            continue
        scope = kind if kind in ("public", "private") else visibility
        if scope in ("public", "private") and record.private != (scope == "private"):
            continue
        records.append(record)
    return _listing(request, records, "full_name")


@routes.get("/api/v3/users/{login}/repos")
async def list_for_user(request: web.Request) -> web.Response:
    forge = forge_of(request)
    account = forge.accounts.get(request.match_info["login"])
    if account is None:
        raise not_found()
    records = [
        r for r in forge.store.all() if r.owner.lower() == account.login.lower() and not r.private
    ]
    return _listing(request, records, "full_name")


@routes.get("/api/v3/orgs/{org}/repos")
async def list_for_org(request: web.Request) -> web.Response:
    forge, user = forge_of(request), user_of(request)
    org = forge.accounts.get(request.match_info["org"])
    if org is None or org.type != "Organization":
        raise not_found()
    kind = request.query.get("type", "all")
    records = []
    for record in forge.store.all():
        if record.owner.lower() != org.login.lower() or not can_read(forge, user, record):
            continue
        if kind in ("public", "private") and record.private != (kind == "private"):
            continue
        records.append(record)
    return _listing(request, records, "created")
