"""The quickstart request, read by running what README.md and scripts/run.sh tell people to run.

Both are shell: the README's curl command substitutes the secret and a fresh nonce, and run.sh
prints a curl command of its own. Each is run here with a `curl` that only records its
arguments, so the tests see exactly the request a newcomer would send.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
README_CURL = re.compile(r"```sh\n(curl -s http://127\.0\.0\.1:8000/api/tasks .*?)\n```", re.DOTALL)
PRINTED_CURL = re.compile(r"^(curl -s .*?^\}')$", re.MULTILINE | re.DOTALL)
FAKE_CURL = """#!/bin/sh
for arg in "$@"; do printf '%s\\0' "$arg"; done > "$CURL_ARGS"
echo '{"status": "accepted"}'
"""


@dataclass(frozen=True, slots=True)
class Request:
    url: str
    headers: tuple[str, ...]
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunSh:
    """What `make run` prints and the environment it would start honcho with."""

    printed: str
    env: dict[str, str]


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _base_env(tmp: Path) -> dict[str, str]:
    # Only what a shell needs: an operator's own GITHUB_TOKEN, ports or secret must not leak in.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp), "LC_ALL": "C.UTF-8"}


def run_curl(command: str, tmp: Path, *, cwd: Path, env: dict[str, str]) -> Request:
    """Run a curl command line in bash with a recording `curl` first on PATH."""
    bin_dir = tmp / "fake-bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    _executable(bin_dir / "curl", FAKE_CURL)
    args_file = tmp / "curl-args"
    full_env = {**env, "PATH": f"{bin_dir}:{env['PATH']}", "CURL_ARGS": str(args_file)}
    subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=full_env, check=True, timeout=60, capture_output=True
    )
    args = args_file.read_bytes().decode().split("\0")[:-1]
    urls = [a for a in args if a.startswith("http")]
    headers = tuple(args[i + 1] for i, a in enumerate(args) if a == "-H")
    (body,) = (args[i + 1] for i, a in enumerate(args) if a == "-d")
    assert len(urls) == 1, args
    return Request(urls[0], headers, json.loads(body))


def readme_command() -> str:
    (command,) = README_CURL.findall((ROOT / "README.md").read_text())
    return str(command)


def readme_request(
    tmp: Path, *, secret: str | None = None, secret_file: str | None = None
) -> Request:
    """The README's request, with GATEWAY_SECRET set, or with only `.pagesmith/gateway-secret`."""
    cwd = tmp / "checkout"
    cwd.mkdir(parents=True, exist_ok=True)
    env = _base_env(tmp)
    if secret is not None:
        env["GATEWAY_SECRET"] = secret
    if secret_file is not None:
        (cwd / ".pagesmith").mkdir(exist_ok=True)
        (cwd / ".pagesmith" / "gateway-secret").write_text(secret_file + "\n")
    return run_curl(readme_command(), tmp, cwd=cwd, env=env)


def run_sh(tmp: Path, *, secret: str) -> RunSh:
    """Run scripts/run.sh up to its last line, with the broker check and honcho stood in for."""
    root = tmp / "run-sh"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "run.sh").write_text((ROOT / "scripts" / "run.sh").read_text())
    for stand_in in ("ensure-rabbitmq.sh", "ensure-postgres.sh"):
        (root / "scripts" / stand_in).write_text("exit 0\n")
    env_file = tmp / "honcho-env"
    uv = _executable(tmp / "fake-uv", f'#!/bin/sh\nenv -0 > "{env_file}"\n')
    env = {**_base_env(tmp), "GATEWAY_SECRET": secret, "UV": str(uv)}
    result = subprocess.run(
        ["bash", str(root / "scripts" / "run.sh")],
        cwd=tmp,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    pairs = (item.split("=", 1) for item in env_file.read_bytes().decode().split("\0") if item)
    honcho_env = {k: v.replace(str(root), str(ROOT)) for k, v in pairs}
    return RunSh(result.stdout, honcho_env)


def run_sh_request(tmp: Path, *, secret: str) -> Request:
    printed = run_sh(tmp, secret=secret).printed
    (command,) = PRINTED_CURL.findall(printed)
    return run_curl(str(command), tmp, cwd=tmp, env=_base_env(tmp))
