"""The contents API: reads, creates, updates with the sha rules, deletes, first commit."""

from __future__ import annotations

import base64

import aiohttp
import pytest
from gidgethub import BadRequest, InvalidField

from tests.forge.helpers import GH, new_repo


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_put_on_empty_repo_creates_the_first_commit(gh: GH) -> None:
    await new_repo(gh, "fresh")
    with pytest.raises(BadRequest, match=r"This repository is empty\."):
        await gh.get("/repos/pagesmith-dev/fresh/contents/index.html")
    made = await gh.put(
        "/repos/pagesmith-dev/fresh/contents/index.html",
        data={"message": "first", "content": b64(b"<p>hi</p>")},
    )
    assert made["content"]["path"] == "index.html"
    assert made["commit"]["parents"] == []
    head = await gh.get("/repos/pagesmith-dev/fresh/git/ref/heads/main")
    assert head["object"]["sha"] == made["commit"]["sha"]


async def test_create_update_and_the_sha_rules(gh: GH, session: aiohttp.ClientSession) -> None:
    await new_repo(gh, "files", auto_init=True)
    url = "/repos/pagesmith-dev/files/contents/docs/page.md"
    created = await gh.put(url, data={"message": "add", "content": b64(b"v1")})
    sha = created["content"]["sha"]
    with pytest.raises(InvalidField) as missing:
        await gh.put(url, data={"message": "again", "content": b64(b"v2")})
    assert missing.value.status_code == 422
    assert '"sha" wasn\'t supplied' in str(missing.value)
    with pytest.raises(BadRequest) as mismatch:
        await gh.put(url, data={"message": "again", "content": b64(b"v2"), "sha": "0" * 40})
    assert mismatch.value.status_code == 409
    updated = await gh.put(url, data={"message": "v2", "content": b64(b"v2"), "sha": sha})
    assert updated["content"]["sha"] != sha
    got = await gh.get(url)
    assert got["type"] == "file" and got["encoding"] == "base64"
    assert base64.b64decode(got["content"]) == b"v2"
    assert got["name"] == "page.md" and got["path"] == "docs/page.md"
    async with session.get(got["download_url"]) as resp:
        assert await resp.read() == b"v2"
    listing = await gh.get("/repos/pagesmith-dev/files/contents/docs")
    assert [(i["name"], i["type"]) for i in listing] == [("page.md", "file")]
    root = await gh.get("/repos/pagesmith-dev/files/contents/")
    assert {(i["name"], i["type"]) for i in root} == {("README.md", "file"), ("docs", "dir")}
    first = await gh.get(f"{url}?ref={created['commit']['sha']}")
    assert base64.b64decode(first["content"]) == b"v1"


async def test_delete_and_missing_paths(gh: GH) -> None:
    await new_repo(gh, "trash", auto_init=True)
    url = "/repos/pagesmith-dev/trash/contents/README.md"
    sha = (await gh.get(url))["sha"]
    with pytest.raises(InvalidField):
        await gh.delete(url, data={"message": "rm"})
    await gh.delete(url, data={"message": "rm", "sha": sha})
    with pytest.raises(BadRequest) as info:
        await gh.get(url)
    assert info.value.status_code == 404
    with pytest.raises(BadRequest) as info:
        await gh.put(
            "/repos/pagesmith-dev/trash/contents/x.txt",
            data={"message": "m", "content": b64(b"x"), "branch": "nope"},
        )
    assert info.value.status_code == 404
