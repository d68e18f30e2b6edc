"""Repositories: GitHub's creation rules, updates, deletion, listings with Link, topics."""

from __future__ import annotations

import base64
from collections.abc import Callable

import aiohttp
import pytest
from gidgethub import BadRequest, InvalidField, ValidationError

from tests.forge.helpers import GH, TOKEN, new_repo


async def test_create_with_auto_init_has_one_commit_with_readme(gh: GH) -> None:
    repo = await new_repo(gh, "site", description="A demo", auto_init=True)
    assert repo["full_name"] == "pagesmith-dev/site"
    assert repo["owner"]["login"] == "pagesmith-dev"
    assert repo["owner"]["type"] == "User"
    assert repo["default_branch"] == "main"
    assert repo["visibility"] == "public"
    assert repo["private"] is False
    assert repo["topics"] == []
    assert repo["html_url"].endswith("/pagesmith-dev/site")
    assert repo["clone_url"].endswith("/pagesmith-dev/site.git")
    assert repo["url"].endswith("/api/v3/repos/pagesmith-dev/site")
    assert isinstance(repo["id"], int)
    assert repo["node_id"]
    commits = await gh.get("/repos/pagesmith-dev/site/commits")
    assert len(commits) == 1
    assert commits[0]["parents"] == []
    readme = await gh.get("/repos/pagesmith-dev/site/contents/README.md")
    assert base64.b64decode(readme["content"]) == b"# site\n\nA demo\n"


async def test_create_without_auto_init_is_empty(gh: GH) -> None:
    await new_repo(gh, "bare")
    with pytest.raises(BadRequest) as info:
        await gh.get("/repos/pagesmith-dev/bare/git/ref/heads/main")
    assert info.value.status_code == 409
    assert str(info.value) == "Git Repository is empty."


async def test_name_taken_is_validation_error_with_custom_code(gh: GH) -> None:
    await new_repo(gh, "Taken")
    with pytest.raises(ValidationError) as info:
        await new_repo(gh, "taken")  # names are case-insensitive
    assert info.value.status_code == 422
    assert info.value.errors == [
        {
            "resource": "Repository",
            "code": "custom",
            "field": "name",
            "message": "name already exists on this account",
        }
    ]


async def test_name_is_sanitised_like_github(gh: GH) -> None:
    repo = await new_repo(gh, "My Site: v2!.git")
    assert repo["name"] == "My-Site--v2-"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x" * 101}, "name is too long (maximum is 100 characters)"),
        (
            {"name": "ok", "description": "bad\ncontrol"},
            "description control characters are not allowed",
        ),
        (
            {"name": "ok", "description": "d" * 351},
            "description is too long (maximum is 350 characters)",
        ),
    ],
)
async def test_invalid_fields_are_422(gh: GH, fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        await gh.post("/user/repos", data=fields)
    assert info.value.errors[0]["message"] == message
    assert info.value.errors[0]["code"] == "custom"


async def test_missing_name_is_422(gh: GH) -> None:
    with pytest.raises(InvalidField) as info:
        await gh.post("/user/repos", data={"description": "no name"})
    assert info.value.status_code == 422


async def test_get_patch_delete(gh: GH) -> None:
    await new_repo(gh, "life", auto_init=True)
    repo = await gh.patch(
        "/repos/pagesmith-dev/life", data={"description": "changed", "homepage": "https://x"}
    )
    assert repo["description"] == "changed"
    assert (await gh.get("/repos/PAGESMITH-DEV/LIFE"))["homepage"] == "https://x"
    renamed = await gh.patch("/repos/pagesmith-dev/life", data={"name": "life2"})
    assert renamed["full_name"] == "pagesmith-dev/life2"
    assert (await gh.get("/repos/pagesmith-dev/life2/git/ref/heads/main"))["ref"]
    await gh.delete("/repos/pagesmith-dev/life2")
    with pytest.raises(BadRequest) as info:
        await gh.get("/repos/pagesmith-dev/life2")
    assert info.value.status_code == 404


async def test_org_repos_and_outsiders(gh: GH, make_gh: Callable[..., GH]) -> None:
    repo = await gh.post("/orgs/acme/repos", data={"name": "team", "private": True})
    assert repo["owner"] == {**repo["owner"], "login": "acme", "type": "Organization"}
    assert repo["visibility"] == "private"
    outsider = make_gh("outsider-token")
    with pytest.raises(BadRequest) as info:
        await outsider.get("/repos/acme/team")  # private: hidden
    assert info.value.status_code == 404
    with pytest.raises(BadRequest) as info:
        await outsider.post("/orgs/acme/repos", data={"name": "nope"})
    assert info.value.status_code == 403
    public = await new_repo(gh, "open")
    assert (await outsider.get(f"/repos/{public['full_name']}"))["permissions"]["push"] is False
    with pytest.raises(BadRequest) as info:
        await outsider.delete(f"/repos/{public['full_name']}")
    assert info.value.status_code == 403


async def test_listing_pages_with_link_header(
    gh: GH, session: aiohttp.ClientSession, api_url: str
) -> None:
    for i in range(5):
        await new_repo(gh, f"r{i}")
    headers = {"Authorization": f"token {TOKEN}"}
    url = f"{api_url}/user/repos?per_page=2&page=2&sort=full_name"
    async with session.get(url, headers=headers) as resp:
        names = [r["name"] for r in await resp.json()]
        link = resp.headers["Link"]
    assert names == ["r2", "r3"]
    rels = dict(
        (part.split("; ")[1].removeprefix('rel="').rstrip('"'), part.split("; ")[0].strip("<>"))
        for part in link.split(", ")
    )
    assert set(rels) == {"prev", "next", "last", "first"}
    assert "page=3" in rels["next"] and "per_page=2" in rels["next"]
    assert "page=3" in rels["last"]
    assert "page=1" in rels["first"] and "page=1" in rels["prev"]
    assert rels["next"].startswith(api_url)
    # gidgethub follows rel="next" through every page.
    everything = await gh.iter("/user/repos?per_page=2")
    assert sorted(r["name"] for r in everything) == [f"r{i}" for i in range(5)]
    assert len(await gh.iter("/users/pagesmith-dev/repos")) == 5


async def test_topics_follow_github_rules(gh: GH) -> None:
    await new_repo(gh, "topical")
    result = await gh.put("/repos/pagesmith-dev/topical/topics", data={"names": ["web", "demo-1"]})
    assert result == {"names": ["web", "demo-1"]}
    assert (await gh.get("/repos/pagesmith-dev/topical"))["topics"] == ["web", "demo-1"]
    for bad in (["Upper"], ["has space"], ["x" * 51], [f"t{i}" for i in range(21)]):
        with pytest.raises(InvalidField):
            await gh.put("/repos/pagesmith-dev/topical/topics", data={"names": bad})
