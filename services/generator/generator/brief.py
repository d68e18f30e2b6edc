"""What code can read from a brief: named files, forbidden files, word limits, JSON types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pagesmith_contracts import Check

_EXT = (
    "html|htm|css|js|mjs|json|txt|md|markdown|svg|csv|tsv|py|yml|yaml|xml|png|jpg|jpeg|gif|"
    "webp|ico|toml|ini|cfg|sh|ts|xlsx|xls|pdf|ipynb|r|sql|geojson"
)
_FILE = re.compile(
    rf"(?<![\w/.@-])((?:\.?[\w-]+/)*\.?[\w-]+\.(?:{_EXT}))(?![\w-]|\.\w)", re.IGNORECASE
)
# Library names that look like files ("loads highlight.js"): never required outputs.
_LIBRARIES = frozenset(
    name + ".js"
    for name in (
        "highlight", "chart", "three", "d3", "node", "vue", "next", "nuxt", "react", "p5",
        "tesseract", "marked", "pdf", "leaflet", "anime", "moment", "mermaid", "alpine", "htmx",
        "express", "socket.io", "ember", "backbone", "angular", "svelte", "deno", "bun", "plotly",
        "math", "katex", "mathjax", "prism", "showdown", "markdown-it", "lodash", "jquery", "gsap",
        "popper", "bootstrap", "tailwind", "hammer", "paper", "fabric", "pixi", "babylon", "ml5",
        "brain", "tensorflow", "tf", "onnx", "transformers", "pyodide", "sql", "dexie", "papaparse",
        "day", "luxon", "numeral", "handlebars", "mustache", "ejs", "pug", "vite", "webpack",
    )
)  # fmt: skip
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_BARE_NAMES = re.compile(r"(?<![\w.-])(LICENSE|README\.md|\.nojekyll)(?![\w.-])")
_FORBIDDEN = (
    re.compile(r"(?:do\s+not|don't|never|must\s+not)\s+commit\s+`?([\w./-]+\.\w+)`?", re.I),
    re.compile(r"`?([\w./-]+\.\w+)`?\s+(?:is|must\s+be|should\s+be)\s+not\s+committed", re.I),
)
_WORKFLOW = re.compile(r"\.github/workflows/[\w.-]+\.ya?ml", re.IGNORECASE)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "twenty": 20, "fifty": 50, "hundred": 100,
}  # fmt: skip
_RANGE = re.compile(r"(\d+)\s*(?:-|–|—|to)\s*(\d+)[\s-]*words?\b", re.IGNORECASE)
_COUNT = re.compile(
    r"(at\s+least|more\s+than|over|at\s+most|under|fewer\s+than|less\s+than|up\s+to|"
    rf"no\s+more\s+than|exactly|in)?\s*\b(\d+|{'|'.join(_NUMBER_WORDS)})[\s-]+words?\b",
    re.IGNORECASE,
)
_AT_LEAST = ("at least", "more than", "over")
UNBOUNDED = 10**9
_BULLET_FILE = re.compile(rf"^\s*(?:[-*•]|\d+[.)])?\s*`?((?:\.?[\w-]+/)*[\w.-]+\.(?:{_EXT}))`?\s*:")
_TYPED_KEY = re.compile(
    r"[\"'`]?([A-Za-z_]\w*)[\"'`]?\s*:\s*"
    r"(float|int|integer|str|string|bool|boolean|number)\b",
    re.IGNORECASE,
)
_LITERAL_KEY = re.compile(
    r"[\"'`]?([A-Za-z_]\w*)[\"'`]?\s*:\s*(-?\d+(?:\.\d+)?|\"[^\"\n]*\")\s*[,}\n]"
)
_CHECK_TYPED = re.compile(r"'(\w+)'\s*\((number|string|int|integer|float|bool|boolean)\)", re.I)
_TYPES = {
    "float": "float", "int": "int", "integer": "int", "str": "str", "string": "str",
    "bool": "bool", "boolean": "bool", "number": "number",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class WordLimit:
    path: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class BriefFacts:
    """Facts code extracts from the brief and checks, to prompt with and to verify against."""

    named_files: tuple[str, ...] = ()
    forbidden_files: tuple[str, ...] = ()
    word_limits: tuple[WordLimit, ...] = ()
    # path -> ((key, "float" | "int" | "str" | "bool" | "number" | "=<json literal>"), ...)
    json_types: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    wants_workflow: bool = False


def read_brief(brief: str, checks: tuple[Check, ...] = ()) -> BriefFacts:
    """Extract what code can check: never a substitute for the model reading the brief."""
    texts = [brief, *(c.text for c in checks if not c.js)]
    named: list[str] = []
    for text in texts:
        stripped = _URL.sub(" ", text)
        for m in [*_FILE.finditer(stripped), *_BARE_NAMES.finditer(stripped)]:
            name = m.group(1).lstrip("./") if m.group(1).startswith("./") else m.group(1)
            if name not in named and name.lower() not in _LIBRARIES:
                named.append(name)
    forbidden = sorted({m.group(1) for rx in _FORBIDDEN for t in texts for m in rx.finditer(t)})
    return BriefFacts(
        named_files=tuple(n for n in named if n not in forbidden),
        forbidden_files=tuple(forbidden),
        word_limits=tuple(_word_limits(brief)),
        json_types=_json_types(brief, checks),
        wants_workflow=bool(_WORKFLOW.search(brief)),
    )


def _bullets(brief: str) -> list[tuple[str, str]]:
    """(file, text) for each bullet that starts with a file name, continuation lines included."""
    out: list[tuple[str, list[str]]] = []
    for line in brief.splitlines():
        m = _BULLET_FILE.match(line)
        if m:
            out.append((m.group(1), [line[m.end() :]]))
        elif out and line.startswith((" ", "\t")) and line.strip():
            out[-1][1].append(line)
        elif out and not line.strip():
            out.append(("", []))
    return [(f, "\n".join(t)) for f, t in out if f]


def _word_limits(brief: str) -> list[WordLimit]:
    limits = []
    for path, text in _bullets(brief):
        if m := _RANGE.search(text):
            low, high = sorted((int(m.group(1)), int(m.group(2))))
            limits.append(WordLimit(path, low, high))
        elif m := _COUNT.search(text):
            qualifier = " ".join((m.group(1) or "").lower().split())
            word = m.group(2).lower()
            n = int(word) if word.isdigit() else _NUMBER_WORDS[word]
            if qualifier in _AT_LEAST:
                limits.append(WordLimit(path, n + (qualifier != "at least"), UNBOUNDED))
            elif qualifier in ("", "exactly", "in"):
                limits.append(WordLimit(path, n, n))
            else:
                limits.append(
                    WordLimit(path, 1, n - (qualifier in ("under", "fewer than", "less than")))
                )
    return limits


def _json_types(brief: str, checks: tuple[Check, ...]) -> dict[str, tuple[tuple[str, str], ...]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for path, text in _bullets(brief):
        if not path.lower().endswith(".json"):
            continue
        keys = found.setdefault(path, [])
        for m in _TYPED_KEY.finditer(text):
            keys.append((m.group(1), _TYPES[m.group(2).lower()]))
        for m in _LITERAL_KEY.finditer(text):
            keys.append((m.group(1), "=" + m.group(2)))
    for c in checks:
        if c.js:
            continue
        files = [f for f in _FILE.findall(_URL.sub(" ", c.text)) if f.lower().endswith(".json")]
        if len(files) == 1:
            keys = found.setdefault(files[0], [])
            for m in _CHECK_TYPED.finditer(c.text):
                keys.append((m.group(1), _TYPES[m.group(2).lower()]))
    return {p: tuple(dict.fromkeys(k)) for p, k in found.items() if k}
