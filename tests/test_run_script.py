"""`make run`'s script: every listener on loopback unless told otherwise, no test-only switches."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(tmp_path: Path, **env: str) -> dict[str, str]:
    """Run scripts/run.sh with a stand-in for uv that records the environment it was given."""
    capture = tmp_path / "env.txt"
    fake_uv = tmp_path / "uv"
    fake_uv.write_text('#!/bin/sh\nenv > "$CAPTURE"\necho "$@" > "$CAPTURE.args"\n')
    fake_uv.chmod(0o755)
    base = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env={**base, "UV": str(fake_uv), "CAPTURE": str(capture), "GATEWAY_SECRET": "s", **env},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return dict(line.split("=", 1) for line in capture.read_text().splitlines() if "=" in line)


def test_make_run_binds_loopback_and_never_opens_private_fetches(tmp_path: Path) -> None:
    env = run_script(tmp_path, GENERATOR_ALLOW_PRIVATE_FETCH="1")
    for name in ("GATEWAY_HOST", "PAGESMITH_OPS_HOST", "FORGE_HOST", "LLM_STUB_HOST"):
        assert env[name] == "127.0.0.1", name
    assert "GENERATOR_ALLOW_PRIVATE_FETCH" not in env
    assert env["PAGESMITH_ALLOW_PRIVATE_EGRESS"] == "1"  # loopback callbacks to the listener


def test_make_run_keeps_hosts_the_operator_chose(tmp_path: Path) -> None:
    env = run_script(tmp_path, GATEWAY_HOST="0.0.0.0", PAGESMITH_OPS_HOST="::")
    assert (env["GATEWAY_HOST"], env["PAGESMITH_OPS_HOST"]) == ("0.0.0.0", "::")


def test_make_run_starts_the_tracker_with_a_token_kept_once(tmp_path: Path) -> None:
    first = run_script(tmp_path)
    args = (tmp_path / "env.txt.args").read_text().split()
    assert "tracker" in args and args[-1] == "listener"
    token = (ROOT / ".pagesmith" / "tracker-token").read_text().strip()
    assert first["TRACKER_TOKEN"] == token and len(token) >= 16
    assert run_script(tmp_path)["TRACKER_TOKEN"] == token
    assert first["TRACKER_HOST"] == "127.0.0.1" and first["TRACKER_PORT"] == "9104"
    # The gateway's 200 then names the tracker, and the CLI's default address is the same.
    assert first["GATEWAY_STATUS_URL"] == "http://127.0.0.1:9104"


def test_make_run_keeps_a_tracker_token_and_address_the_operator_chose(tmp_path: Path) -> None:
    env = run_script(tmp_path, TRACKER_TOKEN="operator-token-0123456789", TRACKER_HOST="0.0.0.0")
    assert env["TRACKER_TOKEN"] == "operator-token-0123456789"
    assert env["GATEWAY_STATUS_URL"] == "http://127.0.0.1:9104"
