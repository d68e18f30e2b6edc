"""Static checks code runs on a draft before anything is published; each problem is a sentence."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import lxml.etree
import lxml.html

from .brief import UNBOUNDED, BriefFacts
from .site import is_text
from .workflow import workflow_problems

SVG_ROOT = "{http://www.w3.org/2000/svg}svg"


def word_count(text: str) -> int:
    return len(text.split())


def static_problems(files: Mapping[str, bytes], facts: BriefFacts) -> list[str]:
    """Missing files, unparseable JSON/HTML/SVG/Python, word limits, JSON types, CI workflow."""
    problems: list[str] = []
    for path in ("index.html", "README.md", *facts.named_files):
        if path not in files:
            problems.append(f"`{path}` is missing: the brief names it, so the site must have it.")
    for path, data in sorted(files.items()):
        lower = path.lower()
        if not is_text(data):
            continue
        text = data.decode("utf-8")
        if lower.endswith(".json"):
            problems.extend(_json_problems(path, text, facts))
        elif lower.endswith((".html", ".htm")):
            problems.extend(_html_problems(path, text))
        elif lower.endswith(".svg"):
            problems.extend(_svg_problems(path, data))
        elif lower.endswith(".py"):
            try:
                compile(text, path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                problems.append(f"`{path}` is not valid Python: {exc.msg} (line {exc.lineno}).")
        elif lower.startswith(".github/workflows/") and lower.endswith((".yml", ".yaml")):
            problems.extend(f"`{path}` {p}." for p in workflow_problems(text))
    for limit in facts.word_limits:
        content = files.get(limit.path)
        if content is None or not is_text(content):
            continue
        n = word_count(content.decode("utf-8"))
        if not limit.low <= n <= limit.high:
            want = (
                f"exactly {limit.low}"
                if limit.low == limit.high
                else f"at least {limit.low}"
                if limit.high >= UNBOUNDED
                else f"{limit.low}-{limit.high}"
            )
            problems.append(
                f"`{limit.path}` has {n} words; it must have {want}. Write only the content: "
                "no title, preamble, disclaimer or note."
            )
    return problems


def _json_problems(path: str, text: str, facts: BriefFacts) -> list[str]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"`{path}` is not valid JSON: {exc.msg} at line {exc.lineno}."]
    problems = []
    for key, kind in facts.json_types.get(path, ()):
        values = list(_find_key(doc, key))
        if not values:
            problems.append(f"`{path}` has no `{key}` field, which the brief asks for.")
            continue
        for value in values:
            if not _type_ok(value, kind):
                want = kind[1:] if kind.startswith("=") else f"a JSON {kind}"
                problems.append(
                    f"`{path}`: `{key}` is {json.dumps(value)[:60]}; it must be {want}."
                )
                break
    return problems


def _find_key(doc: Any, key: str) -> Iterator[Any]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == key:
                yield v
            yield from _find_key(v, key)
    elif isinstance(doc, list):
        for item in doc:
            yield from _find_key(item, key)


def _type_ok(value: Any, kind: str) -> bool:
    if kind.startswith("="):
        try:
            return bool(value == json.loads(kind[1:]))
        except json.JSONDecodeError:
            return True
    if kind == "float":
        return isinstance(value, float)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return True


def fix_json_floats(files: Mapping[str, bytes], facts: BriefFacts) -> dict[str, bytes]:
    """Write whole numbers as floats where the brief asks for a float (`77` -> `77.0`), in code."""
    fixed: dict[str, bytes] = {}
    for path, keys in facts.json_types.items():
        floats = {k for k, kind in keys if kind == "float"}
        if not floats or path not in files:
            continue
        try:
            doc = json.loads(files[path])
        except ValueError:
            continue
        if _floatify(doc, floats):
            fixed[path] = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    return fixed


def _floatify(doc: Any, keys: set[str]) -> bool:
    changed = False
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k in keys and isinstance(v, int) and not isinstance(v, bool):
                doc[k] = float(v)
                changed = True
            else:
                changed |= _floatify(v, keys)
    elif isinstance(doc, list):
        for item in doc:
            changed |= _floatify(item, keys)
    return changed


def _html_problems(path: str, text: str) -> list[str]:
    if not text.strip():
        return [f"`{path}` is empty."]
    try:
        root = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        return [f"`{path}` is not parseable HTML ({exc})."]
    problems = []
    scripts = root.xpath("//script")
    inline = [s for s in scripts if not s.get("src") and (s.text or "").strip()]
    if path == "index.html" and inline and scripts and scripts[0].get("src"):
        problems.append(
            "`index.html`: the first <script> element is external "
            f"(src={scripts[0].get('src')!r}); put the inline app script first, before any "
            "<script src>, because graders read document.querySelector('script').textContent."
        )
    if path == "index.html" and not root.xpath("//title"):
        problems.append("`index.html` has no <title>.")
    return problems


def _svg_problems(path: str, data: bytes) -> list[str]:
    try:
        root = lxml.etree.fromstring(data, parser=lxml.etree.XMLParser(resolve_entities=False))
    except lxml.etree.XMLSyntaxError as exc:
        return [f"`{path}` is not well-formed XML: {exc}."]
    if root.tag != SVG_ROOT:
        return [f'`{path}`: the root element must be <svg xmlns="http://www.w3.org/2000/svg">.']
    return []
