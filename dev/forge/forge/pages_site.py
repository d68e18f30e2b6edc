"""Serve built Pages sites at /pages/{owner}/{repo}/ from the commit of the last good build."""

from __future__ import annotations

import mimetypes

from aiohttp import web
from dulwich.repo import Repo

from . import gitdata
from .state import FORGE

routes = web.RouteTableDef()

TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".xml": "application/xml",
    ".csv": "text/csv",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
DEFAULT_404 = (
    "<!DOCTYPE html><html><head><title>Page not found · GitHub Pages</title></head>"
    "<body><h1>404</h1><p><strong>File not found</strong></p>"
    "<p>The site configured at this address does not contain the requested file.</p>"
    "</body></html>"
)


def content_type(path: str) -> str:
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    kind = TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    textual = kind.startswith("text/") or kind in ("application/json", "application/xml")
    return f"{kind}; charset=utf-8" if textual or kind.endswith("+json") else kind


def _hidden(parts: list[str], jekyll: bool) -> bool:
    # Jekyll leaves out everything whose path has a segment starting with "_" or ".".
    return jekyll and any(p.startswith(("_", ".")) for p in parts)


def _file(repo: Repo, root: str, parts: list[str], jekyll: bool) -> gitdata.Entry | None:
    if _hidden(parts, jekyll):
        return None
    entry = gitdata.lookup(repo, root, "/".join(parts))
    if entry is None or entry.kind != "blob" or entry.mode == 0o120000:
        return None  # symlinks are not served
    return entry


def _not_found(repo: Repo, root: str, jekyll: bool) -> web.Response:
    custom = _file(repo, root, ["404.html"], jekyll)
    if custom is not None:
        body = gitdata.read_blob(repo, custom.sha) or b""
        return web.Response(status=404, body=body, content_type="text/html", charset="utf-8")
    return web.Response(status=404, text=DEFAULT_404, content_type="text/html")


@routes.get("/pages/{owner}/{repo}{tail:.*}")
async def serve_site(request: web.Request) -> web.StreamResponse:
    forge = request.app[FORGE]
    record = forge.store.get(request.match_info["owner"], request.match_info["repo"])
    site = record.pages if record else None
    if record is None or site is None or site.live_commit is None:
        return web.Response(status=404, text=DEFAULT_404, content_type="text/html")
    tail = request.match_info["tail"]
    if not tail.startswith("/"):
        if tail:
            return web.Response(status=404, text=DEFAULT_404, content_type="text/html")
        raise web.HTTPMovedPermanently(request.path + "/")
    parts = [p for p in tail.split("/") if p]
    with forge.store.git(record) as repo:
        commit = gitdata.read_commit(repo, site.live_commit)
        folder = (
            gitdata.lookup(repo, commit.tree.decode(), site.path.strip("/")) if commit else None
        )
        if folder is None or folder.kind != "tree":
            return web.Response(status=404, text=DEFAULT_404, content_type="text/html")
        root = folder.sha
        # Only legacy builds run Jekyll; a workflow publishes its artifact as it is.
        jekyll = site.build_type == "legacy" and gitdata.lookup(repo, root, ".nojekyll") is None
        if ".." in parts:
            return _not_found(repo, root, jekyll)
        target = gitdata.lookup(repo, root, "/".join(parts))
        if target is not None and target.kind == "tree" and not _hidden(parts, jekyll):
            if not request.path.endswith("/"):
                raise web.HTTPMovedPermanently(request.path + "/")
            parts = [*parts, "index.html"]
        elif target is None and parts and "." not in parts[-1]:
            parts[-1] += ".html"  # /about serves about.html, as GitHub Pages does
        entry = _file(repo, root, parts, jekyll)
        if entry is None:
            return _not_found(repo, root, jekyll)
        etag = f'"{entry.sha}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        body = gitdata.read_blob(repo, entry.sha) or b""
    headers = {
        "Content-Type": content_type(parts[-1]),
        "ETag": etag,
        "Cache-Control": "max-age=600",
        "Access-Control-Allow-Origin": "*",
    }
    return web.Response(body=body, headers=headers)
