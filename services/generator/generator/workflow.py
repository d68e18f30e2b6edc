"""The tested GitHub Actions template for CI-built Pages (protocol.md §8, "stale CI workflow")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

DEFAULT_PACKAGES = ("ruff", "pandas", "openpyxl")
DEFAULT_COMMANDS = ("python execute.py > result.json",)
DEFAULT_OUTPUTS = ("result.json",)
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-\[\],=<>!~*]*$")

TEMPLATE = """\
name: ci

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install dependencies
        run: python -m pip install {packages}
      - name: Lint with ruff
        # Findings are shown in the log; they must not stop the Pages deploy.
        continue-on-error: true
        run: ruff check .
{commands}
      - name: Collect the site
        run: |
          mkdir -p _site
          rsync -a --exclude .git --exclude .github --exclude _site ./ _site/
{copies}
          touch _site/.nojekyll
      - uses: actions/upload-pages-artifact@v3
        with:
          path: _site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""


class WorkflowError(ValueError):
    """Parameters the template will not take."""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def workflow_template(
    packages: Sequence[str] = DEFAULT_PACKAGES,
    commands: Sequence[str] = DEFAULT_COMMANDS,
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
) -> str:
    """Render the workflow; `commands` run in order, `outputs` are copied into the site."""
    packages = list(dict.fromkeys(["ruff", *packages]))
    for p in packages:
        if not _PACKAGE.match(p):
            raise WorkflowError(f"not a pip requirement: {p!r}")
    if not commands:
        raise WorkflowError("no command to run")
    for c in commands:
        if not c.strip() or "\n" in c or "\r" in c:
            raise WorkflowError(f"commands are single lines: {c!r}")
    for o in outputs:
        if not re.match(r"^[\w][\w./-]*$", o) or ".." in o:
            raise WorkflowError(f"not a relative output path: {o!r}")
    steps = "\n".join(
        f"      - name: {_quote('Run ' + c.strip())}\n        run: {_quote(c.strip())}"
        for c in commands
    )
    copies = "\n".join(
        f"          mkdir -p \"_site/$(dirname '{o}')\" && cp '{o}' '_site/{o}'" for o in outputs
    )
    return TEMPLATE.format(
        packages=" ".join(packages), commands=steps, copies=copies or "          true"
    )


def workflow_problems(text: str) -> list[str]:
    """Why a workflow would fail the grader's CI checks (empty when it looks right)."""
    try:
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"is not valid YAML ({str(exc).splitlines()[0]})"]
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        return ["has no jobs"]
    problems = []
    flat = text.replace('"', "").replace("'", "")
    if not re.search(r"actions/upload-pages-artifact@v[3-9]", flat):
        problems.append("does not upload a folder with actions/upload-pages-artifact@v3")
    if not re.search(r"actions/deploy-pages@v[4-9]", flat):
        problems.append("does not deploy with actions/deploy-pages@v4")
    if "ruff check" not in flat:
        problems.append("does not run `ruff check .`")
    if "github-pages" not in flat:
        problems.append("has no `environment: github-pages` on the deploy job")
    if not re.search(r"pages:\s*write", flat) or not re.search(r"id-token:\s*write", flat):
        problems.append("lacks `permissions: pages: write` and `id-token: write`")
    return problems
