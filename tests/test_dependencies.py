"""Each workspace member declares what it imports, and imports what it declares.

CI installs each package on its own (`uv sync --package`), so an import satisfied only by a
sibling's dependency breaks there; a declared but unused dependency only costs install time.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = sorted(
    p.parent
    for pattern in ("libs", "services", "dev")
    for p in ROOT.glob(f"{pattern}/*/pyproject.toml")
)
# Declared but never imported by name, each with the reason. Empty today; keep reasons here.
UNIMPORTED_ON_PURPOSE: dict[str, dict[str, str]] = {}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def project(member: Path) -> dict[str, Any]:
    return tomllib.loads((member / "pyproject.toml").read_text())


def module_name(member: Path) -> str:
    return str(project(member)["tool"]["uv"]["build-backend"]["module-name"])


def declared(member: Path) -> set[str]:
    deps = project(member)["project"].get("dependencies", [])
    return {norm(re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0]) for d in deps}


def imported_modules(member: Path) -> set[str]:
    """Every absolute import in the member's package, down to the imported name."""
    found: set[str] = set()
    for path in (member / module_name(member)).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from a import b` may import the submodule a.b: resolve the longest one.
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@cache
def workspace_modules() -> dict[str, str]:
    return {module_name(m): norm(str(project(m)["project"]["name"])) for m in MEMBERS}


@cache
def top_level_owners() -> dict[str, list[str]]:
    return dict(md.packages_distributions())


@cache
def files_of(dist: str) -> frozenset[str]:
    return frozenset(str(f) for f in md.distribution(dist).files or ())


def distribution_of(module: str) -> str | None:
    """The installed distribution that provides `module`, None for the standard library."""
    parts = module.split(".")
    top = parts[0]
    if top in sys.stdlib_module_names:
        return None
    if top in workspace_modules():
        return workspace_modules()[top]
    candidates = top_level_owners().get(top, [])
    assert candidates, f"{module!r} comes from no installed distribution"
    if len(candidates) == 1:
        return norm(candidates[0])
    # A namespace package (opentelemetry): the distribution that holds the deepest part.
    for depth in range(len(parts), 0, -1):
        base = "/".join(parts[:depth])
        owners = {
            norm(d) for d in candidates if {f"{base}/__init__.py", f"{base}.py"} & files_of(d)
        }
        if len(owners) == 1:
            return owners.pop()
    raise AssertionError(f"cannot tell which of {candidates} provides {module!r}")


def needed(member: Path) -> dict[str, set[str]]:
    """Distribution → the modules that need it, for every third-party import."""
    own = module_name(member)
    result: dict[str, set[str]] = {}
    for module in imported_modules(member):
        if module.split(".")[0] == own:
            continue
        dist = distribution_of(module)
        if dist is not None:
            result.setdefault(dist, set()).add(module)
    return result


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: str(m.relative_to(ROOT)))
def test_every_import_is_declared(member: Path) -> None:
    missing = {d: sorted(m) for d, m in needed(member).items() if d not in declared(member)}
    assert not missing, f"{member.name} imports without declaring: {missing}"


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: str(m.relative_to(ROOT)))
def test_every_declared_dependency_is_imported(member: Path) -> None:
    justified = UNIMPORTED_ON_PURPOSE.get(member.name, {})
    unused = declared(member) - set(needed(member)) - set(justified)
    assert not unused, f"{member.name} declares but never imports: {sorted(unused)}"


def test_the_scan_sees_what_it_should() -> None:
    # Guards the scanner itself: a namespace import resolves, the stdlib and the package skip.
    runtime = ROOT / "libs" / "runtime"
    found = needed(runtime)
    assert "opentelemetry.sdk.trace.TracerProvider" in found["opentelemetry-sdk"]
    assert "opentelemetry-api" in found and "aio-pika" in found
    assert not any(d.startswith("pagesmith-runtime") for d in found)
    assert distribution_of("asyncio.tasks") is None
    assert distribution_of("yaml.safe_load") == "pyyaml"
