"""Output path rules: what a repository path written by the model may look like."""

from __future__ import annotations

import posixpath

MAX_PATH = 255


class InvalidPath(ValueError):
    """A path the generator will not write."""


def check_path(path: str) -> str:
    """Return the normalised path, or raise InvalidPath with the reason."""
    if not path or not path.strip():
        raise InvalidPath("empty path")
    if "\x00" in path:
        raise InvalidPath("NUL in path")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise InvalidPath("control character in path")
    if "\\" in path:
        raise InvalidPath("backslash in path")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise InvalidPath("absolute path")
    if len(path) > MAX_PATH:
        raise InvalidPath(f"longer than {MAX_PATH} characters")
    parts = path.split("/")
    if any(p == ".." for p in parts):
        raise InvalidPath("'..' in path")
    if path.endswith("/"):
        raise InvalidPath("directory, not a file")
    norm = posixpath.normpath(path)
    if norm in (".", "") or norm.startswith("../"):
        raise InvalidPath("not a file path")
    if any(p == ".git" for p in norm.split("/")):
        raise InvalidPath("inside .git/")
    if any(p.strip() != p or not p for p in norm.split("/")):
        raise InvalidPath("path segment with surrounding whitespace")
    return norm
