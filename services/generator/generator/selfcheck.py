"""The browser self-check: which expressions to evaluate and what their results mean."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from pagesmith_contracts import Check, SelfCheckOutcome

from .checks import is_js
from .draft import CheckAssertion
from .ports import BrowserPort, BrowserReport, BrowserUnavailable

log = structlog.get_logger(__name__)
SYNTAX_ERROR = "SyntaxError"


@dataclass(frozen=True, slots=True)
class SelfCheck:
    """The outcome, problems for the model, notes, and which checks passed or failed."""

    outcome: SelfCheckOutcome
    problems: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    passed: tuple[str, ...] = ()  # the checks (their text) the page answered truthy
    failed: tuple[str, ...] = ()  # the checks the page really failed


@dataclass(frozen=True, slots=True)
class Expression:
    label: str
    js: str
    source: str  # "js" ({"js": …} check), "text" (plain-string check read as JS), "assertion"


def expressions_for(
    checks: Sequence[Check], assertions: Sequence[CheckAssertion]
) -> list[Expression]:
    """Every check the page itself can answer: the grader's JS checks, the model's assertions."""
    out: list[Expression] = []
    english = {_norm(c.text): c.text for c in checks if not is_js(c)}
    for c in checks:
        if is_js(c):
            out.append(Expression(c.text, c.text, "js" if c.js else "text"))
    for a in assertions:
        label = english.get(_norm(a.check))
        if a.js and a.js.strip() and label is not None:
            out.append(Expression(label, a.js, "assertion"))
    return out


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


async def run_selfcheck(
    browser: BrowserPort | None,
    files: Mapping[str, bytes],
    checks: Sequence[Check],
    assertions: Sequence[CheckAssertion],
    *,
    timeout: float,
) -> SelfCheck:
    """Load index.html in Chromium, evaluate every check; problems are sentences for the model."""
    if browser is None:
        return SelfCheck("skipped", unverified=("no browser configured",))
    if "index.html" not in files:
        return SelfCheck("skipped", unverified=("no index.html to load",))
    exprs = expressions_for(checks, assertions)
    tested = {e.label for e in exprs}
    unchecked = tuple(f"unchecked: {c.text}" for c in checks if c.text not in tested)
    try:
        report = await browser.check(
            files, [e.js for e in exprs], page="index.html", timeout=timeout
        )
    except BrowserUnavailable as exc:
        log.warning("self-check skipped: no browser", reason=str(exc))
        return SelfCheck("skipped", unverified=(str(exc),))
    result = interpret(report, exprs)
    return SelfCheck(
        result.outcome,
        result.problems,
        (*result.unverified, *unchecked),
        result.passed,
        result.failed,
    )


def interpret(report: BrowserReport, exprs: Sequence[Expression]) -> SelfCheck:
    problems: list[str] = []
    passed: dict[str, None] = {}
    failing: dict[str, str] = {}  # check label -> its problem sentence (the first one)
    for expr, result in zip(exprs, report.results, strict=False):
        if result.passed:
            passed.setdefault(expr.label)
            continue
        if expr.source == "text" and SYNTAX_ERROR in result.detail:
            continue  # a plain-string check that is English after all
        who = "The check" if expr.source != "assertion" else f"Your assertion for {expr.label!r},"
        problem = f"{who} `{expr.js}` is not truthy once index.html has loaded ({result.detail})."
        problems.append(problem)
        failing.setdefault(expr.label, problem)
    # A check with one failing expression (say, two assertions for it) has not passed.
    ok = tuple(label for label in passed if label not in failing)
    for err in report.page_errors:
        problems.append(f"index.html throws an uncaught error on load: {err}")
    for err in report.console_errors:
        problems.append(f"index.html logs a console error on load: {err}")
    for path in report.missing_files:
        problems.append(f"index.html requests `{path}`, which is not in the site (404).")
    if not problems:
        return SelfCheck("passed", passed=ok)
    if report.blocked_requests:
        # External resources (CDNs, APIs) could not load here, so failures may not be real.
        real = [p for p in problems if SYNTAX_ERROR in p or "(404)" in p]
        unverified = tuple(p for p in problems if p not in real)
        note = f"{len(report.blocked_requests)} external requests blocked or failed"
        failed = tuple(label for label, p in failing.items() if p in real)
        if real:
            return SelfCheck("failed", tuple(real), (*unverified, note), ok, failed)
        return SelfCheck("unverified", (), (*unverified, note), ok)
    return SelfCheck("failed", tuple(problems), (), ok, tuple(failing))
