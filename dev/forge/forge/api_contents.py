"""The contents API: read files and folders, create, update and delete one file per commit."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web
from dulwich.repo import Repo

from . import gitdata, shapes
from .access import find_repo
from .api_git import decode_content, github_base64
from .authorship import person_for, signature
from .context import forge_of, urls_of, user_of
from .errors import ApiError, json_response, not_found, not_supplied
from .params import read_json, string
from .store import RepoRecord

routes = web.RouteTableDef()
PATH = "/api/v3/repos/{owner}/{repo}/contents{path:(/.*)?}"
INLINE_LIMIT = 1024 * 1024  # larger files come back with encoding "none", as on GitHub
KINDS = {"blob": "file", "tree": "dir", "commit": "submodule"}


def _path(request: web.Request) -> str:
    return request.match_info.get("path", "").strip("/")


def content_item(
    request: web.Request, record: RepoRecord, repo: Repo, ref: str, entry: gitdata.Entry
) -> dict[str, Any]:
    urls = urls_of(request)
    api, html = urls.repo_api(record.full_name), urls.repo_html(record.full_name)
    kind = "symlink" if entry.mode == 0o120000 else KINDS[entry.kind]
    path = quote(entry.path)
    self_url = f"{api}/contents/{path}?ref={quote(ref)}"
    git_url = f"{api}/git/{entry.kind}s/{entry.sha}" if entry.kind != "commit" else None
    html_url = f"{html}/{'tree' if kind == 'dir' else 'blob'}/{quote(ref)}/{path}"
    return {
        "type": kind,
        "size": gitdata.blob_size(repo, entry.sha) if entry.kind == "blob" else 0,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": urls.raw(record.full_name, ref, entry.path) if kind == "file" else None,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


@routes.get(PATH)
async def get_contents(request: web.Request) -> web.StreamResponse:
    record = find_repo(request)
    path = _path(request)
    with forge_of(request).store.git(record) as repo:
        if gitdata.is_empty(repo):
            raise ApiError(404, "This repository is empty.")
        ref = request.query.get("ref") or record.default_branch
        sha = gitdata.resolve(repo, ref)
        commit = gitdata.read_commit(repo, sha) if sha else None
        if commit is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        entry = gitdata.lookup(repo, commit.tree.decode(), path)
        if entry is None:
            raise not_found()
        if entry.kind == "tree":
            listing = gitdata.tree_entries(repo, entry.sha, recursive=False)
            items = [content_item(request, record, repo, ref, e) for e in listing]
            return json_response(items)
        item = content_item(request, record, repo, ref, entry)
        data = gitdata.read_blob(repo, entry.sha) if entry.kind == "blob" else b""
    if "raw" in request.headers.get("Accept", ""):
        return web.Response(body=data, content_type="application/octet-stream")
    if item["type"] == "symlink":
        item["target"] = (data or b"").decode(errors="replace")
    elif data is not None and len(data) > INLINE_LIMIT:
        item.update(content="", encoding="none")
    else:
        item.update(content=github_base64(data or b""), encoding="base64")
    return json_response(item)


def _check_sha(
    existing: gitdata.Entry | None, given: str | None, path: str, deleting: bool
) -> None:
    """GitHub's rules: replacing or deleting needs the current blob sha, creating ignores it."""
    if existing is None and not deleting:
        return
    if given is None:
        raise not_supplied("sha")
    if existing is None:
        raise not_found()
    if given != existing.sha:
        raise ApiError(409, f"{path} does not match {given}")


def _branch_head(repo: Repo, branch: str) -> str | None:
    """The branch's head commit; None on an empty repo, where the commit will be the first."""
    if gitdata.is_empty(repo):
        return None
    head = gitdata.read_ref(repo, f"refs/heads/{branch}")
    if head is None:
        raise ApiError(404, f"Branch {branch} not found")
    return head


def _commit_change(
    request: web.Request, body: dict[str, Any], path: str, blob: bytes | None
) -> tuple[dict[str, Any] | None, dict[str, Any], bool]:
    """Commit one file change (blob=None deletes); returns (content, commit, created)."""
    forge, user = forge_of(request), user_of(request)
    record = find_repo(request, "write")
    message = string(body, "message", required=True) or ""
    me = person_for(user)
    author = signature(body.get("author"), "author") or me
    committer = signature(body.get("committer"), "committer") or author
    if not path or "//" in path or any(p in (".", "..", ".git") for p in path.split("/")):
        raise ApiError(422, "path contains a malformed path component")
    branch = string(body, "branch") or record.default_branch
    with forge.store.git(record) as repo:
        head = _branch_head(repo, branch)
        parent = gitdata.read_commit(repo, head) if head else None
        base_tree = parent.tree.decode() if parent else None
        existing = gitdata.lookup(repo, base_tree, path) if base_tree else None
        _check_sha(existing, string(body, "sha"), path, deleting=blob is None)
        if blob is None:
            change = gitdata.TreeChange(path, 0o100644, None)
        else:
            mode = existing.mode if existing and existing.kind == "blob" else 0o100644
            change = gitdata.TreeChange(path, mode, gitdata.add_blob(repo, blob))
        tree = gitdata.write_tree(repo, base_tree, [change])
        sha = gitdata.write_commit(repo, tree, [head] if head else [], message, author, committer)
        if not gitdata.set_ref(repo, f"refs/heads/{branch}", sha, head):
            raise ApiError(409, f"{branch} is at a different commit than expected")
        if head is None:
            # The first branch pushed to an empty repository becomes its default branch.
            gitdata.set_head(repo, branch)
            record.default_branch = branch
        commit = gitdata.read_commit(repo, sha)
        assert commit is not None
        commit_json = shapes.git_commit(urls_of(request), record.full_name, commit)
        entry = gitdata.lookup(repo, tree, path) if blob is not None else None
        content = content_item(request, record, repo, branch, entry) if entry else None
    forge.pushed(record, branch, sha, user.login)
    return content, commit_json, existing is None


@routes.put(PATH)
async def put_contents(request: web.Request) -> web.Response:
    body = await read_json(request)
    string(body, "message", required=True)
    encoded = string(body, "content", required=True) or ""
    data = decode_content(encoded, "base64")
    content, commit, created = _commit_change(request, body, _path(request), data)
    return json_response({"content": content, "commit": commit}, status=201 if created else 200)


@routes.delete(PATH)
async def delete_contents(request: web.Request) -> web.Response:
    body = await read_json(request)
    string(body, "message", required=True)
    _content, commit, _created = _commit_change(request, body, _path(request), None)
    return json_response({"content": None, "commit": commit})
