"""The repository stands alone: no file reaches outside it, and its docs link only its own files."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Built from parts so that this file does not match itself.
OUTSIDE = (
    re.compile(re.escape(".." + "/shared")),
    re.compile(re.escape("/" + "work/")),
    # A Python path with a "shared" segment: how the tests once reached beside the repository.
    re.compile(r"""/\s*["']""" + "shared" + r"""["']"""),
)
MARKDOWN_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\".*\")?\s*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, data: …


def repo_files() -> list[str]:
    """Tracked files plus new ones not ignored: what a commit would carry."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout ({exc})")
    return sorted(p for p in out.decode().split("\0") if p and (ROOT / p).is_file())


def text_of(path: str) -> str | None:
    data = (ROOT / path).read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_no_file_reaches_outside_the_repository() -> None:
    hits = []
    for path in repo_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if any(p.search(line) for p in OUTSIDE):
                hits.append(f"{path}:{number}: {line.strip()[:120]}")
    assert not hits, "files that reach outside the repository:\n" + "\n".join(hits)


def doc_files() -> list[str]:
    """README.md, everything under docs/, and every other README in the tree."""
    return [
        p
        for p in repo_files()
        if p.endswith(".md") and (p.startswith("docs/") or p.rsplit("/", 1)[-1] == "README.md")
    ]


def links_in(text: str) -> list[str]:
    prose = FENCE.sub("", text)  # code blocks show commands and URLs, not links
    prose = re.sub(r"`[^`\n]*`", "", prose)
    return MARKDOWN_LINK.findall(prose) + REFERENCE_LINK.findall(prose)


def anchors_of(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    out = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            out.add(text.replace(" ", "-"))
    return out


def test_doc_links_point_to_files_in_the_repository() -> None:
    files = set(repo_files())
    dirs = {str(Path(p).parent) for p in files} | {
        str(parent) for p in files for parent in Path(p).parents
    }
    problems = []
    docs = doc_files()
    assert "README.md" in docs and "docs/design.md" in docs and "docs/protocol.md" in docs
    for doc in docs:
        for target in links_in((ROOT / doc).read_text(encoding="utf-8")):
            if EXTERNAL.match(target):
                continue
            raw, _, anchor = target.partition("#")
            resolved = (ROOT / doc).parent / raw if raw else ROOT / doc
            try:
                rel = resolved.resolve().relative_to(ROOT)
            except ValueError:
                problems.append(f"{doc}: {target} points outside the repository")
                continue
            name = rel.as_posix()
            if name not in files and name not in dirs:
                problems.append(f"{doc}: {target} is not a file of the repository")
            elif anchor and name.endswith(".md") and anchor not in anchors_of(ROOT / name):
                problems.append(f"{doc}: {target} names no heading of {name}")
    assert not problems, "\n".join(problems)


def test_readme_points_to_the_design_and_the_protocol() -> None:
    line = next(
        ln
        for ln in (ROOT / "README.md").read_text().splitlines()
        if ln.startswith("The design in full")
    )
    assert links_in(line) == ["docs/design.md", "docs/protocol.md"]


def test_the_tests_run_in_a_copy_with_nothing_beside_it(tmp_path: Path) -> None:
    """The suites that read real task requests pass in a copy whose parent holds nothing else."""
    copy = tmp_path / "pagesmith"
    for path in repo_files():
        (copy / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, copy / path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pagesmith"]
    suites = [
        "tests/contracts/test_request.py",
        "tests/generator/test_prompts.py",
        "tests/generator/test_units.py",
        "tests/generator/test_tools.py",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", *suites],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-2000:]
