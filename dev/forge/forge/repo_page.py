"""A bare-bones HTML page at a repo's html_url, so links in notifications lead somewhere."""

from __future__ import annotations

from html import escape

from aiohttp import web

from . import gitdata
from .state import FORGE
from .urls import Urls

routes = web.RouteTableDef()


@routes.get("/{owner}/{repo}")
async def repo_page(request: web.Request) -> web.Response:
    forge = request.app[FORGE]
    record = forge.store.get(request.match_info["owner"], request.match_info["repo"])
    if record is None or record.private:
        return web.Response(status=404, text="Not Found")
    urls = Urls(forge.settings.public_url or f"{request.scheme}://{request.host}")
    with forge.store.git(record) as repo:
        head = gitdata.resolve(repo, record.default_branch)
        commit = gitdata.read_commit(repo, head) if head else None
        entries = (
            gitdata.tree_entries(repo, commit.tree.decode(), recursive=False) if commit else []
        )
    files = "".join(f"<li>{escape(e.path)}{'/' if e.kind == 'tree' else ''}</li>" for e in entries)
    name = escape(record.full_name)
    parts = [
        f"<!DOCTYPE html><html><head><title>{name}</title></head><body><h1>{name}</h1>",
        f"<p>{escape(record.description or '')}</p>",
        f"<p>clone: <code>git clone {escape(urls.clone(record.full_name))}</code></p>",
    ]
    if record.pages and record.pages.live_commit:
        parts.append(f'<p><a href="{urls.pages(record.full_name)}">GitHub Pages site</a></p>')
    if head:
        parts.append(f"<p>{escape(record.default_branch)} at <code>{head}</code></p>")
        parts.append(f"<ul>{files}</ul>")
    else:
        parts.append("<p>This repository is empty.</p>")
    html = "".join(parts) + "</body></html>"
    return web.Response(text=html, content_type="text/html")
