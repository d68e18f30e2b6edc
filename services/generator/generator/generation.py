"""One task's conversation with the model: tools, static checks, self-check, bounded repairs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from pagesmith_contracts import Check, ModelUsage

from .brief import BriefFacts
from .budget import Budget
from .draft import SiteDraft
from .metrics import GeneratorMetrics
from .ports import BrowserPort, DraftFailed, GenerationError, LlmPort, Message, Usage
from .prompt import repair_message
from .secrets import Finding, SecretScanner, describe
from .selfcheck import SelfCheck, run_selfcheck
from .tools import ToolBox
from .validate import static_problems

log = structlog.get_logger(__name__)
MAX_PROBLEMS = 25


class GenerationFailed(GenerationError):
    """No publishable draft within the budget: the caller degrades."""


@dataclass(frozen=True, slots=True)
class Built:
    """The full file set a draft produces, and notes about what assembling it dropped."""

    files: dict[str, bytes]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    draft: SiteDraft
    built: Built
    problems: tuple[str, ...]
    selfcheck: SelfCheck
    secrets: int


@dataclass
class UsageMeter:
    model: str
    metrics: GeneratorMetrics
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, usage: Usage) -> None:
        self.calls += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.metrics.count_usage(usage.input_tokens, usage.output_tokens)

    def snapshot(self) -> ModelUsage:
        return ModelUsage(
            model=self.model,
            calls=self.calls,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
        )


def merge(base: SiteDraft, patch: SiteDraft) -> SiteDraft:
    """A repair answer holds only changed files; everything else stays as it was."""
    files = {f.path: f for f in base.files}
    for f in patch.files:
        files[f.path] = f
    for path in patch.deleted:
        files.pop(path, None)
    return SiteDraft(
        files=list(files.values()),
        deleted=sorted({*base.deleted, *patch.deleted} - {f.path for f in patch.files}),
        edited_attachments=sorted({*base.edited_attachments, *patch.edited_attachments}),
        commit_message=patch.commit_message or base.commit_message,
        description=patch.description or base.description,
        assertions=patch.assertions or base.assertions,
    )


def _redacted(message: Message, scanner: SecretScanner) -> Message:
    """The assistant message with credential-like strings replaced, tool arguments included."""
    out = dict(message)
    if isinstance(out.get("content"), str):
        out["content"] = scanner.redact(out["content"])
    if out.get("tool_calls"):
        out["tool_calls"] = [
            {
                **c,
                "function": {
                    **c["function"],
                    "arguments": scanner.redact(c["function"]["arguments"]),
                },
            }
            if isinstance(c, dict)
            and isinstance(c.get("function"), dict)
            and isinstance(c["function"].get("arguments"), str)
            else c
            for c in out["tool_calls"]
        ]
    return out


@dataclass
class Generation:
    """Draft, check, repair: the best candidate within the attempts and the budget wins."""

    llm: LlmPort
    browser: BrowserPort | None
    metrics: GeneratorMetrics
    scanner: SecretScanner
    budget: Budget
    toolbox: ToolBox
    facts: BriefFacts
    checks: Sequence[Check]
    build: Callable[[SiteDraft, Mapping[str, bytes]], Built]
    max_tool_rounds: int = 8
    max_repairs: int = 2
    min_repair_seconds: float = 45.0
    selfcheck_timeout: float = 30.0
    usage: UsageMeter = field(init=False)
    repairs: int = 0
    _tool_rounds: int = 0

    def __post_init__(self) -> None:
        self.usage = UsageMeter(self.llm.model, self.metrics)

    async def run(self, messages: list[Message]) -> Candidate:
        draft = await self._converse(messages)
        best: Candidate | None = None
        while True:
            candidate = await self._evaluate(draft)
            if best is None or _better(candidate, best):
                best = candidate
            if not candidate.problems or not self._may_repair():
                break
            self.repairs += 1
            self.metrics.repairs.inc()
            log.info("repair round", round=self.repairs, problems=list(candidate.problems[:10]))
            messages.append(repair_message(candidate.problems[:MAX_PROBLEMS]))
            try:
                patch = await self._converse(messages)
            except GenerationError as exc:
                # A usable draft is already in hand: ship it rather than degrade.
                log.warning("repair round failed; keeping the best draft", error=str(exc))
                break
            draft = merge(draft, patch)
        if best.secrets:
            raise GenerationFailed("credential-like strings remained in the generated files")
        if "index.html" not in best.built.files:
            raise GenerationFailed("the model produced no index.html")
        return best

    def _may_repair(self) -> bool:
        return (
            self.repairs < self.max_repairs and self.budget.remaining() >= self.min_repair_seconds
        )

    async def _converse(self, messages: list[Message]) -> SiteDraft:
        specs = self.toolbox.specs()
        while True:
            allow = self._tool_rounds < self.max_tool_rounds
            reply = await self.llm.complete(
                messages, tools=specs, budget=self.budget, allow_tools=allow
            )
            self.usage.add(reply.usage)
            # What the model wrote goes back to it in later rounds: never with a secret in it.
            messages.append(_redacted(reply.message, self.scanner))
            if not reply.tool_calls:
                if reply.draft is None:
                    raise DraftFailed("the model answered without a draft")
                return reply.draft
            if not allow:
                raise DraftFailed("the model kept calling tools past the limit")
            self._tool_rounds += 1
            for call in reply.tool_calls:
                content, ok = await self.toolbox.run(call)
                self.metrics.tool_calls.labels(
                    tool=call.name, outcome="ok" if ok else "error"
                ).inc()
                log.info("tool call", tool=call.name, ok=ok)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})

    def _inspect(self, draft: SiteDraft) -> tuple[Built, list[str], list[Finding]]:
        """Build and check statically: pure work, seconds for megabytes of converted data."""
        built = self.build(draft, dict(self.toolbox.written))
        problems = [*built.notes, *static_problems(built.files, self.facts)]
        findings = self.scanner.scan(
            built.files,
            ("commit message", draft.commit_message),
            ("description", draft.description),
        )
        return built, problems, findings

    async def _evaluate(self, draft: SiteDraft) -> Candidate:
        built, problems, findings = await asyncio.to_thread(self._inspect, draft)
        if findings:
            self.metrics.secret_findings.inc(len(findings))
            log.warning(
                "credential-like strings in the draft", where=[(f.path, f.kind) for f in findings]
            )
            problems.extend(describe(findings))
        check = await run_selfcheck(
            self.browser,
            built.files,
            self.checks,
            draft.assertions,
            timeout=min(self.selfcheck_timeout, max(self.budget.remaining() - 5, 1)),
        )
        self.metrics.selfcheck_runs.labels(outcome=check.outcome).inc()
        if check.unverified:
            log.info(
                "self-check left some checks unverified",
                outcome=check.outcome,
                notes=list(check.unverified[:10]),
            )
        problems.extend(check.problems)
        return Candidate(draft, built, tuple(problems), check, len(findings))


def _better(new: Candidate, old: Candidate) -> bool:
    """No secrets beats secrets; then fewer problems; ties go to the newer draft."""
    return (new.secrets == 0, -len(new.problems)) >= (old.secrets == 0, -len(old.problems))
