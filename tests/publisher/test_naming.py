"""Repository names and the description marker."""

from __future__ import annotations

import re

import pytest
from publisher.naming import (
    MAX_NAME,
    base_name,
    candidate,
    description_for,
    find_marker,
    marker_for,
)

SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


@pytest.mark.parametrize(
    ("task", "name"),
    [
        ("ShareVolume", "ShareVolume"),
        ("LLMPages2", "LLMPages2"),
        ("captcha-solver-a1b2c", "captcha-solver-a1b2c"),
        ("Share Volume  app", "Share-Volume-app"),
        ("sum of sales / 2025!", "sum-of-sales-2025"),
        ("Café Crème", "Cafe-Creme"),
        ("ﬁle_name", "file_name"),
        ("...hidden", "hidden"),
        ("-.-dash", "dash"),
        ("site.git", "site"),
        ("site.GIT", "site"),
        ("a.git.git", "a"),
        (".git", "git"),
        ("trailing---", "trailing"),
        ("x__y..z", "x__y..z"),
    ],
)
def test_base_name(task: str, name: str) -> None:
    assert base_name(task) == name


@pytest.mark.parametrize("task", ["日本語のタスク", "   ", "!!!", "---", "🙂🙂"])
def test_base_name_is_never_empty_and_deterministic(task: str) -> None:
    name = base_name(task)
    assert SAFE.match(name)
    assert name.startswith("task-")
    assert name == base_name(task)
    assert base_name(task + "x") != name


def test_long_unicode_name_is_cut_to_100() -> None:
    task = "Ünïcödé résumé builder " * 6  # about 140 characters
    name = base_name(task)
    assert len(name) <= MAX_NAME
    assert SAFE.match(name)
    assert name.startswith("Unicode-resume-builder-")
    assert not name.endswith(("-", ".", ".git"))


def test_candidates_keep_within_100_chars() -> None:
    base = base_name("a" * 120)
    assert len(base) == 100
    assert candidate(base, 1) == base
    second, twelfth = candidate(base, 2), candidate(base, 12)
    assert second == "a" * 98 + "-2"
    assert twelfth == "a" * 97 + "-12"
    assert all(len(candidate(base, n)) <= MAX_NAME for n in range(1, 1000))


def test_candidate_does_not_leave_double_dashes_after_cutting() -> None:
    base = "a" * 97 + "-bc"
    assert candidate(base, 2) == "a" * 97 + "-2"


def test_description_ends_with_the_marker_and_has_no_control_characters() -> None:
    marker = marker_for("0123456789abcdef", "9f1c2a52-0d7e-4c55-9a3e-7f0b8f1f5a11")
    text = description_for("Line one\nline\ttwo\x00\x1b[31m red", "task", marker)
    assert text == "Line one line two [31m red [pagesmith:0123456789abcdef:9f1c2a52]"
    assert not re.search(r"[\x00-\x1f\x7f]", text)
    assert find_marker(text) == marker


def test_long_description_is_cut_well_under_350() -> None:
    marker = marker_for("0123456789abcdef", "9f1c2a52-0d7e")
    text = description_for("word " * 500, "task", marker)
    assert len(text) <= 200
    assert text.endswith(str(marker))
    assert find_marker(text) == marker


def test_empty_summary_falls_back_to_the_task() -> None:
    marker = marker_for("0123456789abcdef", "9f1c2a52")
    assert description_for(" \n ", "ShareVolume", marker).startswith(
        "Pagesmith site for ShareVolume ["
    )


def test_find_marker_ignores_other_text() -> None:
    assert find_marker(None) is None
    assert find_marker("A site [pagesmith:xyz:123]") is None
