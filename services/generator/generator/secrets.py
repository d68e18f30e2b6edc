"""Credential scanning of generated files: a pushed secret stays in git history forever."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("OpenAI key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe key", re.compile(r"\b[rs]k_live_[0-9A-Za-z]{20,}")),
    (
        "credentials in a URL",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@'\"]+:[^\s/@'\"]{6,}@[\w.-]+"),
    ),
)
MIN_OWN_SECRET = 8
# `re` holds the GIL for a whole search: megabytes of converted data in one search would starve
# the event loop while the scan runs in a worker thread. No pattern spans a line end.
CHUNK_CHARS = 1 << 16


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    kind: str
    line: int


class SecretScanner:
    """Known credential shapes plus the exact values of the generator's own secrets."""

    def __init__(self, own_secrets: Iterable[str] = ()) -> None:
        self._own = tuple(s for s in own_secrets if s and len(s) >= MIN_OWN_SECRET)

    def scan_text(self, path: str, text: str) -> list[Finding]:
        found = []
        for offset, piece in _pieces(text):
            for kind, rx in PATTERNS:
                for m in rx.finditer(piece):
                    line = text.count("\n", 0, offset + m.start()) + 1
                    found.append(Finding(path, kind, line))
        for secret in self._own:
            at = text.find(secret)
            if at >= 0:
                found.append(
                    Finding(path, "the generator's own secret", text.count("\n", 0, at) + 1)
                )
        return found

    def scan(self, files: Mapping[str, bytes], *extra: tuple[str, str]) -> list[Finding]:
        """Scan file contents (decoded leniently) and extra (label, text) pairs."""
        found: list[Finding] = []
        for path, data in files.items():
            found.extend(self.scan_text(path, data.decode("utf-8", errors="replace")))
        for label, text in extra:
            found.extend(self.scan_text(label, text))
        return found

    def redact(self, text: str) -> str:
        """Last resort for text that must ship (a degraded page showing the brief)."""
        for _, rx in PATTERNS:
            text = rx.sub("[redacted]", text)
        for secret in self._own:
            text = text.replace(secret, "[redacted]")
        return text


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    """(offset, text) pieces of about CHUNK_CHARS, each ending at a line end."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + CHUNK_CHARS)
        end = len(text) if end < 0 else end + 1
        yield start, text[start:end]
        start = end


def describe(findings: Iterable[Finding]) -> list[str]:
    return [
        f"`{f.path}` line {f.line} contains what looks like a credential ({f.kind}). Remove it: "
        "the site must hold no keys, tokens or private keys, not even examples."
        for f in findings
    ]
