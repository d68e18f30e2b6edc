"""The git data API on real objects, checked against `git clone` over HTTP."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from gidgethub import BadRequest, InvalidField

from tests.forge.helpers import GH, commit_files, git, new_repo

BINARY = bytes(range(256)) * 4
EMPTY_ROUTES = [
    ("GET", "/git/ref/heads/main"),
    ("GET", "/git/matching-refs/heads"),
    ("GET", "/git/refs"),
    ("POST", "/git/refs"),
    ("PATCH", "/git/refs/heads/main"),
    ("POST", "/git/blobs"),
    ("GET", "/git/blobs/" + "a" * 40),
    ("POST", "/git/trees"),
    ("GET", "/git/trees/" + "a" * 40),
    ("POST", "/git/commits"),
    ("GET", "/git/commits/" + "a" * 40),
    ("GET", "/commits"),
]


@pytest.mark.parametrize(("method", "path"), EMPTY_ROUTES)
async def test_empty_repository_answers_409(gh: GH, method: str, path: str) -> None:
    await new_repo(gh, "empty")
    url = "/repos/pagesmith-dev/empty" + path
    body = {"content": "x", "ref": "refs/heads/x", "sha": "a" * 40, "tree": [], "message": "m"}
    with pytest.raises(BadRequest) as info:
        if method == "GET":
            await gh.get(url)
        elif method == "POST":
            await gh.post(url, data=body)
        else:
            await gh.patch(url, data=body)
    assert info.value.status_code == 409
    assert str(info.value) == "Git Repository is empty."


async def test_full_flow_matches_git_clone(gh: GH, tmp_path: Path) -> None:
    repo = await new_repo(gh, "flow", auto_init=True)
    full = repo["full_name"]
    head = await gh.get(f"/repos/{full}/git/ref/heads/main")
    assert head["object"]["type"] == "commit"
    parent = await gh.get(f"/repos/{full}/git/commits/{head['object']['sha']}")

    blob = await gh.post(
        f"/repos/{full}/git/blobs",
        data={"content": base64.b64encode(BINARY).decode(), "encoding": "base64"},
    )
    assert len(blob["sha"]) == 40
    read_back = await gh.get(f"/repos/{full}/git/blobs/{blob['sha']}")
    assert read_back["encoding"] == "base64" and read_back["size"] == len(BINARY)
    assert all(len(line) <= 60 for line in read_back["content"].splitlines())
    assert base64.b64decode(read_back["content"]) == BINARY

    tree = await gh.post(
        f"/repos/{full}/git/trees",
        data={
            "base_tree": parent["tree"]["sha"],
            "tree": [
                {
                    "path": "index.html",
                    "mode": "100644",
                    "type": "blob",
                    "content": "<h1>hi</h1>\n",
                },
                {
                    "path": "assets/img/logo.bin",
                    "mode": "100644",
                    "type": "blob",
                    "sha": blob["sha"],
                },
                {"path": "bin/run.sh", "mode": "100755", "type": "blob", "content": "#!/bin/sh\n"},
            ],
        },
    )
    assert tree["truncated"] is False
    assert {e["path"] for e in tree["tree"]} == {"README.md", "index.html", "assets", "bin"}
    listing = await gh.get(f"/repos/{full}/git/trees/{tree['sha']}?recursive=1")
    by_path = {e["path"]: e for e in listing["tree"]}
    assert by_path["assets/img/logo.bin"]["size"] == len(BINARY)
    assert by_path["assets/img"]["type"] == "tree" and by_path["assets/img"]["mode"] == "040000"
    assert by_path["bin/run.sh"]["mode"] == "100755"

    commit = await gh.post(
        f"/repos/{full}/git/commits",
        data={
            "message": "Add the site",
            "tree": tree["sha"],
            "parents": [parent["sha"]],
            "author": {"name": "Ada", "email": "ada@example.com", "date": "2024-05-01T12:00:00Z"},
        },
    )
    assert commit["author"] == {
        "name": "Ada",
        "email": "ada@example.com",
        "date": "2024-05-01T12:00:00Z",
    }
    assert commit["committer"]["name"] == "Ada"
    assert commit["parents"][0]["sha"] == parent["sha"]
    assert commit["tree"]["sha"] == tree["sha"]
    assert commit["verification"]["verified"] is False
    moved = await gh.patch(
        f"/repos/{full}/git/refs/heads/main", data={"sha": commit["sha"], "force": False}
    )
    assert moved["object"]["sha"] == commit["sha"]

    clone = tmp_path / "clone"
    await git("clone", "--quiet", repo["clone_url"], str(clone))
    assert (await git("rev-parse", "HEAD", cwd=clone)).strip() == commit["sha"]
    assert (await git("rev-parse", "HEAD^{tree}", cwd=clone)).strip() == tree["sha"]
    assert (clone / "assets/img/logo.bin").read_bytes() == BINARY
    assert (clone / "index.html").read_text() == "<h1>hi</h1>\n"
    assert (clone / "bin/run.sh").stat().st_mode & 0o111
    assert not (clone / "index.html").stat().st_mode & 0o111
    assert (await git("log", "--format=%an %ae %s", "-1", cwd=clone)).strip() == (
        "Ada ada@example.com Add the site"
    )


async def test_non_fast_forward_is_422_unless_forced(gh: GH) -> None:
    repo = await new_repo(gh, "ff", auto_init=True)
    full = repo["full_name"]
    first = (await gh.get(f"/repos/{full}/git/ref/heads/main"))["object"]["sha"]
    parent = await gh.get(f"/repos/{full}/git/commits/{first}")
    sibling = await gh.post(
        f"/repos/{full}/git/commits",
        data={"message": "orphan", "tree": parent["tree"]["sha"], "parents": []},
    )
    with pytest.raises(InvalidField) as info:
        await gh.patch(f"/repos/{full}/git/refs/heads/main", data={"sha": sibling["sha"]})
    assert str(info.value) == "Update is not a fast forward"
    forced = await gh.patch(
        f"/repos/{full}/git/refs/heads/main", data={"sha": sibling["sha"], "force": True}
    )
    assert forced["object"]["sha"] == sibling["sha"]
    with pytest.raises(InvalidField) as info:
        await gh.patch(f"/repos/{full}/git/refs/heads/main", data={"sha": "b" * 40})
    assert str(info.value) == "Object does not exist"


async def test_tree_entry_with_null_sha_deletes_the_path(gh: GH) -> None:
    repo = await new_repo(gh, "del", auto_init=True)
    full = repo["full_name"]
    sha = await commit_files(gh, full, {"keep.txt": b"k", "gone/away.txt": b"x", "gone2.txt": b"y"})
    head = await gh.get(f"/repos/{full}/git/commits/{sha}")
    tree = await gh.post(
        f"/repos/{full}/git/trees",
        data={
            "base_tree": head["tree"]["sha"],
            "tree": [
                {"path": "gone/away.txt", "mode": "100644", "type": "blob", "sha": None},
                {"path": "gone2.txt", "mode": "100644", "type": "blob", "sha": None},
            ],
        },
    )
    # The emptied folder disappears too, as in git.
    assert sorted(e["path"] for e in tree["tree"]) == ["README.md", "keep.txt"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"base_tree": "c" * 40, "tree": []}, "base_tree is not a valid tree oid"),
        (
            {"tree": [{"path": "a", "mode": "100644", "type": "blob", "sha": "d" * 40}]},
            f"tree.sha {'d' * 40} is not a valid blob",
        ),
        (
            {
                "tree": [
                    {"path": "a", "mode": "100644", "type": "blob", "sha": "d" * 40, "content": "x"}
                ]
            },
            None,
        ),
        ({"tree": [{"path": "a", "mode": "100644", "type": "blob"}]}, None),
        (
            {"tree": [{"path": "../a", "mode": "100644", "type": "blob", "content": "x"}]},
            "tree.path contains a malformed path component",
        ),
        ({"tree": [{"path": "a", "mode": "100600", "type": "blob", "content": "x"}]}, None),
    ],
)
async def test_bad_trees_are_422(gh: GH, body: dict[str, object], message: str | None) -> None:
    await new_repo(gh, "trees", auto_init=True)
    with pytest.raises(InvalidField) as info:
        await gh.post("/repos/pagesmith-dev/trees/git/trees", data=body)
    assert info.value.status_code == 422
    if message:
        assert str(info.value) == message


async def test_bad_commits_are_422(gh: GH) -> None:
    await new_repo(gh, "commits", auto_init=True)
    url = "/repos/pagesmith-dev/commits/git/commits"
    with pytest.raises(InvalidField, match="Tree SHA does not exist"):
        await gh.post(url, data={"message": "m", "tree": "e" * 40})
    head = await gh.get("/repos/pagesmith-dev/commits/git/ref/heads/main")
    tree = (await gh.get(f"/repos/pagesmith-dev/commits/git/commits/{head['object']['sha']}"))[
        "tree"
    ]["sha"]
    with pytest.raises(InvalidField, match="Parent SHA does not exist"):
        await gh.post(url, data={"message": "m", "tree": tree, "parents": ["f" * 40]})


async def test_refs_create_match_delete(gh: GH) -> None:
    repo = await new_repo(gh, "refs", auto_init=True)
    full = repo["full_name"]
    sha = (await gh.get(f"/repos/{full}/git/ref/heads/main"))["object"]["sha"]
    created = await gh.post(
        f"/repos/{full}/git/refs", data={"ref": "refs/heads/feature", "sha": sha}
    )
    assert created == {**created, "ref": "refs/heads/feature"}
    with pytest.raises(InvalidField, match="Reference already exists"):
        await gh.post(f"/repos/{full}/git/refs", data={"ref": "refs/heads/feature", "sha": sha})
    with pytest.raises(InvalidField):
        await gh.post(f"/repos/{full}/git/refs", data={"ref": "heads/x", "sha": sha})
    matching = await gh.get(f"/repos/{full}/git/matching-refs/heads/fea")
    assert [r["ref"] for r in matching] == ["refs/heads/feature"]
    assert await gh.get(f"/repos/{full}/git/matching-refs/tags") == []
    await gh.delete(f"/repos/{full}/git/refs/heads/feature")
    with pytest.raises(BadRequest) as info:
        await gh.get(f"/repos/{full}/git/ref/heads/feature")
    assert info.value.status_code == 404
    with pytest.raises(InvalidField, match="Reference does not exist"):
        await gh.delete(f"/repos/{full}/git/refs/heads/feature")


async def test_commit_listing_and_single_commit_files(gh: GH) -> None:
    repo = await new_repo(gh, "history", auto_init=True)
    full = repo["full_name"]
    one = await commit_files(gh, full, {"a.txt": b"1\n"}, "first")
    two = await commit_files(gh, full, {"a.txt": b"1\n2\n", "b.txt": b"b\n"}, "second")
    listing = await gh.get(f"/repos/{full}/commits")
    assert [c["sha"] for c in listing][:2] == [two, one]
    assert listing[0]["commit"]["message"] == "second"
    only_b = await gh.get(f"/repos/{full}/commits?path=b.txt")
    assert [c["sha"] for c in only_b] == [two]
    single = await gh.get(f"/repos/{full}/commits/{two}")
    files = {f["filename"]: f for f in single["files"]}
    assert files["a.txt"]["status"] == "modified" and files["a.txt"]["additions"] == 1
    assert files["b.txt"]["status"] == "added"
    with pytest.raises(InvalidField, match="No commit found"):
        await gh.get(f"/repos/{full}/commits/nope")


async def test_private_clone_needs_a_token_and_push_is_refused(gh: GH, tmp_path: Path) -> None:
    repo = await new_repo(gh, "secret", auto_init=True, private=True)
    with pytest.raises(AssertionError):
        await git("clone", "--quiet", repo["clone_url"], str(tmp_path / "anonymous"))
    authed = repo["clone_url"].replace("http://", "http://x-access-token:forge-dev-token@")
    clone = tmp_path / "authed"
    await git("clone", "--quiet", authed, str(clone))
    assert (clone / "README.md").read_text() == "# secret\n"
    await git(
        "-c",
        "user.name=a",
        "-c",
        "user.email=a@b",
        "commit",
        "--allow-empty",
        "-qm",
        "x",
        cwd=clone,
    )
    with pytest.raises(AssertionError, match="read-only"):
        await git("push", "--quiet", "origin", "main", cwd=clone)
