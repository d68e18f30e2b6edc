"""The conversation sent to the model: system rules, then the task as delimited, untrusted data."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pagesmith_contracts import Attachment, Check, RepoCheckedOutV1, SiteFile, TaskSubmittedV1

from . import prompts
from .brief import UNBOUNDED, BriefFacts
from .checks import is_js
from .ports import Message, ToolSpec
from .site import CODE_OWNED, is_text
from .tabular import TableError, Workbooks, is_csv, is_spreadsheet, rows_to_csv
from .workflow import workflow_template

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGES = 4
SAMPLE_ROWS = 15


@dataclass(frozen=True, slots=True)
class PromptLimits:
    attachment_chars: int = 6000
    repo_chars: int = 60000
    send_images: bool = True


def fence(text: str, tag: str) -> str:
    """Keep untrusted text inside its tag: a closing tag in the text cannot end the block."""
    return re.sub(rf"</\s*{tag}", f"<\\/{tag}", text, flags=re.IGNORECASE)


def format_checks(checks: Sequence[Check]) -> str:
    if not checks:
        return "(none listed: the brief is the specification)"
    lines = []
    for i, check in enumerate(checks, 1):
        text = fence(check.text, "checks")
        if is_js(check):
            lines.append(
                f"{i}. JavaScript, evaluated in the browser on index.html after it loads; "
                f"must be truthy:\n   `{text}`"
            )
        else:
            lines.append(f"{i}. English: {text}")
    return "<checks>\n" + "\n".join(lines) + "\n</checks>"


def _truncate(text: str, limit: int, tools: bool) -> str:
    if len(text) <= limit:
        return text
    more = f"… [truncated: {len(text) - limit} more characters"
    more += "; call read_attachment for the whole file]" if tools else "]"
    return text[:limit] + more


def _describe_attachment(
    a: Attachment, limits: PromptLimits, tools: bool, workbooks: Workbooks
) -> str:
    head = (
        f"### {a.name} ({a.media_type}, {len(a.data)} bytes)\n\n"
        f"Committed by code at `{a.name}`, byte for byte."
    )
    if is_spreadsheet(a.name, a.media_type):
        try:
            sheets = workbooks.sheets(a.name)
        except TableError as exc:
            return f"{head} A spreadsheet code could not read ({exc})."
        parts = [
            head,
            "A spreadsheet. Never retype its data"
            + (": call convert_table to write it as CSV or JSON." if tools else "."),
        ]
        for name, rows in sheets.items():
            width = max((len(r) for r in rows), default=0)
            sample = rows_to_csv(rows[: SAMPLE_ROWS + 1]).decode()
            parts.append(
                f'Sheet "{name}": {len(rows)} rows (header included) x {width} columns. '
                f'First rows as CSV:\n<attachment name="{a.name}" sheet="{name}">\n'
                + fence(_truncate(sample, limits.attachment_chars, tools), "attachment")
                + "\n</attachment>"
            )
        return "\n\n".join(parts)
    if not is_text(a.data):
        if a.media_type in IMAGE_TYPES and limits.send_images and len(a.data) <= MAX_IMAGE_BYTES:
            return f"{head} An image: it is attached to this message so you can see it."
        return f"{head} Binary content, not shown."
    text = a.data.decode("utf-8")
    note = ""
    if is_csv(a.name, a.media_type):
        lines = text.splitlines()
        note = f" CSV with {len(lines)} lines (header included)."
        if len(lines) > SAMPLE_ROWS + 1:
            text = (
                "\n".join(lines[: SAMPLE_ROWS + 1])
                + f"\n… [{len(lines) - SAMPLE_ROWS - 1} more rows]"
            )
    body = fence(_truncate(text, limits.attachment_chars, tools), "attachment")
    return f'{head}{note}\n\n<attachment name="{a.name}">\n{body}\n</attachment>'


def format_attachments(
    attachments: Sequence[Attachment], limits: PromptLimits, tools: bool, workbooks: Workbooks
) -> str:
    if not attachments:
        return "(none)"
    return "\n\n".join(_describe_attachment(a, limits, tools, workbooks) for a in attachments)


def image_parts(attachments: Sequence[Attachment], limits: PromptLimits) -> list[dict[str, Any]]:
    if not limits.send_images:
        return []
    images = [
        a for a in attachments if a.media_type in IMAGE_TYPES and len(a.data) <= MAX_IMAGE_BYTES
    ][:MAX_IMAGES]
    return [
        {
            "type": "image_url",
            "image_url": {
                "url": f"data:{a.media_type};base64,{base64.b64encode(a.data).decode()}",
                "detail": "low",
            },
        }
        for a in images
    ]


def format_required(facts: BriefFacts, attachments: Sequence[Attachment]) -> str:
    names = {a.name for a in attachments}
    lines = ["- `index.html`", "- `README.md`"]
    for path in facts.named_files:
        if path in ("index.html", "README.md") or path in CODE_OWNED:
            continue
        if path in names:
            lines.append(
                f"- `{path}`: an attachment, committed by code (edit it only if the brief asks)"
            )
        else:
            lines.append(f"- `{path}`")
    lines.append("- `LICENSE` and `.nojekyll`: written by code; do not write them")
    for path in facts.forbidden_files:
        lines.append(f"- never commit `{path}` (the brief forbids it)")
    return "\n".join(lines)


def format_constraints(facts: BriefFacts) -> str:
    lines = []
    for limit in facts.word_limits:
        if limit.low == limit.high:
            rule = f"exactly {limit.low} words"
        elif limit.high >= UNBOUNDED:
            rule = f"at least {limit.low} words"
        else:
            rule = f"between {limit.low} and {limit.high} words (aim for the middle)"
        lines.append(f"- `{limit.path}`: {rule}, counting every word in the file.")
    for path, keys in facts.json_types.items():
        rules = []
        for key, kind in keys:
            if kind.startswith("="):
                rules.append(f"`{key}` = `{kind[1:]}`")
            else:
                rules.append(f"`{key}`: {kind}")
        lines.append(f"- `{path}`: " + ", ".join(rules) + ".")
    if not lines:
        return ""
    return "## Constraints code will verify\n\n" + "\n".join(lines) + "\n\n"


def format_tools(tools: Sequence[ToolSpec]) -> str:
    if not tools:
        return ""
    lines = [f"- `{t.name}`: {t.description}" for t in tools]
    return (
        "## Tools\n\nYou may call these functions before you answer. Files they write are "
        "committed exactly as written; do not repeat them in `files`.\n\n"
        + "\n".join(lines)
        + "\n\n"
    )


def _workflow_section(facts: BriefFacts) -> str:
    return (
        prompts.render("workflow", workflow=workflow_template()) + "\n\n"
        if facts.wants_workflow
        else ""
    )


def _user(text: str, images: list[dict[str, Any]]) -> Message:
    if not images:
        return {"role": "user", "content": text}
    return {"role": "user", "content": [{"type": "text", "text": text}, *images]}


def system_message() -> Message:
    return {"role": "system", "content": prompts.render("system")}


def round1_messages(
    event: TaskSubmittedV1,
    facts: BriefFacts,
    limits: PromptLimits,
    tools: Sequence[ToolSpec],
    workbooks: Workbooks,
) -> list[Message]:
    text = prompts.render(
        "round1",
        task=event.task.task,
        today=event.task.received_at.date().isoformat(),
        brief=fence(event.brief.strip("\n"), "brief"),
        checks=format_checks(event.checks),
        attachments=format_attachments(event.attachments, limits, bool(tools), workbooks),
        required_files=format_required(facts, event.attachments),
        constraints=format_constraints(facts) + _workflow_section(facts),
        tools=format_tools(tools),
    )
    return [system_message(), _user(text, image_parts(event.attachments, limits))]


def format_current_files(files: Sequence[SiteFile], limits: PromptLimits, tools: bool) -> str:
    order = {"README.md": 0, "index.html": 1}
    shown: list[str] = []
    listed: list[str] = []
    budget = limits.repo_chars
    for f in sorted(files, key=lambda f: (order.get(f.path, 2), f.path)):
        if f.path in CODE_OWNED:
            listed.append(f"- `{f.path}` (written by code)")
        elif not is_text(f.content):
            listed.append(f"- `{f.path}` (binary, {len(f.content)} bytes)")
        elif len(f.content) > budget:
            hint = "; call read_repo_file to read it" if tools else ""
            listed.append(f"- `{f.path}` ({len(f.content)} bytes, not shown{hint})")
        else:
            budget -= len(f.content)
            body = fence(f.content.decode("utf-8"), "file")
            shown.append(f'<file path="{f.path}">\n{body}\n</file>')
    parts = ["\n\n".join(shown)] if shown else []
    if listed:
        parts.append("Also in the repository:\n" + "\n".join(listed))
    return "\n\n".join(parts) or "(the repository is empty)"


def round2_messages(
    event: RepoCheckedOutV1,
    facts: BriefFacts,
    limits: PromptLimits,
    tools: Sequence[ToolSpec],
    workbooks: Workbooks,
) -> list[Message]:
    text = prompts.render(
        "round2",
        task=event.task.task,
        today=event.task.received_at.date().isoformat(),
        brief=fence(event.brief.strip("\n"), "brief"),
        checks=format_checks(event.checks),
        attachments=format_attachments(event.attachments, limits, bool(tools), workbooks),
        current_files=format_current_files(event.files, limits, bool(tools)),
        required_files=format_required(facts, event.attachments),
        constraints=format_constraints(facts) + _workflow_section(facts),
        tools=format_tools(tools),
    )
    return [system_message(), _user(text, image_parts(event.attachments, limits))]


def repair_message(problems: Sequence[str]) -> Message:
    listed = "\n".join(f"{i}. {p}" for i, p in enumerate(problems, 1))
    return {"role": "user", "content": prompts.render("repair", problems=listed)}
