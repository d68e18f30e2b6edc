"""Model failures: retried for the whole budget, degraded honestly, and bugs are not degrades."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
import stamina
from generator import rounds
from generator.adapters.llm import OpenAiLlm
from generator.handlers.task_submitted import handle_task_submitted
from openai import AsyncOpenAI
from pagesmith_contracts import SiteGeneratedV1
from stamina.instrumentation import set_on_retry_hooks

from .conftest import OWN_SECRET, ScriptedOpenAI, chat, counter, draft, late, submitted

BODY = {
    "email": "student@example.com",
    "secret": "s",
    "task": "sum-of-sales-3f9a1",
    "round": 1,
    "nonce": "019a3000-0000-7000-8000-0000000000aa",
    "brief": "Publish a single-page site that shows the total sales inside #total-sales.",
    "checks": [{"js": "!!document.querySelector('#total-sales')"}],
    "evaluation_url": "http://127.0.0.1:8787/evaluate",
    "attachments": [],
}
FILES = {
    "index.html": "<!doctype html><html><head><title>Sales</title></head>"
    '<body><p id="total-sales">1</p></body></html>',
    "README.md": "# Sales\n\nThe total.\n",
}
UNAVAILABLE = (503, {"error": {"message": "overloaded", "type": "server_error"}})


def real_llm(script: ScriptedOpenAI, **kwargs: Any) -> OpenAiLlm:
    """The adapter as the service builds it: no attempt cap unless given, small backoffs."""
    client = AsyncOpenAI(
        api_key=OWN_SECRET,
        base_url="http://llm.test/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script.handler)),
    )
    options: dict[str, Any] = {"backoff_initial": 0.01, "backoff_max": 0.05, **kwargs}
    return OpenAiLlm(client, model="test-model", call_timeout=30, **options)


@pytest.fixture
def real_backoff() -> Any:
    # The retry policy under test is the real one: stamina's test mode would cap the attempts.
    with stamina.set_testing(False):
        yield


async def test_six_503s_then_an_answer_give_a_normal_site(
    openai_script: ScriptedOpenAI, make_deps: Any, registry: Any, real_backoff: None
) -> None:
    openai_script.add(*[UNAVAILABLE] * 6, chat(draft(FILES)))
    deps = make_deps(llm=real_llm(openai_script))

    site = (await handle_task_submitted(submitted(BODY), deps))[0]

    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert {f.path: f.content for f in site.files}["index.html"] == FILES["index.html"].encode()
    assert len(openai_script.requests) == 7
    assert counter(registry, "pagesmith_generations_total", round="1", outcome="ok") == 1


async def test_retry_after_is_honoured_on_a_503(
    openai_script: ScriptedOpenAI, make_deps: Any, real_backoff: None
) -> None:
    waits: list[float] = []
    openai_script.add(UNAVAILABLE, chat(draft(FILES)))
    original = openai_script.handler

    def with_header(request: httpx2.Request) -> httpx2.Response:
        response = original(request)
        if response.status_code == 503:
            response.headers["retry-after"] = "0.25"
        return response

    openai_script.handler = with_header  # type: ignore[method-assign]
    set_on_retry_hooks([lambda d: waits.append(d.wait_for)])
    try:
        # Backoff alone would wait 20 s; the server's Retry-After says a quarter second.
        deps = make_deps(llm=real_llm(openai_script, backoff_initial=20, backoff_max=30))
        site = (await handle_task_submitted(submitted(BODY), deps))[0]
    finally:
        set_on_retry_hooks(None)
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert waits == [0.25]


async def test_budget_running_out_is_what_the_degraded_readme_says(
    openai_script: ScriptedOpenAI, make_deps: Any, registry: Any, real_backoff: None
) -> None:
    openai_script.repeat_last = True
    openai_script.add(UNAVAILABLE)
    deps = make_deps(llm=real_llm(openai_script, backoff_initial=0.05, backoff_max=0.2))

    site = (await handle_task_submitted(submitted(BODY, received_at=late(4)), deps))[0]

    assert isinstance(site, SiteGeneratedV1) and site.degraded
    reason = site.degraded_reason or ""
    calls = len(openai_script.requests)
    assert calls > 4  # not the old fixed four attempts: retried until the budget ran out
    assert f"failed {calls} times in a row" in reason
    assert "the generation budget ran out" in reason
    assert "HTTP 503 (InternalServerError)" in reason
    seconds = float(re.search(r"over ([0-9.]+) s", reason).group(1))  # type: ignore[union-attr]
    assert 0 < seconds <= 4
    readme = {f.path: f.content for f in site.files}["README.md"].decode()
    assert reason in readme
    assert "could not be reached" not in readme
    assert counter(registry, "pagesmith_generations_total", round="1", outcome="degraded") == 1


async def test_an_attempt_cap_is_named_as_such(
    openai_script: ScriptedOpenAI, make_deps: Any, real_backoff: None
) -> None:
    openai_script.repeat_last = True
    openai_script.add(UNAVAILABLE)
    deps = make_deps(llm=real_llm(openai_script, attempts=2))
    site = (await handle_task_submitted(submitted(BODY), deps))[0]
    assert isinstance(site, SiteGeneratedV1) and site.degraded
    assert len(openai_script.requests) == 2
    reason = site.degraded_reason or ""
    assert "failed 2 times in a row" in reason and "GENERATOR_LLM_ATTEMPTS" in reason
    assert "budget ran out" not in reason


async def test_no_budget_left_says_so(openai_script: ScriptedOpenAI, make_deps: Any) -> None:
    site = (await handle_task_submitted(submitted(BODY, received_at=late(-5)), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and site.degraded
    assert openai_script.requests == []
    assert "No model call was made" in (site.degraded_reason or "")


async def test_a_bug_in_assembling_is_raised_not_degraded(
    openai_script: ScriptedOpenAI,
    make_deps: Any,
    registry: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(**_: Any) -> Any:
        raise KeyError("files")

    monkeypatch.setattr(rounds, "assemble", broken)
    openai_script.add(chat(draft(FILES)))
    with pytest.raises(KeyError):
        await handle_task_submitted(submitted(BODY), make_deps())
    assert counter(registry, "pagesmith_generations_total", round="1", outcome="degraded") == 0
