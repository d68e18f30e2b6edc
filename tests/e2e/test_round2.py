"""Round 2 end to end: the same repository, one commit on top of round 1, Pages redeployed."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import (
    SERVICES,
    assert_scripted,
    call_table,
    clear_forge_log,
    commits_on_main,
    my_repos,
    owner_repo,
    script,
    templated,
    tiny_png,
)
from tests.support.stack import FORGE_TOKEN, Stack, draft, http_get, http_json

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PNG = tiny_png()
CSV = b"product,region,sales\nWidget,North,120.50\nGadget,South,80.25\n"
BRIEF1 = "Show the total of the sales column of data.csv inside #total-sales, with logo.png."
BRIEF2 = "Add a #region-filter select that narrows the total to one region; keep #total-sales."
INDEX1 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sales Summary</title>
<link rel="stylesheet" href="style.css"></head>
<body><img src="logo.png" alt="logo"><h1>Round one sales</h1>
<p>Total: <span id="total-sales">200.75</span></p></body></html>
"""
INDEX2 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sales Summary</title>
<link rel="stylesheet" href="style.css"></head>
<body><img src="logo.png" alt="logo"><h1>Round two sales by region</h1>
<select id="region-filter"><option>All</option><option>North</option></select>
<p>Total: <span id="total-sales">200.75</span></p></body></html>
"""
CSS = "body { font-family: sans-serif; }\n"
README1 = "# Sales Summary\n\n## Summary\nSums data.csv.\n\n## License\nMIT\n"
README2 = README1 + "\n## Round 2\nAdds a region filter (#region-filter).\n"
NOTES = "Round-1 notes, deleted in round 2.\n"


def attachments1() -> list[dict[str, str]]:
    return [
        {"name": "data.csv", "url": "data:text/csv;base64," + base64.b64encode(CSV).decode()},
        {"name": "logo.png", "url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
    ]


def clone_at(stack: Stack, full_name: str, sha: str, where: str) -> Path:
    repo = stack.github(f"/repos/{full_name}")
    path = stack.tmp / where
    subprocess.run(["git", "clone", "-q", repo["clone_url"], str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", sha], check=True)
    return path


def round2_body(stack: Stack, **overrides: Any) -> dict[str, Any]:
    return stack.task_body(
        round=2,
        nonce="019a2530-e570-7496-8bf5-46d73aa1848c",
        brief=BRIEF2,
        checks=[{"js": "!!document.querySelector('#region-filter')"}],
        attachments=[],
        **overrides,
    )


async def test_round2_after_restart_commits_on_round1(stack: Stack) -> None:
    # --- round 1
    script(
        stack,
        [draft({"index.html": INDEX1, "README.md": README1, "style.css": CSS, "notes.txt": NOTES})],
        match="#total-sales, with logo.png",
    )
    body1 = stack.task_body(brief=BRIEF1, attachments=attachments1())
    clear_forge_log(stack)
    assert stack.post_task(body1)[0] == 200
    (cb1,) = await stack.receiver.wait_for(1, timeout=90)
    round1_calls = stack.forge_requests()
    full = owner_repo(cb1)
    sha1 = cb1["commit_sha"]
    assert len(my_repos(stack)) == 1
    assert b"Round one sales" in http_get(cb1["pages_url"])[1]

    # --- every service stops and starts again: nothing local survives but the forge
    for name in SERVICES:
        stack.procs[name].stop(timeout=15)
    stack.start(*SERVICES)

    # --- round 2
    script(
        stack,
        [
            draft(
                {"index.html": INDEX2, "README.md": README2, "about.html": "<p>About</p>\n"},
                message="Add a region filter",
                deleted=("notes.txt",),
            )
        ],
        match="#region-filter select",
    )
    body2 = round2_body(stack)
    clear_forge_log(stack)
    assert stack.post_task(body2)[0] == 200
    cbs = await stack.receiver.wait_for(2, timeout=90)
    round2_calls = stack.forge_requests()
    cb2 = cbs[1]

    # The callback: round 2 (an integer), the new nonce, the same repository, a new SHA.
    assert cb2["round"] == 2 and isinstance(cb2["round"], int)
    assert cb2["nonce"] == body2["nonce"] != cb1["nonce"]
    assert (cb2["email"], cb2["task"]) == (body1["email"], body1["task"])
    assert cb2["repo_url"] == cb1["repo_url"]
    assert cb2["pages_url"] == cb1["pages_url"]
    assert re.fullmatch(r"[0-9a-f]{40}", cb2["commit_sha"]) and cb2["commit_sha"] != sha1
    assert len(my_repos(stack)) == 1

    # One commit on top of round 1: parent = round-1 head; main = auto_init + round 1 + round 2.
    commit2 = stack.github(f"/repos/{full}/git/commits/{cb2['commit_sha']}")
    assert [p["sha"] for p in commit2["parents"]] == [sha1]
    assert "Pagesmith-Task:" in commit2["message"]
    commits = commits_on_main(stack, full)
    assert [c["sha"] for c in commits[:2]] == [cb2["commit_sha"], sha1]
    assert len(commits) == 3
    head = stack.github(f"/repos/{full}/git/ref/heads/main")
    assert head["object"]["sha"] == cb2["commit_sha"]

    # Pages serves the round-2 content; files the draft did not mention are untouched.
    status, page = http_get(cb2["pages_url"])
    assert status == 200 and b'id="region-filter"' in page
    assert http_get(cb2["pages_url"] + "logo.png") == (200, PNG)
    assert http_get(cb2["pages_url"] + "notes.txt")[0] == 404
    clone = clone_at(stack, full, cb2["commit_sha"], "r2")
    assert (clone / "index.html").read_text() == INDEX2
    assert (clone / "README.md").read_text() != README1
    assert "region filter" in (clone / "README.md").read_text()
    assert (clone / "style.css").read_text() == CSS
    assert (clone / "data.csv").read_bytes() == CSV
    assert (clone / "logo.png").read_bytes() == PNG
    assert (clone / "about.html").exists()
    assert not (clone / "notes.txt").exists()
    assert "is hereby granted" in (clone / "LICENSE").read_text()
    assert (clone / ".nojekyll").exists()

    # The model's round-2 request held the current files and the new brief, and no secrets.
    requests = [r for r in stack.stub_requests() if r["path"].endswith("/chat/completions")]
    round2_prompts = [str(r["body"]["messages"]) for r in requests if BRIEF2[:30] in str(r["body"])]
    assert round2_prompts, "the model never saw the round-2 brief"
    prompt = round2_prompts[0]
    assert "Round one sales" in prompt  # round-1 index.html
    assert "Sums data.csv." in prompt  # round-1 README.md
    assert "logo.png" in prompt
    assert "e2e-gateway-secret" not in prompt and "forge-e2e-token" not in prompt
    assert_scripted(stack)

    # GitHub calls, as the forge saw them (for the closing note).
    table1, total1 = call_table(round1_calls)
    table2, total2 = call_table(round2_calls)
    print(f"\nGitHub calls, round 1 ({total1}):\n{table1}")
    print(f"\nGitHub calls, round 2 after a restart ({total2}):\n{table2}")
    # No call failed, apart from probes of free names (404) and "Pages already enabled" (409).
    expected_errors = {("GET", "/repos/{o}/{r}", 404), ("POST", "/repos/{o}/{r}/pages", 409)}
    for e in round1_calls + round2_calls:
        assert e["status"] < 400 or (e["method"], templated(e["path"]), e["status"]) in (
            expected_errors
        ), e


LONG_TASK = ("Ünïcode Sales Dashboard — Größe ÄÖÜ 日本語 Ça va " * 4)[:120]
INDEX_PLAIN = (
    "<!doctype html><html><head><title>Sales</title></head>"
    '<body><h1>Sales</h1><span id="total-sales">1</span></body></html>\n'
)


async def test_unicode_task_name_gets_a_valid_repo_that_round2_finds(stack: Stack) -> None:
    assert len(LONG_TASK) == 120 and " " in LONG_TASK and not LONG_TASK.isascii()
    answer = draft({"index.html": INDEX_PLAIN, "README.md": README1})
    # A long model-written description with control characters: refused by GitHub as it is.
    answer["content"]["description"] = "Sales\x00 dash\r\nboard\t\x1b[31m " + "word " * 120
    script(stack, [answer], match="#total-sales")
    body = stack.task_body(task=LONG_TASK, brief="Show the total sales inside #total-sales.")
    assert stack.post_task(body)[0] == 200
    (cb1,) = await stack.receiver.wait_for(1, timeout=90)
    name = owner_repo(cb1).split("/")[1]
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,100}", name), name
    assert not name.startswith(".") and not name.lower().endswith(".git")
    assert "Unicode-Sales-Dashboard" in name
    assert cb1["task"] == LONG_TASK  # echoed unchanged
    description = stack.github(f"/repos/{owner_repo(cb1)}")["description"]
    assert len(description) <= 350 and description.isprintable(), description

    index2 = INDEX_PLAIN.replace("</h1>", '</h1><select id="region-filter"></select>')
    script(stack, [draft({"index.html": index2, "README.md": README2})], match="#region-filter")
    assert stack.post_task(round2_body(stack, task=LONG_TASK))[0] == 200
    cb2 = (await stack.receiver.wait_for(2, timeout=90))[1]
    assert cb2["round"] == 2 and cb2["task"] == LONG_TASK
    assert cb2["repo_url"] == cb1["repo_url"]
    commit2 = stack.github(f"/repos/{owner_repo(cb2)}/git/commits/{cb2['commit_sha']}")
    assert [p["sha"] for p in commit2["parents"]] == [cb1["commit_sha"]]
    assert len(my_repos(stack)) == 1
    assert_scripted(stack)


async def test_brief_asking_for_a_workflow_gets_it_and_pages_build_type_workflow(
    stack: Stack,
) -> None:
    from generator.workflow import workflow_template

    workflow = workflow_template()
    brief = (
        "Commit execute.py, which prints a JSON summary.\n"
        "- Add a GitHub Actions push workflow at .github/workflows/ci.yml that:\n"
        "  - Runs ruff and shows its results in the CI log\n"
        "  - Runs: python execute.py > result.json\n"
        "  - Publishes result.json via GitHub Pages\n"
        "- Do not commit result.json; it must be generated in CI.\n"
    )
    script(
        stack,
        [
            draft(
                {
                    "index.html": INDEX_PLAIN,
                    "README.md": README1,
                    "execute.py": "import json\nprint(json.dumps({'ok': True}))\n",
                    ".github/workflows/ci.yml": workflow,
                }
            )
        ],
        match="execute.py",
        repeat_last=True,
    )
    assert (
        stack.post_task(
            stack.task_body(brief=brief, checks=["execute.py and .github/workflows/ci.yml exist"])
        )[0]
        == 200
    )
    (cb,) = await stack.receiver.wait_for(1, timeout=90)
    full = owner_repo(cb)

    pages = stack.github(f"/repos/{full}/pages")
    assert pages["build_type"] == "workflow"
    assert pages["html_url"] == cb["pages_url"]
    content = stack.github(
        f"/repos/{full}/contents/.github/workflows/ci.yml?ref={cb['commit_sha']}"
    )
    assert base64.b64decode(content["content"]).decode() == workflow
    runs = stack.github(f"/repos/{full}/actions/runs?head_sha={cb['commit_sha']}")
    assert runs["workflow_runs"] and all(
        r["conclusion"] == "success" for r in runs["workflow_runs"]
    )
    assert http_get(cb["pages_url"])[0] == 200
    assert len(commits_on_main(stack, full)) == 2
    assert_scripted(stack)


def push_executables(stack: Stack, full: str, files: dict[str, str]) -> str:
    """Someone else's commit between the rounds: `files` added with mode 100755."""
    api = f"{stack.api}/repos/{full}"
    head = stack.github(f"/repos/{full}/git/ref/heads/main")["object"]["sha"]
    base_tree = stack.github(f"/repos/{full}/git/commits/{head}")["tree"]["sha"]
    entries = []
    for path, text in files.items():
        blob = http_json("POST", f"{api}/git/blobs", {"content": text}, token=FORGE_TOKEN)
        entries.append({"path": path, "mode": "100755", "type": "blob", "sha": blob["sha"]})
    tree = http_json(
        "POST", f"{api}/git/trees", {"base_tree": base_tree, "tree": entries}, token=FORGE_TOKEN
    )
    commit = http_json(
        "POST",
        f"{api}/git/commits",
        {"message": "Add build scripts", "tree": tree["sha"], "parents": [head]},
        token=FORGE_TOKEN,
    )
    http_json("PATCH", f"{api}/git/refs/heads/main", {"sha": commit["sha"]}, token=FORGE_TOKEN)
    return str(commit["sha"])


async def test_round2_edits_keep_file_modes_and_build_on_the_current_head(stack: Stack) -> None:
    script(stack, [draft({"index.html": INDEX_PLAIN, "README.md": README1})], match="#total-sales")
    body = stack.task_body(brief="Show the total sales inside #total-sales.")
    assert stack.post_task(body)[0] == 200
    (cb1,) = await stack.receiver.wait_for(1, timeout=90)
    full = owner_repo(cb1)
    pushed = push_executables(
        stack, full, {"build.sh": "#!/bin/sh\necho one\n", "keep.sh": "#!/bin/sh\necho keep\n"}
    )

    index2 = INDEX_PLAIN.replace("</h1>", '</h1><select id="region-filter"></select>')
    build2 = "#!/bin/sh\necho two\n"
    script(
        stack,
        [draft({"index.html": index2, "README.md": README2, "build.sh": build2})],
        match="#region-filter",
    )
    assert stack.post_task(round2_body(stack))[0] == 200
    cb2 = (await stack.receiver.wait_for(2, timeout=90))[1]
    commit2 = stack.github(f"/repos/{full}/git/commits/{cb2['commit_sha']}")
    assert [p["sha"] for p in commit2["parents"]] == [pushed]
    tree = stack.github(f"/repos/{full}/git/trees/{commit2['tree']['sha']}?recursive=1")
    modes = {e["path"]: e["mode"] for e in tree["tree"]}
    assert modes["build.sh"] == "100755"  # edited, and still executable
    assert modes["keep.sh"] == "100755"
    assert modes["index.html"] == "100644"
    clone = clone_at(stack, full, cb2["commit_sha"], "modes")
    assert (clone / "build.sh").read_text() == build2
    assert_scripted(stack)
