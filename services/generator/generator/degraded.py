"""The degraded site: when generation fails for good, publish something small and honest."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from pagesmith_contracts import Attachment, Check, SiteFile

from .site import attachment_file, license_file, nojekyll_file


def degraded_round1(
    *,
    task: str,
    brief: str,
    checks: Sequence[Check],
    attachments: Iterable[Attachment],
    reason: str,
    year: int,
    holder: str,
) -> tuple[SiteFile, ...]:
    """README saying what failed, LICENSE, .nojekyll, the attachments, the brief on a page."""
    attachments = list(attachments)
    links = "".join(
        f'<li><a href="{html.escape(a.name, quote=True)}">{html.escape(a.name)}</a></li>'
        for a in attachments
    )
    checks_html = "".join(f"<li><code>{html.escape(c.text)}</code></li>" for c in checks)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(task)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}}
pre{{white-space:pre-wrap;background:#f4f4f4;padding:1rem}}
</style>
</head>
<body>
<h1>{html.escape(task)}</h1>
<p><strong>This app could not be generated.</strong> {html.escape(reason)}</p>
<h2>The brief</h2>
<pre>{html.escape(brief.strip())}</pre>
{f"<h2>Checks</h2><ul>{checks_html}</ul>" if checks_html else ""}
{f"<h2>Attachments</h2><ul>{links}</ul>" if links else ""}
</body>
</html>
"""
    names = "\n".join(
        f"- `{a.name}` ({len(a.data)} bytes, committed unchanged)" for a in attachments
    )
    readme = (
        f"# {task}\n\n"
        "**Status: degraded.** The app for this task could not be generated, so this repository "
        "holds a placeholder instead of a working app.\n\n"
        f"## What failed\n\n{reason}\n\n"
        "## What is here\n\n"
        "- `index.html`: shows the task's brief and checks.\n"
        f"{names + chr(10) if names else ''}"
        "- `LICENSE`: MIT.\n\n"
        "## Setup and usage\n\nA static page with no build step: open `index.html`, or the "
        "GitHub Pages site of this repository.\n\n"
        "## License\n\nMIT: see [LICENSE](LICENSE).\n"
    )
    files = [
        SiteFile(path="index.html", content=page.encode()),
        SiteFile(path="README.md", content=readme.encode()),
        *(attachment_file(a) for a in attachments),
        license_file(year, holder),
        nojekyll_file(),
    ]
    return tuple({f.path: f for f in files}.values())


def degraded_round2(
    *,
    current: Sequence[SiteFile],
    brief: str,
    attachments: Iterable[Attachment],
    reason: str,
    year: int,
    holder: str,
) -> tuple[SiteFile, ...]:
    """Round 2 keeps round 1's working app: only the README says the change was not made."""
    old = next((f.content for f in current if f.path == "README.md"), b"").decode(
        "utf-8", errors="replace"
    )
    quoted = "\n".join(f"> {line}" if line else ">" for line in brief.strip().splitlines())
    section = (
        "\n\n## Round 2 (not applied)\n\n"
        "The change requested in round 2 could not be generated; the app above is unchanged.\n\n"
        f"What failed: {reason}\n\nThe requested change:\n\n{quoted}\n"
    )
    files = [SiteFile(path="README.md", content=(old.rstrip() + section).encode())]
    existing = {f.path for f in current}
    files.extend(attachment_file(a) for a in attachments)
    if "LICENSE" not in existing:
        files.append(license_file(year, holder))
    if ".nojekyll" not in existing:
        files.append(nojekyll_file())
    return tuple({f.path: f for f in files}.values())
