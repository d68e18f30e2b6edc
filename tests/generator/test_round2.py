"""Round 2: the model sees the current files and returns changes only; README always updated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from generator.handlers.repo_checked_out import handle_repo_checked_out
from pagesmith_contracts import (
    Attachment,
    Check,
    RepoCheckedOutV1,
    RepoRef,
    SiteFile,
    SiteGeneratedV1,
    make_task_ref,
)

from .conftest import chat, draft

HEAD = "a" * 40
INDEX_V1 = (
    "<!doctype html><html><head><title>Sales Summary abc12</title></head><body>"
    '<script>fetch("data.csv")</script><div id="total-sales">500.00</div></body></html>'
)
CURRENT = (
    SiteFile(path="index.html", content=INDEX_V1.encode()),
    SiteFile(path="README.md", content=b"# Sales\n\nSums data.csv.\n"),
    SiteFile(
        path="LICENSE",
        content=b"MIT License\n\nCopyright (c) 2025 X\n\nPermission is hereby granted",
    ),
    SiteFile(path=".nojekyll", content=b""),
    SiteFile(path="data.csv", content=b"product,region,sales\nWidget,North,120.50\n"),
    SiteFile(path="old.js", content=b"console.log(1)\n"),
    SiteFile(path="logo.png", content=b"\x89PNG\r\n\x1a\n\x00\x00binary"),
)
BRIEF = (
    "Add a Bootstrap table #product-sales that lists each product with its total sales "
    "and keeps #total-sales accurate after render."
)


def checked_out(
    files: tuple[SiteFile, ...] = CURRENT, attachments: tuple[Attachment, ...] = ()
) -> RepoCheckedOutV1:
    task = make_task_ref(
        email="student@example.com",
        task="sum-of-sales-3f9a1",
        round=2,
        nonce="019a3000-0000-7000-8000-000000000002",
        evaluation_url="http://127.0.0.1:8787/evaluate",
        received_at=datetime.now(UTC),
    )
    return RepoCheckedOutV1(
        source="pagesmith/publisher",
        subject=task.task_id,
        task=task,
        brief=BRIEF,
        checks=(
            Check(text='document.querySelectorAll("#product-sales tbody tr").length >= 1', js=True),
        ),
        attachments=attachments,
        repo=RepoRef(
            owner="owner",
            name="sum-of-sales-3f9a1",
            html_url="https://github.com/owner/sum-of-sales-3f9a1",
        ),
        head_sha=HEAD,
        files=files,
    )


INDEX_V2 = INDEX_V1.replace(
    "</body>", '<table id="product-sales"><tbody><tr><td>1</td></tr></tbody></table></body>'
)


async def test_round2_returns_only_changes_and_appends_to_readme(
    openai_script: Any, make_deps: Any, registry: Any
) -> None:
    openai_script.add(
        chat(
            draft(
                {
                    "index.html": INDEX_V2,
                    "data.csv": "product,region,sales\nWidget,North,120.50\n",  # unchanged
                    "table.css": "table{width:100%}\n",
                },
                deleted=["old.js", "LICENSE", "missing.txt", "../x"],
                commit_message="Add product sales table",
            )
        )
    )
    event = checked_out()
    out = await handle_repo_checked_out(event, make_deps())

    site = out[0]
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert site.repo == event.repo and site.base_sha == HEAD
    files = {f.path: f.content for f in site.files}
    assert set(files) == {"index.html", "table.css", "README.md"}
    assert files["index.html"] == INDEX_V2.encode()
    readme = files["README.md"].decode()
    assert readme.startswith("# Sales\n\nSums data.csv.")
    assert "## Round 2" in readme and "#product-sales" in readme
    assert site.deleted == ("old.js",)
    assert site.commit_message == "Add product sales table"
    assert (
        registry.get_sample_value("pagesmith_generations_total", {"round": "2", "outcome": "ok"})
        == 1
    )

    prompt = openai_script.user_texts(0)
    assert '<file path="index.html">' in prompt and 'id="total-sales"' in prompt
    assert "`logo.png` (binary, 16 bytes)" in prompt
    assert "`LICENSE` (written by code)" in prompt
    assert "Keep every round-1 behaviour" in prompt


async def test_round2_uses_the_models_readme_when_given(openai_script: Any, make_deps: Any) -> None:
    openai_script.add(
        chat(draft({"index.html": INDEX_V2, "README.md": "# Sales\n\nNow with a table.\n"}))
    )
    site = (await handle_repo_checked_out(checked_out(), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1)
    files = {f.path: f.content for f in site.files}
    assert files["README.md"] == b"# Sales\n\nNow with a table.\n"
    assert site.deleted == ()


async def test_round2_adds_license_when_round1_left_none(
    openai_script: Any, make_deps: Any
) -> None:
    bare = (SiteFile(path="README.md", content=b"# sum-of-sales-3f9a1\n"),)
    openai_script.add(chat(draft({"index.html": INDEX_V2})))
    site = (await handle_repo_checked_out(checked_out(bare), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1)
    files = {f.path: f.content for f in site.files}
    assert b"is hereby granted" in files["LICENSE"] and files[".nojekyll"] == b""


async def test_round2_new_attachment_is_committed_byte_exact(
    openai_script: Any, make_deps: Any
) -> None:
    rates = Attachment(name="rates.json", media_type="application/json", data=b'{"USD": 1}')
    openai_script.add(chat(draft({"index.html": INDEX_V2, "rates.json": '{"USD": 1.0}\n'})))
    site = (await handle_repo_checked_out(checked_out(attachments=(rates,)), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1)
    files = {f.path: f.content for f in site.files}
    assert files["rates.json"] == b'{"USD": 1}'


async def test_round2_failure_keeps_the_app_and_notes_it_in_the_readme(
    openai_script: Any, make_deps: Any
) -> None:
    openai_script.add(chat(refusal="no"))
    site = (await handle_repo_checked_out(checked_out(), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and site.degraded
    assert [f.path for f in site.files] == ["README.md"]
    readme = site.files[0].content.decode()
    assert readme.startswith("# Sales") and "Round 2 (not applied)" in readme
    assert site.deleted == () and site.base_sha == HEAD


async def test_round2_unchanged_readme_still_gets_the_change(
    openai_script: Any, make_deps: Any
) -> None:
    same = CURRENT[1].content.decode()
    openai_script.add(chat(draft({"index.html": INDEX_V2, "README.md": same})))
    site = (await handle_repo_checked_out(checked_out(), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1)
    readme = {f.path: f.content for f in site.files}["README.md"].decode()
    assert readme.startswith(same.rstrip()) and "## Round 2" in readme


async def test_round2_edits_keep_each_files_git_mode(openai_script: Any, make_deps: Any) -> None:
    script = SiteFile(path="build.sh", content=b"#!/bin/sh\necho one\n", mode="100755")
    readme = SiteFile(path="README.md", content=b"# Sales\n", mode="100755")
    openai_script.add(chat(draft({"index.html": INDEX_V2, "build.sh": "#!/bin/sh\necho two\n"})))
    site = (
        await handle_repo_checked_out(checked_out((*CURRENT[2:], script, readme)), make_deps())
    )[0]
    assert isinstance(site, SiteGeneratedV1)
    modes = {f.path: f.mode for f in site.files}
    assert modes == {"index.html": "100644", "build.sh": "100755", "README.md": "100755"}


async def test_degraded_round2_keeps_the_readmes_git_mode(
    openai_script: Any, make_deps: Any
) -> None:
    readme = SiteFile(path="README.md", content=b"# Sales\n", mode="100755")
    openai_script.add(chat(refusal="no"))
    site = (await handle_repo_checked_out(checked_out((*CURRENT[2:], readme)), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and site.degraded
    assert [(f.path, f.mode) for f in site.files] == [("README.md", "100755")]
