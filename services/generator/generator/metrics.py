"""The generator's metrics, on the registry the runtime hands over (style.md §10)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class GeneratorMetrics:
    """Tokens, generations by outcome (degraded included), self-checks, repairs, secrets."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.tokens = Counter(
            "pagesmith_llm_tokens_total", "Model tokens spent.", ["kind"], registry=registry
        )
        self.generations = Counter(
            "pagesmith_generations_total",
            "Sites generated, one per task, by round and outcome: ok, repaired (a repair round "
            "fixed it), failing_checks (published with failing self-checks), degraded.",
            ["round", "outcome"],
            registry=registry,
        )
        self.selfchecks = Counter(
            "pagesmith_selfcheck_total",
            "Tasks by the self-check outcome of the draft that shipped, one per task "
            "(passed, failed, unverified, skipped); browser runs: pagesmith_selfcheck_runs_total.",
            ["outcome"],
            registry=registry,
        )
        self.selfcheck_runs = Counter(
            "pagesmith_selfcheck_runs_total",
            "Self-check runs, one per draft checked (repair rounds included), by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.repairs = Counter(
            "pagesmith_repair_rounds_total", "Repair rounds sent to the model.", registry=registry
        )
        self.tool_calls = Counter(
            "pagesmith_tool_calls_total",
            "Tool calls made by the model, by tool and outcome.",
            ["tool", "outcome"],
            registry=registry,
        )
        self.secret_findings = Counter(
            "pagesmith_secret_findings_total",
            "Credential-like strings found in generated files.",
            registry=registry,
        )

    def count_usage(self, input_tokens: int, output_tokens: int) -> None:
        self.tokens.labels(kind="input").inc(input_tokens)
        self.tokens.labels(kind="output").inc(output_tokens)
