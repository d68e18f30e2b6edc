"""Page a list and write GitHub's RFC 5988 Link header (prev, next, last, first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from aiohttp import web

from .context import urls_of
from .params import page_args

T = TypeVar("T")


def paginate(request: web.Request, items: Sequence[T]) -> tuple[list[T], dict[str, str]]:
    """The requested page of items and the headers (Link) to send with it."""
    per_page, page = page_args(request)
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    return chunk, link_header(request, page, last)


def link_header(request: web.Request, page: int, last: int) -> dict[str, str]:
    base = urls_of(request).base
    links = []
    if page > 1:
        links.append(("prev", min(page - 1, last)))
    if page < last:
        links += [("next", page + 1), ("last", last)]
    if page > 1:
        links.append(("first", 1))
    if not links:
        return {}
    parts = []
    for rel, number in links:
        url = request.rel_url.with_query({**request.query, "page": str(number)})
        parts.append(f'<{base}{url}>; rel="{rel}"')
    return {"Link": ", ".join(parts)}
