"""The git data API: refs, blobs, trees and commits on real git objects."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web
from dulwich.refs import Ref, check_ref_format
from dulwich.repo import Repo

from . import gitdata, shapes
from .access import git_repo
from .authorship import person_for, signature
from .context import forge_of, urls_of, user_of
from .errors import invalid, json_response, not_found, not_supplied, wrong_type
from .params import boolean, read_json, string
from .store import RepoRecord

routes = web.RouteTableDef()
REPO = "/api/v3/repos/{owner}/{repo}/git"
MALFORMED_PATH = "tree.path contains a malformed path component"
BAD_SHA_FORMAT = (
    "Each SHA in the 'parents' parameter must be exactly 40 characters and contain only [0-9a-f]."
)


def _ref_json(request: web.Request, record: RepoRecord, repo: Repo, name: str) -> dict[str, Any]:
    sha = gitdata.read_ref(repo, name)
    assert sha is not None
    kind = gitdata.object_kind(repo, sha) or "commit"
    return shapes.ref(urls_of(request), record.full_name, name, sha, kind)


def _created(data: dict[str, Any]) -> web.Response:
    return json_response(data, status=201, headers={"Location": data["url"]})


def _after_push(request: web.Request, record: RepoRecord, name: str, sha: str) -> None:
    if name.startswith("refs/heads/"):
        user = user_of(request)
        forge_of(request).pushed(record, name.removeprefix("refs/heads/"), sha, user.login)


# --- refs -----------------------------------------------------------------------------------


@routes.get(REPO + "/ref/{ref:.+}")
async def get_ref(request: web.Request) -> web.Response:
    name = "refs/" + request.match_info["ref"]
    with git_repo(request) as (record, repo):
        if gitdata.read_ref(repo, name) is None:
            raise not_found()
        return json_response(_ref_json(request, record, repo, name))


@routes.get(REPO + "/refs")
async def list_refs(request: web.Request) -> web.Response:
    with git_repo(request) as (record, repo):
        return json_response([_ref_json(request, record, repo, n) for n in gitdata.list_refs(repo)])


@routes.get(REPO + "/refs/{ref:.+}")
async def get_refs_legacy(request: web.Request) -> web.Response:
    """The older plural form: the ref itself when it exists, else every ref under it."""
    name = "refs/" + request.match_info["ref"]
    with git_repo(request) as (record, repo):
        if gitdata.read_ref(repo, name) is not None:
            return json_response(_ref_json(request, record, repo, name))
        names = [n for n in gitdata.list_refs(repo) if n.startswith(name.rstrip("/") + "/")]
        if not names:
            raise not_found()
        return json_response([_ref_json(request, record, repo, n) for n in names])


@routes.get(REPO + "/matching-refs/{ref:.*}")
async def matching_refs(request: web.Request) -> web.Response:
    prefix = "refs/" + request.match_info["ref"]
    with git_repo(request) as (record, repo):
        names = [n for n in gitdata.list_refs(repo) if n.startswith(prefix)]
        return json_response([_ref_json(request, record, repo, n) for n in names])


@routes.post(REPO + "/refs")
async def create_ref(request: web.Request) -> web.Response:
    body = await read_json(request)
    with git_repo(request, "write") as (record, repo):
        name = string(body, "ref", required=True) or ""
        sha = string(body, "sha", required=True) or ""
        if not name.startswith("refs/") or name.count("/") < 2:
            raise invalid("Reference name must contain at least three slash-separated components.")
        if not check_ref_format(Ref(name.encode())):
            raise invalid(f"{name} is not a valid ref name.")
        if gitdata.object_kind(repo, sha) is None:
            raise invalid("Object does not exist")
        if gitdata.read_ref(repo, name) is not None:
            raise invalid("Reference already exists")
        try:
            created = gitdata.set_ref(repo, name, sha, None)
        except OSError:
            created = False  # e.g. refs/heads/a exists and this is refs/heads/a/b
        if not created:
            raise invalid("Reference update failed")
        data = _ref_json(request, record, repo, name)
    _after_push(request, record, name, sha)
    return _created(data)


@routes.patch(REPO + "/refs/{ref:.+}")
async def update_ref(request: web.Request) -> web.Response:
    body = await read_json(request)
    name = "refs/" + request.match_info["ref"]
    with git_repo(request, "write") as (record, repo):
        sha = string(body, "sha", required=True) or ""
        force = bool(boolean(body, "force"))
        current = gitdata.read_ref(repo, name)
        if current is None:
            raise invalid("Reference does not exist")
        kind = gitdata.object_kind(repo, sha)
        if kind is None or (name.startswith("refs/heads/") and kind != "commit"):
            raise invalid("Object does not exist")
        if not force and not gitdata.is_ancestor(repo, current, sha):
            raise invalid("Update is not a fast forward")
        if not gitdata.set_ref(repo, name, sha, current):
            raise invalid("Reference cannot be updated")
        data = _ref_json(request, record, repo, name)
    if sha != current:
        _after_push(request, record, name, sha)
    return json_response(data)


@routes.delete(REPO + "/refs/{ref:.+}")
async def delete_ref(request: web.Request) -> web.Response:
    name = "refs/" + request.match_info["ref"]
    with git_repo(request, "write") as (_record, repo):
        if gitdata.read_ref(repo, name) is None or not gitdata.delete_ref(repo, name):
            raise invalid("Reference does not exist")
    return web.Response(status=204)


# --- blobs ----------------------------------------------------------------------------------


def decode_content(content: str, encoding: str) -> bytes:
    if encoding == "utf-8":
        return content.encode("utf-8")
    if encoding == "base64":
        try:
            return base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid("Invalid request.\n\ncontent is not valid Base64.") from exc
    raise wrong_type("encoding", encoding, 'one of ["utf-8", "base64"]')


def github_base64(data: bytes) -> str:
    """Base64 the way GitHub returns it: 60-character lines, each ending in a newline."""
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


@routes.post(REPO + "/blobs")
async def create_blob(request: web.Request) -> web.Response:
    body = await read_json(request)
    with git_repo(request, "write") as (record, repo):
        content = string(body, "content", required=True)
        encoding = string(body, "encoding") or "utf-8"
        sha = gitdata.add_blob(repo, decode_content(content or "", encoding))
    url = f"{urls_of(request).repo_api(record.full_name)}/git/blobs/{sha}"
    return _created({"sha": sha, "url": url})


@routes.get(REPO + "/blobs/{sha}")
async def get_blob(request: web.Request) -> web.Response:
    sha = request.match_info["sha"]
    with git_repo(request) as (record, repo):
        data = gitdata.read_blob(repo, sha)
    if data is None:
        raise not_found()
    return json_response(
        {
            "sha": sha,
            "node_id": shapes.node_id("Blob", f"{record.full_name}:{sha}"),
            "size": len(data),
            "url": f"{urls_of(request).repo_api(record.full_name)}/git/blobs/{sha}",
            "content": github_base64(data),
            "encoding": "base64",
        }
    )


# --- trees ----------------------------------------------------------------------------------


def _tree_json(
    request: web.Request, record: RepoRecord, repo: Repo, sha: str, recursive: bool
) -> dict[str, Any]:
    urls = urls_of(request)
    entries = gitdata.tree_entries(repo, sha, recursive=recursive)
    return {
        "sha": sha,
        "url": f"{urls.repo_api(record.full_name)}/git/trees/{sha}",
        "tree": [
            shapes.tree_entry(
                urls,
                record.full_name,
                e,
                gitdata.blob_size(repo, e.sha) if e.kind == "blob" else None,
            )
            for e in entries
        ],
        "truncated": False,
    }


def _valid_path(path: Any) -> str:
    if not isinstance(path, str) or not path:
        raise not_supplied("path")
    parts = path.split("/")
    if any(p in ("", ".", "..", ".git") for p in parts) or "\0" in path:
        raise invalid(MALFORMED_PATH)
    return path


def _tree_change(repo: Repo, item: Any) -> gitdata.TreeChange:
    if not isinstance(item, dict):
        raise wrong_type("tree/items", item, "an object")
    path = _valid_path(item.get("path"))
    mode_text = item.get("mode")
    if mode_text not in gitdata.MODES:
        raise wrong_type("mode", mode_text, f"one of {list(gitdata.MODES)}")
    mode = gitdata.MODES[mode_text]
    kind = gitdata.kind_of_mode(mode)
    if item.get("type") is not None and item["type"] != kind:
        raise invalid(f"tree.type must be {kind} for mode {mode_text}")
    has_sha, has_content = "sha" in item, item.get("content") is not None
    if has_sha == has_content:
        raise invalid(
            "Must supply either tree.sha or tree.content. "
            "Request will be rejected if both are present."
        )
    if has_content:
        if kind != "blob" or not isinstance(item["content"], str):
            raise invalid("tree.content can only be used with blob entries")
        return gitdata.TreeChange(path, mode, gitdata.add_blob(repo, item["content"].encode()))
    sha = item["sha"]
    if sha is None:
        return gitdata.TreeChange(path, mode, None)
    if not isinstance(sha, str):
        raise wrong_type("sha", sha, "a string")
    # Submodule entries point at commits in other repositories, so they are not checked.
    if kind != "commit" and gitdata.object_kind(repo, sha) != kind:
        raise invalid(f"tree.sha {sha} is not a valid {kind}")
    return gitdata.TreeChange(path, mode, sha)


@routes.post(REPO + "/trees")
async def create_tree(request: web.Request) -> web.Response:
    body = await read_json(request)
    with git_repo(request, "write") as (record, repo):
        items = body.get("tree")
        if items is None:
            raise not_supplied("tree")
        if not isinstance(items, list):
            raise wrong_type("tree", items, "an array")
        base_tree = string(body, "base_tree")
        if base_tree is not None and gitdata.object_kind(repo, base_tree) != "tree":
            raise invalid("base_tree is not a valid tree oid")
        changes = [_tree_change(repo, item) for item in items]
        sha = gitdata.write_tree(repo, base_tree, changes)
        return _created(_tree_json(request, record, repo, sha, recursive=False))


@routes.get(REPO + "/trees/{sha:.+}")
async def get_tree(request: web.Request) -> web.Response:
    wanted = request.match_info["sha"]
    with git_repo(request) as (record, repo):
        sha: str | None = wanted
        if gitdata.object_kind(repo, wanted) != "tree":
            # GitHub also accepts a branch, tag or commit here and lists its root tree.
            commit_sha = gitdata.resolve(repo, wanted)
            commit = gitdata.read_commit(repo, commit_sha) if commit_sha else None
            sha = commit.tree.decode() if commit else None
        if sha is None:
            raise not_found()
        recursive = "recursive" in request.query
        return json_response(_tree_json(request, record, repo, sha, recursive))


# --- commits --------------------------------------------------------------------------------


@routes.post(REPO + "/commits")
async def create_commit(request: web.Request) -> web.Response:
    body = await read_json(request)
    with git_repo(request, "write") as (record, repo):
        message = string(body, "message", required=True) or ""
        tree = string(body, "tree", required=True) or ""
        parents = body.get("parents") or []
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise wrong_type("parents", parents, "an array of strings")
        author = signature(body.get("author"), "author")
        committer = signature(body.get("committer"), "committer") or author
        if gitdata.object_kind(repo, tree) != "tree":
            raise invalid("Tree SHA does not exist")
        for parent in parents:
            if not gitdata.SHA_RE.match(parent):
                raise invalid(BAD_SHA_FORMAT)
            if gitdata.object_kind(repo, parent) != "commit":
                raise invalid("Parent SHA does not exist or is not a commit object")
        me = person_for(user_of(request))
        sha = gitdata.write_commit(
            repo, tree, parents, message, author or me, committer or author or me
        )
        commit = gitdata.read_commit(repo, sha)
        assert commit is not None
        return _created(shapes.git_commit(urls_of(request), record.full_name, commit))


@routes.get(REPO + "/commits/{sha}")
async def get_commit(request: web.Request) -> web.Response:
    with git_repo(request) as (record, repo):
        commit = gitdata.read_commit(repo, request.match_info["sha"])
        if commit is None:
            raise not_found()
        return json_response(shapes.git_commit(urls_of(request), record.full_name, commit))
