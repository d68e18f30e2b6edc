"""Rewrite `[tool.uv] constraint-dependencies` in pyproject.toml from what uv resolved.

uv.lock names every download URL and stays out of git; these pins carry only versions.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def resolved() -> list[str]:
    out = subprocess.run(
        [
            "uv",
            "export",
            "--format",
            "requirements-txt",
            "--no-hashes",
            "--all-packages",
            "--no-emit-workspace",
            "--no-header",
            "--no-annotate",
            "--all-groups",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pins = [
        line.strip()
        for line in out.splitlines()
        if line.strip() and not line.startswith(("#", "-e", " "))
    ]
    return sorted(set(pins), key=str.lower)


def main() -> None:
    path = ROOT / "pyproject.toml"
    text = path.read_text()
    block = "constraint-dependencies = [\n" + "".join(f'    "{p}",\n' for p in resolved()) + "]"
    new, n = re.subn(r"constraint-dependencies = \[[^\]]*\]", lambda _: block, text, count=1)
    if n != 1:
        raise SystemExit("no constraint-dependencies list in pyproject.toml")
    path.write_text(new)
    print(f"pinned {block.count(chr(10)) - 1} packages")


if __name__ == "__main__":
    main()
