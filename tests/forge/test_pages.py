"""Pages: enabling, builds that follow pushes, the served site, Jekyll rules, workflow runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from gidgethub import BadRequest, InvalidField

from tests.forge.helpers import GH, commit_files, new_repo, wait_for

LEGACY = {"build_type": "legacy", "source": {"branch": "main", "path": "/"}}


async def built(gh: GH, full: str, sha: str) -> dict[str, Any]:
    """Poll builds/latest, as the publisher does, until the commit is built."""

    async def check() -> dict[str, Any] | None:
        build = await gh.get(f"/repos/{full}/pages/builds/latest")
        if build["commit"] == sha and build["status"] in ("built", "errored"):
            return build  # type: ignore[no-any-return]
        return None

    return await wait_for(check)  # type: ignore[no-any-return]


async def fetch(session: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with session.get(url, allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def test_enable_build_and_serve(gh: GH, session: aiohttp.ClientSession) -> None:
    repo = await new_repo(gh, "site", auto_init=True)
    full = repo["full_name"]
    sha = await commit_files(
        gh, full, {"index.html": b"<h1>Hello</h1>", "about.html": b"about", "css/s.css": b"a{}"}
    )
    with pytest.raises(BadRequest) as info:
        await gh.get(f"/repos/{full}/pages")
    assert info.value.status_code == 404
    site = await gh.post(f"/repos/{full}/pages", data=LEGACY)
    assert site["status"] in ("queued", None)
    assert site["source"] == {"branch": "main", "path": "/"}
    assert site["build_type"] == "legacy"
    assert site["html_url"].endswith(f"/pages/{full}/")
    # Before the first build finishes the site does not exist.
    assert (await fetch(session, site["html_url"]))[0] == 404
    build = await built(gh, full, sha)
    assert build["status"] == "built"
    assert build["error"] == {"message": None}
    assert build["pusher"]["login"] == "pagesmith-dev"
    assert (await gh.get(f"/repos/{full}/pages"))["status"] == "built"
    status, ctype, body = await fetch(session, site["html_url"])
    assert (status, ctype, body) == (200, "text/html; charset=utf-8", "<h1>Hello</h1>")
    assert (await fetch(session, site["html_url"] + "css/s.css"))[:2] == (
        200,
        "text/css; charset=utf-8",
    )
    assert (await fetch(session, site["html_url"] + "about"))[2] == "about"
    assert (await fetch(session, site["html_url"] + "missing.html"))[0] == 404
    assert (await fetch(session, site["html_url"] + "css"))[0] == 301
    assert (await fetch(session, site["html_url"].rstrip("/")))[0] == 301
    with pytest.raises(BadRequest) as info:
        await gh.post(f"/repos/{full}/pages", data=LEGACY)
    assert info.value.status_code == 409
    assert str(info.value) == "GitHub Pages is already enabled."


async def test_a_push_rebuilds_and_the_newest_push_wins(
    gh: GH, session: aiohttp.ClientSession
) -> None:
    repo = await new_repo(gh, "live", auto_init=True)
    full = repo["full_name"]
    await commit_files(gh, full, {"index.html": b"one"})
    await gh.post(f"/repos/{full}/pages", data=LEGACY)
    two = await commit_files(gh, full, {"index.html": b"two"})
    three = await commit_files(gh, full, {"index.html": b"three"})
    assert (await built(gh, full, three))["status"] == "built"
    builds = await gh.get(f"/repos/{full}/pages/builds")
    assert builds[0]["commit"] == three
    superseded = next(b for b in builds if b["commit"] == two)
    assert superseded["status"] == "errored"
    site = await gh.get(f"/repos/{full}/pages")
    assert (await fetch(session, site["html_url"]))[2] == "three"
    one = await gh.get(f"/repos/{full}/pages/builds/{builds[0]['url'].rsplit('/', 1)[1]}")
    assert one["commit"] == three


async def test_jekyll_hides_underscore_and_dot_paths_without_nojekyll(
    gh: GH, session: aiohttp.ClientSession
) -> None:
    repo = await new_repo(gh, "jekyll", auto_init=True)
    full = repo["full_name"]
    files = {"index.html": b"i", "_app/main.js": b"js", ".well-known/x": b"w"}
    sha = await commit_files(gh, full, files)
    site = await gh.post(f"/repos/{full}/pages", data=LEGACY)
    await built(gh, full, sha)
    assert (await fetch(session, site["html_url"] + "_app/main.js"))[0] == 404
    assert (await fetch(session, site["html_url"] + ".well-known/x"))[0] == 404
    sha = await commit_files(gh, full, {".nojekyll": b""})
    await built(gh, full, sha)
    status, ctype, body = await fetch(session, site["html_url"] + "_app/main.js")
    assert (status, ctype, body) == (200, "text/javascript; charset=utf-8", "js")


async def test_docs_source_and_custom_404(gh: GH, session: aiohttp.ClientSession) -> None:
    repo = await new_repo(gh, "docs", auto_init=True)
    full = repo["full_name"]
    sha = await commit_files(gh, full, {"docs/index.html": b"docs", "docs/404.html": b"lost"})
    source = {"build_type": "legacy", "source": {"branch": "main", "path": "/docs"}}
    site = await gh.post(f"/repos/{full}/pages", data=source)
    await built(gh, full, sha)
    assert (await fetch(session, site["html_url"]))[2] == "docs"
    assert (await fetch(session, site["html_url"] + "nope"))[::2] == (404, "lost")


async def test_enable_needs_an_existing_branch(gh: GH) -> None:
    await new_repo(gh, "hollow")
    with pytest.raises(InvalidField) as info:
        await gh.post("/repos/pagesmith-dev/hollow/pages", data=LEGACY)
    assert "main branch must exist" in str(info.value)


async def test_injected_build_error(
    gh: GH, session: aiohttp.ClientSession, control: Callable[[str], str]
) -> None:
    repo = await new_repo(gh, "broken", auto_init=True)
    full = repo["full_name"]
    spec = {
        "kind": "pages_build_error",
        "path": "/repos/pagesmith-dev/broken$",
        "body": {"message": "Liquid syntax error"},
    }
    async with session.post(control("/faults"), json=spec) as resp:
        assert resp.status == 201
    head = (await gh.get(f"/repos/{full}/git/ref/heads/main"))["object"]["sha"]
    await gh.post(f"/repos/{full}/pages", data=LEGACY)
    build = await built(gh, full, head)
    assert build["status"] == "errored"
    assert build["error"]["message"] == "Liquid syntax error"
    assert (await gh.get(f"/repos/{full}/pages"))["status"] == "errored"
    # The fault was used up: a requested rebuild succeeds.
    queued = await gh.post(f"/repos/{full}/pages/builds")
    assert queued["status"] == "queued"
    assert (await built(gh, full, head))["status"] == "built"


async def test_update_and_disable(gh: GH) -> None:
    repo = await new_repo(gh, "toggle", auto_init=True)
    full = repo["full_name"]
    await gh.post(f"/repos/{full}/pages", data=LEGACY)
    await gh.put(f"/repos/{full}/pages", data={"build_type": "workflow"})
    assert (await gh.get(f"/repos/{full}/pages"))["build_type"] == "workflow"
    await gh.delete(f"/repos/{full}/pages")
    with pytest.raises(BadRequest) as info:
        await gh.get(f"/repos/{full}/pages")
    assert info.value.status_code == 404


async def test_workflow_runs_are_simulated_and_deploy(
    gh: GH, session: aiohttp.ClientSession
) -> None:
    repo = await new_repo(gh, "actions", auto_init=True)
    full = repo["full_name"]
    site = await gh.post(f"/repos/{full}/pages", data={"build_type": "workflow"})
    workflow = b"name: Deploy site\non: push\njobs: {}\n"
    sha = await commit_files(
        gh, full, {".github/workflows/pages.yml": workflow, "index.html": b"from actions"}
    )

    async def finished() -> dict[str, Any] | None:
        runs = await gh.get(f"/repos/{full}/actions/runs?head_sha={sha}")
        done = runs["total_count"] == 1 and runs["workflow_runs"][0]["status"] == "completed"
        return runs["workflow_runs"][0] if done else None

    run = await wait_for(finished)
    assert (run["name"], run["event"], run["head_branch"]) == ("Deploy site", "push", "main")
    assert run["conclusion"] == "success"
    assert (await gh.get(f"/repos/{full}/actions/runs/{run['id']}"))["head_sha"] == sha
    assert (await gh.get(f"/repos/{full}/pages"))["status"] == "built"
    assert (await fetch(session, site["html_url"]))[2] == "from actions"
