"""The quickstart: README.md and `make run` show the same request, and make run loads its script."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.support.quickstart import ROOT, readme_request, run_sh, run_sh_request

SECRET = "quickstart-secret-7c1d"
SCRIPTS = ROOT / "dev" / "llm-stub" / "scripts" / "quickstart.json"


def test_the_readme_and_make_run_show_the_same_request(tmp_path: Path) -> None:
    readme = readme_request(tmp_path / "readme", secret=SECRET)
    printed = run_sh_request(tmp_path / "run", secret=SECRET)

    assert readme.url == printed.url == "http://127.0.0.1:8000/api/tasks"
    assert readme.headers == printed.headers == ("Content-Type: application/json",)
    nonces = {readme.body.pop("nonce"), printed.body.pop("nonce")}
    assert len(nonces) == 2 and all(uuid.UUID(n).version == 4 for n in nonces)  # fresh each time
    assert readme.body == printed.body
    assert readme.body["secret"] == SECRET
    assert readme.body["task"] == "hello-pagesmith" and readme.body["round"] == 1


def test_the_readme_request_reads_the_secret_make_run_wrote(tmp_path: Path) -> None:
    request = readme_request(tmp_path, secret_file="from-the-file")
    assert request.body["secret"] == "from-the-file"


def test_make_run_starts_the_stub_with_the_quickstart_script(tmp_path: Path) -> None:
    env = run_sh(tmp_path, secret=SECRET).env
    assert Path(env["LLM_STUB_SCRIPTS"]) == SCRIPTS
    assert SCRIPTS.is_file()
