"""The built-in demo answer, given when no script matches: a schema-true, labelled placeholder."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from .conversation import Ask
from .instances import default_instance, types_of
from .replies import Reply
from .schema import resolve

DEMO_TEXT = "This is the llm stub's demo answer."
BRIEF_LIMIT = 2000

_BRIEF_TAG = re.compile(r"<brief>(.*?)</brief>", re.DOTALL | re.IGNORECASE)
_BRIEF_LINE = re.compile(r"^[ \t]*BRIEF:[ \t]*(.*)$", re.MULTILINE)
_HEADER_LINE = re.compile(r"^[ \t]*[A-Z][A-Z0-9 _-]*:")


def demo_reply(ask: Ask) -> Reply:
    """A schema-true JSON answer, a JSON object, or one line of text; never a tool call."""
    output = ask.output
    if output.kind == "json_schema" and output.schema is not None:
        answer = schema_answer(output.schema, find_brief(ask.user_texts()))
        return Reply(content=json.dumps(answer))
    if output.kind in ("json_object", "json_schema"):
        return Reply(content=json.dumps({"answer": DEMO_TEXT}))
    return Reply(content=DEMO_TEXT)


def find_brief(user_texts: list[str]) -> str:
    """A <brief> block or a "BRIEF:" section of the user text, else the last user message."""
    for text in reversed(user_texts):
        tagged = _BRIEF_TAG.search(text)
        if tagged and tagged.group(1).strip():
            return _truncate(tagged.group(1).strip())
        section = _brief_section(text)
        if section:
            return _truncate(section)
    return _truncate(user_texts[-1].strip() if user_texts else "")


def _brief_section(text: str) -> str:
    found = _BRIEF_LINE.search(text)
    if not found:
        return ""
    lines = [found.group(1)]
    # The section runs on until the next "HEADER:" line (ATTACHMENTS:, CHECKS:, …).
    for line in text[found.end() :].splitlines()[1:]:
        if _HEADER_LINE.match(line):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _truncate(text: str) -> str:
    return text if len(text) <= BRIEF_LIMIT else text[: BRIEF_LIMIT - 1] + "…"


def schema_answer(schema: dict[str, Any], brief: str) -> Any:
    """Type-correct defaults for the whole schema, with demo files in "files" if it has one."""
    answer = default_instance(schema, schema)
    root = resolve(schema, schema)
    properties = root.get("properties") if isinstance(root, dict) else None
    if isinstance(answer, dict) and isinstance(properties, dict) and "files" in properties:
        files = _demo_files(properties["files"], schema, brief)
        if files is not None:
            answer["files"] = files
    return answer


def _demo_files(files_schema: object, root: dict[str, Any], brief: str) -> Any:
    files = {"index.html": demo_page(brief), "README.md": demo_readme(brief)}
    node = _non_null_variant(resolve(files_schema, root), root)
    if not isinstance(node, dict):
        return None
    kinds = types_of(node)
    if "array" in kinds:
        return [_file_entry(node.get("items"), root, p, c) for p, c in files.items()]
    if "object" in kinds and not node.get("properties"):
        return files  # a path -> content mapping (only possible without strict mode)
    return None


def _non_null_variant(node: object, root: dict[str, Any]) -> object:
    variants = node.get("anyOf") if isinstance(node, dict) else None
    if not isinstance(variants, list):
        return node
    for variant in variants:
        resolved = resolve(variant, root)
        if isinstance(resolved, dict) and "null" not in types_of(resolved):
            return resolved
    return node


def _file_entry(item_schema: object, root: dict[str, Any], path: str, content: str) -> Any:
    item = resolve(item_schema, root)
    entry = default_instance(item, root)
    if not isinstance(entry, dict):
        return entry
    properties = item.get("properties") if isinstance(item, dict) else None
    for key, value in (("path", path), ("content", content)):
        # Never add a key that an `additionalProperties: false` item does not declare.
        if not properties or key in properties:
            entry[key] = value
    return entry


_ELEMENT_ID = re.compile(r"(?<![\w&/])#([A-Za-z][\w-]{0,63})")


def _named_elements(brief: str) -> str:
    """One element per `#id` the brief names, so a demo page has the ids a check looks for."""
    ids = list(dict.fromkeys(_ELEMENT_ID.findall(brief)))[:20]
    if not ids:
        return ""
    items = "".join(f'\n      <li><code>#{i}</code>: <span id="{i}">demo</span></li>' for i in ids)
    return f"\n    <h2>Elements the brief names</h2>\n    <ul>{items}\n    </ul>"


def demo_page(brief: str) -> str:
    shown = html.escape(brief) if brief else "(no brief found in the request)"
    named = _named_elements(brief)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Demo app</title>
  <style>
    body {{ font-family: system-ui, sans-serif; line-height: 1.5; color: #1f2328;
           max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }}
    .note {{ background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
            padding: 0.75rem 1rem; }}
    pre {{ white-space: pre-wrap; background: #f6f8fa; border-radius: 6px; padding: 1rem; }}
  </style>
</head>
<body>
  <main>
    <h1>Demo app</h1>
    <p class="note" id="llm-stub-note">This page came from the llm stub's demo answer:
      no script matched the request, so no model wrote it.</p>
    <h2>The brief</h2>
    <pre id="brief">{shown}</pre>{named}
  </main>
</body>
</html>
"""


def demo_readme(brief: str) -> str:
    # A fence longer than any backtick run in the brief keeps the brief inside it.
    longest = max((len(run) for run in re.findall(r"`+", brief)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"""# Demo app

## Summary

This site was written by the llm stub's built-in demo answer, not by a model: no script
matched the request. It shows the brief it was given:

{fence}text
{brief or "(no brief found in the request)"}
{fence}

## Setup

Nothing to install or build: the site is one static `index.html`. Serve the folder with any
static file server (for example `python -m http.server`) or publish it with GitHub Pages.

## Usage

Open `index.html` in a browser. The page shows the brief and a note that it came from the
llm stub.

## Code explanation

`index.html` is self-contained: the markup and a small inline stylesheet, with no scripts
and no external requests. The brief is HTML-escaped before it is shown.

## License

MIT
"""
