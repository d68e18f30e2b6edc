"""GET /repos/{o}/{r}/commits (newest first) and /commits/{ref} (with files)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from . import gitdata, shapes
from .access import git_repo
from .context import urls_of
from .errors import invalid, json_response, not_found
from .paging import paginate

routes = web.RouteTableDef()
REPO = "/api/v3/repos/{owner}/{repo}"


@routes.get(REPO + "/commits")
async def list_commits(request: web.Request) -> web.Response:
    with git_repo(request) as (record, repo):
        ref = request.query.get("sha") or record.default_branch
        head = gitdata.resolve(repo, ref)
        if head is None:
            raise not_found()
        # The whole history is walked so that rel="last" is exact, as GitHub's is.
        walk = list(gitdata.history(repo, head, request.query.get("path")))
        page, headers = paginate(request, walk)
        commits = [shapes.commit(urls_of(request), record.full_name, c) for c in page]
    return json_response(commits, headers=headers)


@routes.get(REPO + "/commits/{ref:.+}")
async def get_commit(request: web.Request) -> web.Response:
    ref = request.match_info["ref"]
    urls = urls_of(request)
    with git_repo(request) as (record, repo):
        sha = gitdata.resolve(repo, ref)
        commit = gitdata.read_commit(repo, sha) if sha else None
        if commit is None:
            raise invalid(f"No commit found for SHA: {ref}")
        data = shapes.commit(urls, record.full_name, commit)
        files = gitdata.changed_files(repo, commit)
    html = urls.repo_html(record.full_name)
    data["files"] = [
        {
            "sha": f.sha,
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
            "blob_url": f"{html}/blob/{data['sha']}/{quote(f.filename)}",
            "raw_url": urls.raw(record.full_name, data["sha"], f.filename),
            "contents_url": f"{urls.repo_api(record.full_name)}/contents/{quote(f.filename)}"
            f"?ref={data['sha']}",
            **({"patch": f.patch} if f.patch is not None else {}),
        }
        for f in files
    ]
    additions = sum(f.additions for f in files)
    deletions = sum(f.deletions for f in files)
    data["stats"] = {"total": additions + deletions, "additions": additions, "deletions": deletions}
    return json_response(data)
