"""Checks as the grader states them: JavaScript expressions or English sentences."""

from __future__ import annotations

import re

from pagesmith_contracts import Check

_JS_HINT = re.compile(
    r"document\.|window\.|querySelector|localStorage|=>|===|!==|^\s*!!|\bMath\.|parseFloat\(|"
    r"parseInt\(|\.textContent|\.innerHTML|\.length\s*[<>=]",
)
_KEYWORDS = ("typeof", "new", "await", "async", "void")


def is_js(check: Check) -> bool:
    """`{"js": …}` checks, and plain strings that read as a JavaScript expression."""
    if check.js:
        return True
    return bool(_JS_HINT.search(check.text)) and not _is_sentence(check.text)


def _is_sentence(text: str) -> bool:
    # English checks open with two plain words ("index.html has …" does not, but has no JS hint).
    words = text.strip().split()
    return (
        len(words) >= 4 and words[0].isalpha() and words[1].isalpha() and words[0] not in _KEYWORDS
    )
