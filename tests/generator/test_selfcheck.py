"""The browser self-check in headless Chromium, and the repair round it drives."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from generator.adapters.browser import ChromiumBrowser
from generator.adapters.egress_proxy import EgressProxy
from generator.draft import CheckAssertion
from generator.handlers.task_submitted import handle_task_submitted
from generator.ports import BrowserReport, JsResult
from generator.selfcheck import expressions_for, interpret, run_selfcheck
from pagesmith_contracts import Check, SelfCheckSummary, SiteGeneratedV1
from pagesmith_runtime.egress import EgressPolicy

from tests.support.egress import STANDIN, ScriptedResolver, Tripwire, serve, standin_policy

from .conftest import chat, counter, draft, make_settings, submitted

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} is not installed (apt-get install chromium); browser part skipped",
)

# The course's sum-of-sales task template, instantiated with its own parameters.
SUM_OF_SALES = {
    "email": "student@example.com",
    "secret": "s",
    "task": "sum-of-sales-3f9a1",
    "round": 1,
    "nonce": "019a3000-0000-7000-8000-000000000001",
    "brief": 'Publish a single-page site that fetches data.csv from attachments, sums its sales '
    'column, sets the title to "Sales Summary abc12", displays the total inside #total-sales, '
    "and loads Bootstrap 5 from jsdelivr.",
    "checks": [
        {"js": "document.title === `Sales Summary abc12`"},
        {"js": "!!document.querySelector(\"link[href*='bootstrap']\")"},
        {"js": 'Math.abs(parseFloat(document.querySelector("#total-sales").textContent) - 500.00)'
         " < 0.01"},
        "index.html shows the total in a Bootstrap card",
    ],
    "evaluation_url": "http://127.0.0.1:8787/evaluate",
    "attachments": [
        {"name": "data.csv", "url": "data:text/csv;base64,cHJvZHVjdCxyZWdpb24sc2FsZXMKV2lkZ2V0LE5v"
         "cnRoLDEyMC41MApHYWRnZXQsU291dGgsODAuMjUKV2lkZ2V0LEVhc3QsNDUuMDAKR2l6bW8sV2VzdCwyMDAuMD"
         "AKR2FkZ2V0LE5vcnRoLDU0LjI1Cg=="}
    ],
}  # fmt: skip


def page(total_expr: str) -> str:
    return f"""<!doctype html>
<html><head><title>Sales Summary abc12</title>
<script>
document.addEventListener("DOMContentLoaded", async () => {{
  const text = await (await fetch("data.csv")).text();
  const rows = text.trim().split("\\n").slice(1).map((l) => l.split(","));
  const total = {total_expr};
  document.querySelector("#total-sales").textContent = total.toFixed(2);
}});
</script>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.3/dist/css/bootstrap.min.css">
</head><body><div class="card"><div id="total-sales">0</div></div></body></html>
"""


@pytest.fixture
async def proxy() -> AsyncIterator[EgressProxy]:
    """No internet here: every name fails to resolve but localhost; 127.0.0.2 plays public."""
    p = EgressProxy(standin_policy(), resolver=ScriptedResolver({"localhost": [["127.0.0.1"]]}))
    yield p
    await p.close()


BROKEN = page("rows.length")  # counts rows instead of summing sales
FIXED = page("rows.reduce((s, r) => s + parseFloat(r[2]), 0)")
ASSERTION = [{"check": "index.html shows the total in a Bootstrap card",
              "js": "!!document.querySelector('.card #total-sales')"}]  # fmt: skip


@needs_chromium
async def test_failing_js_check_is_repaired_before_publishing(
    openai_script: Any, make_deps: Any, registry: Any, proxy: EgressProxy
) -> None:
    openai_script.add(
        chat(draft({"index.html": BROKEN, "README.md": "# Sales\n"}, assertions=ASSERTION)),
        chat(draft({"index.html": FIXED}, assertions=ASSERTION)),
    )
    deps = make_deps(
        settings=make_settings(selfcheck=True),
        browser=ChromiumBrowser(CHROMIUM, proxy=proxy),
    )
    site = (await handle_task_submitted(submitted(SUM_OF_SALES), deps))[0]

    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    files = {f.path: f.content for f in site.files}
    assert files["index.html"] == FIXED.encode()
    repair = openai_script.user_texts(1)
    assert '`Math.abs(parseFloat(document.querySelector("#total-sales")' in repair
    assert "is not truthy once index.html has loaded (it evaluated to false)" in repair
    # Two browser runs, one task: the task counts once, with the outcome of what shipped.
    assert counter(registry, "pagesmith_selfcheck_runs_total", outcome="failed") == 1
    assert counter(registry, "pagesmith_selfcheck_runs_total", outcome="passed") == 1
    assert counter(registry, "pagesmith_selfcheck_total", outcome="passed") == 1
    assert counter(registry, "pagesmith_selfcheck_total", outcome="failed") == 0
    assert counter(registry, "pagesmith_generations_total", round="1", outcome="repaired") == 1
    assert site.selfcheck is not None
    assert (site.selfcheck.outcome, site.selfcheck.passed, site.selfcheck.failed) == (
        "passed",
        4,
        (),
    )


@needs_chromium
async def test_browser_reports_errors_missing_files_and_english_text(proxy: EgressProxy) -> None:
    browser = ChromiumBrowser(CHROMIUM, proxy=proxy)
    files = {
        "index.html": b"<html><head><title>t</title><script>console.error('bad thing');"
        b"undefinedFn();</script><script src='https://cdn.example.com/lib.js'></script></head>"
        b"<body><img src='gone.png'><p id='x'>1</p></body></html>",
    }
    report = await browser.check(
        files,
        ["document.querySelector('#x').textContent === '1'", "index.html has a title"],
        page="index.html",
        timeout=30,
    )
    assert [r.passed for r in report.results] == [True, False]
    assert "SyntaxError" in report.results[1].detail
    assert report.console_errors == ("bad thing",)
    assert report.page_errors == ("ReferenceError: undefinedFn is not defined",)
    assert report.missing_files == ("gone.png",)
    assert report.blocked_requests == ("https://cdn.example.com/lib.js",)


async def test_without_chromium_the_self_check_is_skipped_and_counted(
    openai_script: Any, make_deps: Any, registry: Any
) -> None:
    proxy = EgressProxy(EgressPolicy())
    assert ChromiumBrowser.if_available("/nonexistent/chromium", proxy=proxy) is None
    await proxy.close()
    openai_script.add(chat(draft({"index.html": BROKEN, "README.md": "# Sales\n"})))
    deps = make_deps(settings=make_settings(selfcheck=True), browser=None)
    site = (await handle_task_submitted(submitted(SUM_OF_SALES), deps))[0]
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert counter(registry, "pagesmith_selfcheck_total", outcome="skipped") == 1
    assert len(openai_script.requests) == 1


def test_expressions_cover_js_checks_and_model_assertions() -> None:
    checks = (
        Check(text="document.title === 'x'", js=True),
        Check(text='!!document.querySelector("script").textContent.includes("fetch(")'),
        Check(text="Page displays the total"),
        Check(text="Repo has MIT license"),
    )
    assertions = [
        CheckAssertion(check="Page displays the total", js="!!document.body.textContent"),
        CheckAssertion(check="Repo has MIT license", js=None),
        CheckAssertion(check="not a real check", js="false"),
    ]
    exprs = expressions_for(checks, assertions)
    assert [(e.source, e.js) for e in exprs] == [
        ("js", "document.title === 'x'"),
        ("text", '!!document.querySelector("script").textContent.includes("fetch(")'),
        ("assertion", "!!document.body.textContent"),
    ]


def test_blocked_scripts_make_check_failures_unverified_but_404s_stay() -> None:
    exprs = expressions_for((Check(text="window.marked !== undefined", js=True),), [])
    report = BrowserReport(
        results=(JsResult("window.marked !== undefined", False, "it evaluated to false"),),
        blocked_requests=("https://cdn.jsdelivr.net/npm/marked/marked.min.js",),
    )
    assert interpret(report, exprs).outcome == "unverified"
    with_404 = BrowserReport(results=report.results, blocked_requests=report.blocked_requests,
                             missing_files=("data.csv",))  # fmt: skip
    result = interpret(with_404, exprs)
    assert result.outcome == "failed" and len(result.problems) == 1


async def test_no_index_html_skips_the_browser() -> None:
    result = await run_selfcheck(None, {"a.txt": b"x"}, (), (), timeout=5)
    assert result.outcome == "skipped"


@pytest.fixture
async def inside() -> AsyncIterator[Tripwire]:
    """An internal server on loopback that nothing in a self-check may reach."""
    wire = await Tripwire().start("127.0.0.1")
    yield wire
    await wire.stop()


class Outside:
    """A stand-in internet host on 127.0.0.2: /to?kind= answers 302 to the internal server."""

    def __init__(self, inside: Tripwire) -> None:
        self.inside = inside
        self.hits: list[str] = []
        self.url = ""
        self.on_ok: list[Any] = []

    async def to(self, request: web.Request) -> web.Response:
        kind = request.query["kind"]
        self.hits.append(kind)
        location = f"http://127.0.0.1:{self.inside.port}/{kind}"
        raise web.HTTPFound(location, headers={"Access-Control-Allow-Origin": "*"})

    async def ok(self, request: web.Request) -> web.Response:
        self.hits.append("ok")
        for hook in self.on_ok:
            hook()
        return web.Response(text="fine", headers={"Access-Control-Allow-Origin": "*"})


@pytest.fixture
async def outside(inside: Tripwire) -> AsyncIterator[Outside]:
    host = Outside(inside)
    app = web.Application()
    app.router.add_get("/to", host.to)
    app.router.add_get("/ok", host.ok)
    runner, port = await serve(app, STANDIN)
    host.url = f"http://{STANDIN}:{port}"
    yield host
    await runner.cleanup()


REDIRECTED = {
    "iframe": '<iframe src="{R}/to?kind=iframe"></iframe>',
    "img": '<img src="{R}/to?kind=img">',
    "fetch": '<script>window.done = fetch("{R}/to?kind=fetch").then(r => r.status, e => 0);'
    "</script>",
    "navigation": '<script>addEventListener("load", () => {{ location.href = "{R}/to?kind='
    'navigation"; }});</script>',
}


@needs_chromium
@pytest.mark.parametrize("kind", REDIRECTED)
async def test_a_redirect_from_an_allowed_host_to_loopback_reaches_nothing(
    proxy: EgressProxy, inside: Tripwire, outside: Outside, kind: str
) -> None:
    html = "<html><body>" + REDIRECTED[kind].format(R=outside.url) + "</body></html>"
    wait = "window.done ? window.done.then(() => true) : true"
    report = await ChromiumBrowser(CHROMIUM, proxy=proxy).check(
        {"index.html": html.encode()}, [wait], page="index.html", timeout=30
    )
    assert kind in outside.hits  # the browser did follow the page to the allowed host
    assert inside.hits == []  # and the redirect inward was refused
    if kind != "img":  # images are cosmetic: they cannot make a check fail
        assert f"http://127.0.0.1:{inside.port}/{kind}" in report.blocked_requests


@needs_chromium
async def test_direct_requests_inward_reach_nothing_while_allowed_hosts_load(
    proxy: EgressProxy, inside: Tripwire, outside: Outside
) -> None:
    port = inside.port
    html = f"""<html><body>
<img src="http://127.0.0.1:{port}/img"><img src="http://localhost:{port}/name">
<iframe src="https://127.0.0.1:{port}/tls"></iframe>
<script>
window.ws = new Promise((ok) => {{
  const ws = new WebSocket("ws://127.0.0.1:{port}/ws");
  ws.onerror = ws.onclose = () => ok("closed");
}});
window.direct = fetch("http://127.0.0.1:{port}/fetch").then(r => r.status, e => "failed");
window.fine = fetch("{outside.url}/ok").then(r => r.text(), e => String(e));
</script></body></html>"""
    report = await ChromiumBrowser(CHROMIUM, proxy=proxy).check(
        {"index.html": html.encode()},
        ["window.fine.then(t => t === 'fine')", "window.ws.then(s => s === 'closed')"],
        page="index.html",
        timeout=30,
    )
    assert [r.passed for r in report.results] == [True, True], report.results
    assert inside.hits == []
    assert "ok" in outside.hits


@needs_chromium
async def test_chromium_runs_without_the_services_secrets(
    proxy: EgressProxy, outside: Outside, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-must-not-reach-chromium-4b1d"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("AMQP_URL", f"amqp://guest:{secret}@127.0.0.1/")
    environs: list[bytes] = []

    def read_chromium_environments() -> None:
        # While the page is loading: every Chromium process descending from this test.
        parents: dict[int, int] = {}
        for proc in Path("/proc").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (proc / "stat").read_text()
                parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        for pid in parents:
            ancestor = parents.get(pid)
            while ancestor and ancestor != os.getpid():
                ancestor = parents.get(ancestor)
            with contextlib.suppress(OSError):
                if ancestor and b"chromium" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    environs.append(Path(f"/proc/{pid}/environ").read_bytes())

    outside.on_ok.append(read_chromium_environments)
    html = f'<script>window.done = fetch("{outside.url}/ok").then(r => r.text());</script>'
    report = await ChromiumBrowser(CHROMIUM, proxy=proxy).check(
        {"index.html": html.encode()}, ["window.done"], page="index.html", timeout=30
    )
    assert report.results[0].passed
    assert environs, "no Chromium process found"
    assert all(secret.encode() not in env for env in environs)
    assert all(b"AMQP_URL=" not in env and b"OPENAI" not in env for env in environs)


class AlwaysFailing:
    """A browser whose page never shows the total: every repair still fails that check."""

    def __init__(self) -> None:
        self.runs = 0

    async def check(
        self, files: Any, expressions: Any, *, page: str, timeout: float
    ) -> BrowserReport:
        self.runs += 1
        return BrowserReport(
            results=tuple(
                JsResult(e, "total-sales" not in e, "" if "total-sales" not in e else "it "
                         "evaluated to false")
                for e in expressions
            )
        )  # fmt: skip


async def test_failing_checks_published_anyway_are_their_own_outcome_counted_once(
    openai_script: Any, make_deps: Any, registry: Any
) -> None:
    openai_script.repeat_last = True
    openai_script.add(chat(draft({"index.html": BROKEN, "README.md": "# Sales\n"})))
    browser = AlwaysFailing()
    deps = make_deps(settings=make_settings(selfcheck=True, max_repair_rounds=2), browser=browser)

    with structlog.testing.capture_logs() as logs:
        site = (await handle_task_submitted(submitted(SUM_OF_SALES), deps))[0]

    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert browser.runs == 3  # the first draft and two repairs
    total = SUM_OF_SALES["checks"][2]["js"]  # type: ignore[index]
    assert site.selfcheck == SelfCheckSummary(
        outcome="failed", passed=2, failed=(total,), unverified=1
    )
    generations = "pagesmith_generations_total"
    assert counter(registry, generations, round="1", outcome="failing_checks") == 1
    assert counter(registry, generations, round="1", outcome="repaired") == 0
    assert counter(registry, "pagesmith_selfcheck_total", outcome="failed") == 1  # one task
    assert counter(registry, "pagesmith_selfcheck_runs_total", outcome="failed") == 3
    [warning] = [e for e in logs if e["event"] == "publishing with failing checks"]
    assert warning["failed_checks"] == [total]
