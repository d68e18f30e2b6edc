"""Assemble the site: model files, attachments byte-exact, LICENSE, .nojekyll, README fallback."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import structlog
from pagesmith_contracts import Attachment, SiteFile

from .paths import InvalidPath, check_path

log = structlog.get_logger(__name__)

MIT_LICENSE = """MIT License

Copyright (c) {year} {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
CODE_OWNED = ("LICENSE", ".nojekyll")
_AS_IS = re.compile(
    r"as[- ]is|unchanged|verbatim|byte[- ]for[- ]byte|byte[- ]exact|exact copy", re.I
)


def license_file(year: int, holder: str) -> SiteFile:
    holder = " ".join(holder.split()) or "Pagesmith contributors"
    return SiteFile(path="LICENSE", content=MIT_LICENSE.format(year=year, holder=holder).encode())


def nojekyll_file() -> SiteFile:
    return SiteFile(path=".nojekyll", content=b"")


def attachment_file(attachment: Attachment) -> SiteFile:
    return SiteFile(path=attachment.name, content=attachment.data)


def is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def may_edit_attachment(attachment: Attachment, brief: str) -> bool:
    """Only a text attachment that no line of the brief calls "as-is" may be replaced."""
    if not is_text(attachment.data):
        return False
    for line in brief.splitlines():
        if attachment.name.lower() in line.lower() and _AS_IS.search(line):
            return False
    return True


@dataclass(frozen=True, slots=True)
class Assembled:
    files: tuple[SiteFile, ...]
    dropped: tuple[tuple[str, str], ...]  # (path, reason)


def assemble(
    *,
    model_files: Iterable[tuple[str, str]],
    code_files: Mapping[str, bytes],
    attachments: Iterable[Attachment],
    brief: str,
    edited_attachments: Iterable[str] = (),
    forbidden: Iterable[str] = (),
    license: SiteFile | None,
    readme_fallback: str | None,
) -> Assembled:
    """Model files first, then attachments byte-exact, files written by tools, then LICENSE.

    Later sources replace earlier ones at the same path, so no model text ever stands in
    for an attachment's bytes (unless the brief asks for that attachment to be changed).
    """
    out: dict[str, SiteFile] = {}
    dropped: list[tuple[str, str]] = []
    forbidden_set = {f.lower() for f in forbidden}
    for raw_path, content in model_files:
        try:
            path = check_path(raw_path)
        except InvalidPath as exc:
            dropped.append((raw_path, str(exc)))
            continue
        if path in CODE_OWNED:
            continue
        if path.lower() in forbidden_set:
            dropped.append((path, "the brief says not to commit it"))
            continue
        out[path] = SiteFile(path=path, content=content.encode("utf-8"))
    editable = set(edited_attachments)
    for attachment in attachments:
        if attachment.name in editable and attachment.name in out:
            if may_edit_attachment(attachment, brief):
                continue
            log.warning("model edit of an as-is attachment ignored", path=attachment.name)
        out[attachment.name] = attachment_file(attachment)
    for path, data in code_files.items():
        out[path] = SiteFile(path=path, content=data)
    if license is not None:
        out["LICENSE"] = license
        out[".nojekyll"] = nojekyll_file()
    if readme_fallback is not None and "README.md" not in out:
        out["README.md"] = SiteFile(path="README.md", content=readme_fallback.encode())
    for path, reason in dropped:
        log.warning("model file dropped", path=path[:300], reason=reason)
    return Assembled(files=tuple(out.values()), dropped=tuple(dropped))


def clean_line(text: str, limit: int) -> str:
    """One line of plain text: no control characters, collapsed spaces, at most `limit` chars."""
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:-") + "…"
    return text


def clean_description(text: str, fallback: str) -> str:
    return clean_line(text, 200) or clean_line(fallback, 200)


def clean_commit_message(text: str, fallback: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return clean_line(first, 72) or fallback


def readme_fallback(task: str, description: str, brief: str, paths: Iterable[str]) -> str:
    """A README written by code when the model gave none: what, how, files, licence."""
    files = "\n".join(f"- `{p}`" for p in sorted(paths) if p not in (".nojekyll",))
    quoted = "\n".join(f"> {line}" if line else ">" for line in brief.strip().splitlines())
    return (
        f"# {task}\n\n{description}\n\n## What it does\n\nThis site was built for this brief:\n\n"
        f"{quoted}\n\n## Setup\n\nNo build step: it is a static site. Serve the folder with any "
        "static web server (for example `python -m http.server`) or open it on GitHub Pages.\n\n"
        f"## Usage\n\nOpen `index.html` in a browser.\n\n## Files\n\n{files}\n\n"
        "## License\n\nMIT: see [LICENSE](LICENSE).\n"
    )
