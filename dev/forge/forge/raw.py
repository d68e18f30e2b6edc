"""Raw file downloads at /raw/{owner}/{repo}/{ref}/{path}: the contents API's download_url."""

from __future__ import annotations

from aiohttp import web

from . import gitdata
from .access import can_read
from .state import FORGE

routes = web.RouteTableDef()
NOT_FOUND = "404: Not Found"


@routes.get("/raw/{owner}/{repo}/{rest:.+}")
async def raw_file(request: web.Request) -> web.Response:
    forge = request.app[FORGE]
    record = forge.store.get(request.match_info["owner"], request.match_info["repo"])
    if record is None:
        return web.Response(status=404, text=NOT_FOUND)
    if record.private:
        # raw.githubusercontent.com wants a token for private repos too.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = (
            forge.accounts.by_token(token.strip())
            if scheme.lower() in ("token", "bearer")
            else None
        )
        if user is None or not can_read(forge, user, record):
            return web.Response(status=404, text=NOT_FOUND)
    parts = request.match_info["rest"].split("/")
    with forge.store.git(record) as repo:
        # Branch names may contain slashes: try the shortest ref that resolves.
        for cut in range(1, len(parts)):
            commit_sha = gitdata.resolve(repo, "/".join(parts[:cut]))
            commit = gitdata.read_commit(repo, commit_sha) if commit_sha else None
            if commit is None:
                continue
            entry = gitdata.lookup(repo, commit.tree.decode(), "/".join(parts[cut:]))
            if entry is not None and entry.kind == "blob":
                data = gitdata.read_blob(repo, entry.sha) or b""
                return web.Response(body=data, content_type="text/plain", charset="utf-8")
    return web.Response(status=404, text=NOT_FOUND)
