"""Round 1 and round 2: prompt, generate, assemble, or fall back to the degraded site."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import structlog
from pagesmith_contracts import (
    Check,
    ModelUsage,
    PagesBuild,
    RepoCheckedOutV1,
    SelfCheckSummary,
    SiteFile,
    SiteGeneratedV1,
    TaskSubmittedV1,
)

from .brief import BriefFacts, read_brief
from .budget import Budget
from .degraded import degraded_round1, degraded_round2
from .deps import Deps
from .draft import SiteDraft
from .generation import Built, Candidate, Generation
from .paths import InvalidPath, check_path
from .ports import GenerationError, Message, ModelUnavailable
from .prompt import PromptLimits, round1_messages, round2_messages
from .selfcheck import SelfCheck
from .site import (
    CODE_OWNED,
    assemble,
    clean_commit_message,
    clean_description,
    license_file,
    readme_fallback,
)
from .tabular import READ_TIMEOUT_SECONDS, Workbooks
from .tools import ToolBox
from .validate import fix_json_floats

log = structlog.get_logger(__name__)
SOURCE = "pagesmith/generator"
Outcome = Literal["ok", "repaired", "failing_checks", "degraded"]


def _limits(deps: Deps) -> PromptLimits:
    s = deps.settings
    return PromptLimits(s.prompt_attachment_chars, s.prompt_repo_chars, s.send_images)


def _generation(
    deps: Deps,
    budget: Budget,
    toolbox: ToolBox,
    facts: BriefFacts,
    event: TaskSubmittedV1 | RepoCheckedOutV1,
    build: Callable[[SiteDraft, Mapping[str, bytes]], Built],
) -> Generation:
    s = deps.settings
    return Generation(
        llm=deps.llm,
        browser=deps.browser if s.selfcheck else None,
        metrics=deps.metrics,
        scanner=deps.scanner,
        budget=budget,
        toolbox=toolbox,
        facts=facts,
        checks=event.checks,
        build=build,
        max_tool_rounds=s.max_tool_rounds,
        max_repairs=s.max_repair_rounds,
        min_repair_seconds=s.min_repair_seconds,
        selfcheck_timeout=s.selfcheck_timeout_seconds,
    )


async def _workbooks(event: TaskSubmittedV1 | RepoCheckedOutV1, budget: Budget) -> Workbooks:
    """The task's spreadsheets, parsed once for the prompt and every tool call."""
    timeout = min(READ_TIMEOUT_SECONDS, max(budget.remaining(), 1.0))
    return await Workbooks.read(event.attachments, timeout=timeout)


def _pages_build(files: Mapping[str, bytes]) -> PagesBuild:
    for path, data in files.items():
        if path.startswith(".github/workflows/") and b"deploy-pages" in data:
            return "workflow"
    return "legacy"


def _count(deps: Deps, round: int, outcome: Outcome) -> None:
    deps.metrics.generations.labels(round=str(round), outcome=outcome).inc()


async def site_for_round1(event: TaskSubmittedV1, deps: Deps) -> SiteGeneratedV1:
    """The whole site for a round-1 task; degraded (never nothing) when generation fails."""
    s = deps.settings
    task = event.task
    facts = read_brief(event.brief, event.checks)
    budget = Budget.for_task(task, s.publish_reserve_seconds, deps.clock)
    year = task.received_at.year
    workbooks = await _workbooks(event, budget)
    toolbox = ToolBox(
        attachments=event.attachments,
        fetcher=deps.fetcher,
        read_chars=s.tool_read_chars,
        wants_workflow=facts.wants_workflow,
        workbooks=workbooks,
    )

    def build(draft: SiteDraft, written: Mapping[str, bytes]) -> Built:
        assembled = assemble(
            model_files=[(f.path, f.content) for f in draft.files],
            code_files=written,
            attachments=event.attachments,
            brief=event.brief,
            edited_attachments=draft.edited_attachments,
            forbidden=facts.forbidden_files,
            license=license_file(year, s.license_holder),
            readme_fallback=readme_fallback(
                task.task,
                clean_description(draft.description, task.task),
                event.brief,
                [f.path for f in draft.files],
            ),
        )
        files = {f.path: f.content for f in assembled.files}
        files.update(fix_json_floats(files, facts))
        return Built(files, _dropped_notes(assembled.dropped))

    generation = _generation(deps, budget, toolbox, facts, event, build)
    best = await _run(
        generation,
        deps,
        lambda: round1_messages(event, facts, _limits(deps), toolbox.specs(), workbooks),
    )
    if isinstance(best, str):
        return _degraded1(event, deps, best, generation.usage.snapshot())
    return _emit(
        event,
        deps,
        best,
        generation,
        tuple(SiteFile(path=p, content=c) for p, c in best.built.files.items()),
        (),
        _pages_build(best.built.files),
    )


async def site_for_round2(event: RepoCheckedOutV1, deps: Deps) -> SiteGeneratedV1:
    """Only the changes to the checked-out repository: changed and new files, deletions."""
    s = deps.settings
    task = event.task
    facts = read_brief(event.brief, event.checks)
    budget = Budget.for_task(task, s.publish_reserve_seconds, deps.clock)
    current = {f.path: f.content for f in event.files}
    workbooks = await _workbooks(event, budget)
    toolbox = ToolBox(
        attachments=event.attachments,
        fetcher=deps.fetcher,
        read_chars=s.tool_read_chars,
        repo_files=event.files,
        wants_workflow=facts.wants_workflow,
        workbooks=workbooks,
    )

    def build(draft: SiteDraft, written: Mapping[str, bytes]) -> Built:
        assembled = assemble(
            model_files=[(f.path, f.content) for f in draft.files],
            code_files=written,
            attachments=event.attachments,
            brief=event.brief,
            edited_attachments=draft.edited_attachments,
            forbidden=facts.forbidden_files,
            license=None,
            readme_fallback=None,
        )
        files = dict(current)
        files.update((f.path, f.content) for f in assembled.files)
        for path in _deletions(draft.deleted, current, {f.path for f in assembled.files}):
            files.pop(path, None)
        if "LICENSE" not in files:
            files["LICENSE"] = license_file(task.received_at.year, s.license_holder).content
        if ".nojekyll" not in files:
            files[".nojekyll"] = b""
        if files.get("README.md") == current.get("README.md"):
            # The README must describe the change even when the model left it as it was.
            files["README.md"] = _readme_round2(current.get("README.md", b""), event.brief)
        files.update(fix_json_floats(files, facts))
        return Built(files, _dropped_notes(assembled.dropped))

    generation = _generation(deps, budget, toolbox, facts, event, build)
    best = await _run(
        generation,
        deps,
        lambda: round2_messages(event, facts, _limits(deps), toolbox.specs(), workbooks),
    )
    if isinstance(best, str):
        return _degraded2(event, deps, best, generation.usage.snapshot())
    final = best.built.files
    # An edited file keeps its git mode: an executable script stays executable.
    modes = {f.path: f.mode for f in event.files}
    changed = tuple(
        SiteFile(path=p, content=c, mode=modes.get(p, "100644"))
        for p, c in final.items()
        if current.get(p) != c
    )
    deleted = tuple(sorted(p for p in current if p not in final))
    return _emit(event, deps, best, generation, changed, deleted, _pages_build(final))


def _summary(check: SelfCheck, checks: Sequence[Check]) -> SelfCheckSummary:
    """Counts over the task's checks: the browser's labels are the checks' own text."""
    total = len({c.text for c in checks})
    return SelfCheckSummary(
        outcome=check.outcome,
        passed=len(check.passed),
        failed=check.failed,
        unverified=max(total - len(check.passed) - len(check.failed), 0),
    )


def _emit(
    event: TaskSubmittedV1 | RepoCheckedOutV1,
    deps: Deps,
    best: Candidate,
    generation: Generation,
    files: tuple[SiteFile, ...],
    deleted: tuple[str, ...],
    pages_build: PagesBuild,
) -> SiteGeneratedV1:
    """The site.generated event, counted once per task with its final self-check outcome."""
    task = event.task
    verb = "Build" if task.round == 1 else "Update"
    usage = generation.usage.snapshot()
    summary = _summary(best.selfcheck, event.checks)
    outcome: Outcome = "repaired" if generation.repairs else "ok"
    if summary.outcome == "failed":
        outcome = "failing_checks"  # shipped as the best draft in hand, but not "repaired"
    _count(deps, task.round, outcome)
    deps.metrics.selfchecks.labels(outcome=summary.outcome).inc()
    log.info(
        "site generated",
        outcome=outcome,
        files=len(files),
        deleted=len(deleted),
        selfcheck=summary.outcome,
        checks_passed=summary.passed,
        checks_failed=len(summary.failed),
        checks_unverified=summary.unverified,
        repairs=generation.repairs,
        problems_left=len(best.problems),
        calls=usage.calls,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
    )
    if outcome == "failing_checks":
        log.warning(
            "publishing with failing checks",
            failed_checks=list(summary.failed),
            problems=list(best.problems[:10]),
        )
    elif best.problems:
        log.warning("publishing with problems left", problems=list(best.problems[:10]))
    return SiteGeneratedV1(
        source=SOURCE,
        subject=task.task_id,
        task=task,
        files=files,
        deleted=deleted,
        repo=event.repo if isinstance(event, RepoCheckedOutV1) else None,
        base_sha=event.head_sha if isinstance(event, RepoCheckedOutV1) else None,
        pages_build=pages_build,
        commit_message=clean_commit_message(
            best.draft.commit_message, f"{verb} {task.task} (round {task.round})"
        ),
        description=clean_description(best.draft.description, f"{task.task}: a static web app"),
        usage=usage,
        selfcheck=summary,
    )


def _degraded1(
    event: TaskSubmittedV1, deps: Deps, reason: str, usage: ModelUsage
) -> SiteGeneratedV1:
    task = event.task
    log.error("generation failed; publishing the degraded site", reason=reason)
    _count(deps, 1, "degraded")
    files = degraded_round1(
        task=task.task,
        brief=deps.scanner.redact(event.brief),
        checks=event.checks,
        attachments=event.attachments,
        reason=reason,
        year=task.received_at.year,
        holder=deps.settings.license_holder,
    )
    return SiteGeneratedV1(
        source=SOURCE,
        subject=task.task_id,
        task=task,
        files=files,
        commit_message=f"Add placeholder site for {task.task} (generation failed)"[:72],
        description=clean_description(
            f"{task.task}: placeholder, the app could not be generated", task.task
        ),
        degraded=True,
        degraded_reason=reason,
        usage=usage,
    )


def _degraded2(
    event: RepoCheckedOutV1, deps: Deps, reason: str, usage: ModelUsage
) -> SiteGeneratedV1:
    task = event.task
    log.error("round-2 generation failed; publishing a README note only", reason=reason)
    _count(deps, 2, "degraded")
    current = {f.path: f.content for f in event.files}
    files = degraded_round2(
        current=event.files,
        brief=deps.scanner.redact(event.brief),
        attachments=event.attachments,
        reason=reason,
        year=task.received_at.year,
        holder=deps.settings.license_holder,
    )
    modes = {f.path: f.mode for f in event.files}
    # An edited file keeps its git mode: an executable script stays executable.
    changed = tuple(
        f.model_copy(update={"mode": modes.get(f.path, f.mode)})
        for f in files
        if current.get(f.path) != f.content
    )
    return SiteGeneratedV1(
        source=SOURCE,
        subject=task.task_id,
        task=task,
        files=changed,
        repo=event.repo,
        base_sha=event.head_sha,
        pages_build=_pages_build(current),
        commit_message="Note that the round-2 change could not be generated",
        description=clean_description(f"{task.task}: a static web app", task.task),
        degraded=True,
        degraded_reason=reason,
        usage=usage,
    )


def _reason(exc: GenerationError, deps: Deps) -> str:
    """What happened, in the words the degraded README and the event carry."""
    return deps.scanner.redact(str(exc) or type(exc).__name__)[:500]


def _deletions(requested: list[str], current: Mapping[str, bytes], written: set[str]) -> list[str]:
    out = []
    for raw in requested:
        try:
            path = check_path(raw)
        except InvalidPath:
            continue
        if path in current and path not in written and path not in (*CODE_OWNED, "README.md"):
            out.append(path)
    return out


def _readme_round2(old: bytes, brief: str) -> bytes:
    """The model kept the README: code still records the round-2 change in it."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in brief.strip().splitlines())
    text = old.decode("utf-8", errors="replace").rstrip()
    section = f"## Round 2\n\nThis update implements the following change:\n\n{quoted}\n"
    return f"{text}\n\n{section}".encode()


def _dropped_notes(dropped: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(
        f"The file path {path[:120]!r} is not allowed ({reason}); use a relative path inside "
        "the repository."
        if "commit" not in reason
        else f"`{path}` must not be committed: {reason}."
        for path, reason in dropped
    )


async def _run(
    generation: Generation, deps: Deps, make_messages: Callable[[], list[Message]]
) -> Candidate | str:
    """The best candidate, or why the model gave none (then: degrade).

    Only model and budget failures degrade; anything else is a bug and takes the runtime's
    crash path (requeue, then task.failed), never a published placeholder.
    """
    try:
        if generation.budget.expired():
            raise ModelUnavailable(attempts=0, last_error=None, seconds=0, budget_spent=True)
        return await generation.run(make_messages())
    except GenerationError as exc:
        return _reason(exc, deps)
