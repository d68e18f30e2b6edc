"""Repositories: create, get, update, delete; topics."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from . import gitdata, shapes
from .access import can_write, find_repo, lagging
from .accounts import Account
from .authorship import person_for
from .context import forge_of, urls_of, user_of
from .errors import ApiError, json_response, not_found, validation_failed, wrong_type
from .params import boolean, read_json, string
from .store import RepoRecord, now_iso

routes = web.RouteTableDef()

CREATE_FAILED = "Repository creation failed."
INVALID_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")
TOPIC_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
TOPIC_RULE = (
    "Topics must start with a lowercase letter or number, consist of 50 characters or less, "
    "and can include hyphens."
)


def repo_json(request: web.Request, record: RepoRecord) -> dict[str, Any]:
    forge = forge_of(request)
    owner = forge.accounts.get(record.owner)
    assert owner is not None
    admin = can_write(forge, user_of(request), record)
    return shapes.repo(urls_of(request), record, owner, admin=admin)


def _name(raw: str, title: str) -> str:
    # GitHub turns every character it does not allow into "-" and drops a ".git" suffix.
    name = INVALID_NAME_CHARS.sub("-", raw).removesuffix(".git")
    if not name:
        raise validation_failed("Repository", "name", "missing_field", title=title)
    if len(name) > 100:
        raise validation_failed(
            "Repository",
            "name",
            "custom",
            "name is too long (maximum is 100 characters)",
            title=title,
        )
    if name in (".", "..") or name.lower().endswith(".wiki"):
        raise validation_failed("Repository", "name", "custom", "name is reserved", title=title)
    return name


def _description(body: dict[str, Any], title: str) -> str | None:
    text = string(body, "description")
    if text is None:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise validation_failed(
            "Repository",
            "description",
            "custom",
            "description control characters are not allowed",
            title=title,
        )
    if len(text) > 350:
        raise validation_failed(
            "Repository",
            "description",
            "custom",
            "description is too long (maximum is 350 characters)",
            title=title,
        )
    return text


def _name_taken(title: str) -> ApiError:
    return validation_failed(
        "Repository", "name", "custom", "name already exists on this account", title=title
    )


def _private(body: dict[str, Any]) -> bool | None:
    visibility = string(body, "visibility")
    if visibility is not None and visibility not in ("public", "private", "internal"):
        raise wrong_type("visibility", visibility, 'one of ["public", "private", "internal"]')
    private = boolean(body, "private")
    if visibility is not None:
        return visibility != "public"
    return private


async def _create(request: web.Request, owner: Account) -> web.Response:
    forge, user = forge_of(request), user_of(request)
    body = await read_json(request)
    raw = string(body, "name", required=True)
    assert raw is not None
    name = _name(raw, CREATE_FAILED)
    description = _description(body, CREATE_FAILED)
    if forge.store.get(owner.login, name) is not None:
        raise _name_taken(CREATE_FAILED)
    stamp = now_iso()
    record = RepoRecord(
        id=forge.store.next_id("repo"),
        owner=owner.login,
        name=name,
        private=bool(_private(body)),
        created_at=stamp,
        updated_at=stamp,
        pushed_at=stamp,
        description=description,
        homepage=string(body, "homepage"),
        has_issues=boolean(body, "has_issues") is not False,
        has_projects=boolean(body, "has_projects") is not False,
        has_wiki=boolean(body, "has_wiki") is not False,
        is_template=bool(boolean(body, "is_template")),
    )
    forge.store.create(record)
    if boolean(body, "auto_init"):
        _initial_commit(request, record, user)
    data = repo_json(request, record)
    return json_response(data, status=201, headers={"Location": data["url"]})


def _initial_commit(request: web.Request, record: RepoRecord, user: Account) -> None:
    readme = f"# {record.name}\n"
    if record.description:
        readme += f"\n{record.description}\n"
    me = person_for(user)
    with forge_of(request).store.git(record) as repo:
        blob = gitdata.add_blob(repo, readme.encode())
        tree = gitdata.write_tree(repo, None, [gitdata.TreeChange("README.md", 0o100644, blob)])
        sha = gitdata.write_commit(repo, tree, [], "Initial commit", me, me)
        gitdata.set_ref(repo, f"refs/heads/{record.default_branch}", sha, None)


@routes.post("/api/v3/user/repos")
async def create_for_user(request: web.Request) -> web.Response:
    return await _create(request, user_of(request))


@routes.post("/api/v3/orgs/{org}/repos")
async def create_in_org(request: web.Request) -> web.Response:
    forge, user = forge_of(request), user_of(request)
    org = forge.accounts.get(request.match_info["org"])
    if org is None or org.type != "Organization":
        raise not_found()
    if not forge.accounts.is_member(user, org):
        raise ApiError(
            403, "You need admin access to the organization before adding a repository to it."
        )
    return await _create(request, org)


@routes.get("/api/v3/repos/{owner}/{repo}")
async def get_repo(request: web.Request) -> web.Response:
    record = find_repo(request)
    if lagging(request, record):
        raise not_found()
    return json_response(repo_json(request, record))


@routes.patch("/api/v3/repos/{owner}/{repo}")
async def update_repo(request: web.Request) -> web.Response:
    forge = forge_of(request)
    record = find_repo(request, "admin")
    body = await read_json(request)
    if record.archived and body.get("archived") is not False:
        raise ApiError(403, "Repository was archived so is read-only.")
    raw = string(body, "name")
    if raw is not None:
        name = _name(raw, "Validation Failed")
        other = forge.store.get(record.owner, name)
        if other is not None and other is not record:
            raise _name_taken("Validation Failed")
        forge.store.rename(record, name)
    if "description" in body:
        record.description = _description(body, "Validation Failed")
    if "homepage" in body:
        record.homepage = string(body, "homepage")
    private = _private(body)
    if private is not None:
        record.private = private
    for flag in ("has_issues", "has_projects", "has_wiki", "is_template", "archived"):
        value = boolean(body, flag)
        if value is not None:
            setattr(record, flag, value)
    branch = string(body, "default_branch")
    if branch is not None and branch != record.default_branch:
        _set_default_branch(request, record, branch)
    record.updated_at = now_iso()
    forge.store.save(record)
    return json_response(repo_json(request, record))


def _set_default_branch(request: web.Request, record: RepoRecord, branch: str) -> None:
    with forge_of(request).store.git(record) as repo:
        if gitdata.is_empty(repo):
            raise validation_failed(
                "Repository",
                "default_branch",
                "custom",
                "Cannot update default branch for an empty repository. "
                "Please init the repository and push first.",
            )
        if gitdata.read_ref(repo, f"refs/heads/{branch}") is None:
            raise validation_failed(
                "Repository",
                "default_branch",
                "custom",
                f"The branch {branch} was not found. Please push that ref first or create it "
                "via the Git Data API.",
            )
        gitdata.set_head(repo, branch)
    record.default_branch = branch


@routes.delete("/api/v3/repos/{owner}/{repo}")
async def delete_repo(request: web.Request) -> web.Response:
    forge = forge_of(request)
    record = find_repo(request, "admin")
    forge.pages.cancel(record)
    forge.store.delete(record)
    return web.Response(status=204)


# --- topics ---------------------------------------------------------------------------------


@routes.get("/api/v3/repos/{owner}/{repo}/topics")
async def get_topics(request: web.Request) -> web.Response:
    return json_response({"names": list(find_repo(request).topics)})


@routes.put("/api/v3/repos/{owner}/{repo}/topics")
async def replace_topics(request: web.Request) -> web.Response:
    record = find_repo(request, "admin")
    body = await read_json(request)
    names = body.get("names")
    if names is None:
        raise ApiError(422, 'Invalid request.\n\n"names" wasn\'t supplied.')
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise wrong_type("names", names, "an array of strings")
    topics = list(dict.fromkeys(names))
    bad = [t for t in topics if not TOPIC_RE.match(t)]
    if bad:
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "Repository",
                    "code": "invalid",
                    "field": "topics",
                    "message": f"{t} is not a valid topic. {TOPIC_RULE}",
                    "value": t,
                }
                for t in bad
            ],
        )
    if len(topics) > 20:
        raise validation_failed(
            "Repository", "topics", "invalid", "A repository cannot have more than 20 topics."
        )
    record.topics = topics
    record.updated_at = now_iso()
    forge_of(request).store.save(record)
    return json_response({"names": topics})
