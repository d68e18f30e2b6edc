"""The tree stays ruff-clean and mypy-clean (strict on the libs), as the issues require."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "argv",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy", "libs", "services", "dev", "cli"),
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(argv: tuple[str, ...]) -> None:
    result = run(str(BIN / argv[0]), *argv[1:])
    assert result.returncode == 0, result.stdout + result.stderr
