"""Round 1 end to end: four services, the forge and the stub as real processes, one real broker."""

from __future__ import annotations

import base64
import subprocess
import time

import pytest

from tests.support.stack import Stack, draft, http_get

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CSV = b"product,region,sales\nWidget,North,120.50\nGadget,South,80.25\nGizmo,West,200.00\n"
INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sales Summary</title>
<script>
fetch("data.csv").then(r => r.text()).then(text => {
  const rows = text.trim().split("\\n").slice(1).map(l => l.split(","));
  const total = rows.reduce((acc, r) => acc + parseFloat(r[2]), 0);
  document.querySelector("#total-sales").textContent = total.toFixed(2);
});
</script></head>
<body><h1>Sales Summary</h1><p>Total: <span id="total-sales">400.75</span></p></body></html>
"""
README = "# Sales Summary\n\n## Summary\nSums data.csv.\n\n## License\nMIT\n"


async def test_round1_task_is_published_and_called_back(stack: Stack) -> None:
    stack.script([draft({"index.html": INDEX, "README.md": README})])
    body = stack.task_body(
        attachments=[
            {"name": "data.csv", "url": "data:text/csv;base64," + base64.b64encode(CSV).decode()}
        ]
    )
    started = time.monotonic()
    status, answer = stack.post_task(body)
    assert status == 200, answer
    assert answer["status"] == "accepted"

    (callback,) = await stack.receiver.wait_for(1, timeout=120)
    elapsed = time.monotonic() - started
    print(f"POST-to-callback: {elapsed:.2f}s")

    # The seven fields, the request's values echoed unchanged, round an integer.
    assert set(callback) - {"_status"} == {
        "email",
        "task",
        "round",
        "nonce",
        "repo_url",
        "commit_sha",
        "pages_url",
    }
    assert callback["email"] == body["email"]
    assert callback["task"] == body["task"]
    assert callback["round"] == 1 and isinstance(callback["round"], int)
    assert callback["nonce"] == body["nonce"]
    assert stack.receiver.content_types[0].startswith("application/json")

    # commit_sha is the head of main on the forge, and the repo is the one reported.
    owner_repo = callback["repo_url"].rstrip("/").split("/")[-2:]
    repo = stack.github(f"/repos/{owner_repo[0]}/{owner_repo[1]}")
    assert repo["html_url"] == callback["repo_url"]
    assert repo["private"] is False
    head = stack.github(f"/repos/{repo['full_name']}/git/ref/heads/main")
    assert head["object"]["sha"] == callback["commit_sha"]
    assert len(callback["commit_sha"]) == 40

    # pages_url is the Pages API's html_url, and it serves the app.
    pages = stack.github(f"/repos/{repo['full_name']}/pages")
    assert pages["html_url"] == callback["pages_url"]
    status, page = http_get(callback["pages_url"])
    assert status == 200
    assert b'id="total-sales"' in page
    status, served_csv = http_get(callback["pages_url"] + "data.csv")
    assert (status, served_csv) == (200, CSV)

    # That exact commit holds LICENSE (MIT), README.md, index.html and the attachment byte-exact.
    clone = stack.tmp / "clone"
    subprocess.run(["git", "clone", "-q", repo["clone_url"], str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", callback["commit_sha"]], check=True)
    assert "Permission is hereby granted" in (clone / "LICENSE").read_text()
    assert "MIT License" in (clone / "LICENSE").read_text()
    assert (clone / "README.md").read_text().startswith("# Sales Summary")
    assert (clone / "index.html").read_text() == INDEX
    assert (clone / "data.csv").read_bytes() == CSV
    assert (clone / ".nojekyll").exists()
    log = subprocess.run(
        ["git", "-C", str(clone), "log", "--format=%B", "-1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Pagesmith-Task:" in log

    # The model was asked once, with the brief and the check in its prompt, and no secrets.
    (request,) = [r for r in stack.stub_requests() if r["path"].endswith("/chat/completions")][:1]
    prompt = str(request["body"]["messages"])
    assert "#total-sales" in prompt
    assert "e2e-gateway-secret" not in prompt and "forge-e2e-token" not in prompt


async def test_refused_requests_publish_nothing(stack: Stack) -> None:
    assert stack.post_task(stack.task_body(secret="wrong"))[0] == 403
    assert stack.post_task(stack.task_body(round=7))[0] == 400
    big = base64.b64encode(b"x" * (9 * 1024 * 1024)).decode()
    status, _ = stack.post_task(
        stack.task_body(attachments=[{"name": "big.txt", "url": f"data:text/plain;base64,{big}"}])
    )
    assert status == 413
    time.sleep(1.0)
    assert stack.stub_requests() == []
    assert stack.github("/user/repos") == []
    assert stack.receiver.received == []
