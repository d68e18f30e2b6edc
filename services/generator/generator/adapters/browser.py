"""Playwright + Debian's Chromium -> BrowserPort: serve the files on loopback, load, evaluate.

Every request Chromium makes goes through the egress proxy, which lets through the check's own
site and what the egress policy allows, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from aiohttp import web

from ..ports import BrowserReport, BrowserUnavailable, JsResult
from .egress_proxy import REFUSED_HEADER, EgressProxy

log = structlog.get_logger(__name__)

# Never `playwright install`; flags for a closed network. WebRTC may use only proxied
# connections (no UDP around the proxy), and Chromium does no DNS of its own.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--dns-prefetch-disable",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)
# Chromium starts with these variables only: never the model key or the broker password.
CHROMIUM_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "XDG_RUNTIME_DIR")
SITE_PREFIX = "/site/"  # Pages serves a project site under /<repo>/, so root-absolute paths break
SETTLE_MS = 3000
# A blocked stylesheet, image or font cannot make a JS check fail; a blocked script or fetch can.
COSMETIC = ("stylesheet", "image", "font", "media", "manifest", "texttrack", "other")
POLL_MS = 2500

EVALUATE = """async ([expr, pollMs]) => {
  const until = Date.now() + pollMs;
  let last = "";
  for (;;) {
    try {
      const value = await (0, eval)(expr);
      if (value) return {ok: true, detail: ""};
      let shown;
      try { shown = JSON.stringify(value); } catch (e) { shown = String(value); }
      last = "it evaluated to " + String(shown).slice(0, 120);
    } catch (e) {
      last = ((e && e.name) ? e.name + ": " + e.message : String(e)).slice(0, 300);
      if (e && e.name === "SyntaxError") return {ok: false, detail: last};
    }
    if (Date.now() > until) return {ok: false, detail: last};
    await new Promise((r) => setTimeout(r, 250));
  }
}"""


def _serve_app(files: Mapping[str, bytes]) -> web.Application:
    async def serve(request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path == "" or path.endswith("/"):
            path += "index.html"
        data = files.get(path)
        if data is None:
            return web.Response(status=404, text="not found")
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return web.Response(body=data, content_type=ctype)

    app = web.Application()
    app.router.add_get(SITE_PREFIX + "{path:.*}", serve)
    return app


def chromium_env(environ: Mapping[str, str]) -> dict[str, str | float | bool]:
    return {k: environ[k] for k in CHROMIUM_ENV if k in environ}


class ChromiumBrowser:
    """One headless Chromium per self-check, behind the shared egress proxy."""

    def __init__(self, executable_path: str, *, proxy: EgressProxy) -> None:
        self._path = executable_path
        self._proxy = proxy

    @classmethod
    def if_available(cls, executable_path: str, *, proxy: EgressProxy) -> ChromiumBrowser | None:
        if not os.access(executable_path, os.X_OK):
            return None
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            return None
        return cls(executable_path, proxy=proxy)

    async def check(
        self, files: Mapping[str, bytes], expressions: Sequence[str], *, page: str, timeout: float
    ) -> BrowserReport:
        runner = web.AppRunner(_serve_app(files), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        origin = f"http://127.0.0.1:{port}"
        try:
            async with asyncio.timeout(timeout):
                return await self._run(origin, page, expressions)
        except TimeoutError as exc:
            raise BrowserUnavailable(f"the self-check took longer than {timeout:.0f} s") from exc
        finally:
            await runner.cleanup()

    async def _run(self, origin: str, page_path: str, expressions: Sequence[str]) -> BrowserReport:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        await self._proxy.start()
        blocked: list[str] = []
        page_errors: list[str] = []
        console_errors: list[str] = []
        missing: list[str] = []

        def on_console(message: Any) -> None:
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                console_errors.append(message.text[:300])

        def on_response(response: Any) -> None:
            url = response.url
            if url.startswith(origin + SITE_PREFIX) and response.status == 404:
                missing.append(url[len(origin + SITE_PREFIX) :].split("?")[0])
            # The proxy's refusal of a plain-http request reaches the page as a 403 answer.
            refused = response.headers.get(REFUSED_HEADER.lower()) == "refused"
            if refused and response.request.resource_type not in COSMETIC:
                blocked.append(url)

        def on_failed(request: Any) -> None:
            external = not request.url.startswith(origin)
            if external and request.resource_type not in COSMETIC and request.url not in blocked:
                blocked.append(request.url)

        def on_page_error(error: Any) -> None:
            name = getattr(error, "name", "") or "Error"
            page_errors.append(f"{name}: {getattr(error, 'message', str(error))}"[:300])

        try:
            async with self._proxy.scope([origin]) as scope, async_playwright() as p:
                # The browser-wide proxy carries Chromium's own traffic; the check's context
                # gets a listener that also lets through the check's own site.
                browser = await p.chromium.launch(
                    executable_path=self._path,
                    args=list(CHROMIUM_ARGS),
                    env=chromium_env(os.environ),
                    proxy={"server": self._proxy.server},
                )
                try:
                    context = await browser.new_context(
                        bypass_csp=True,
                        service_workers="block",
                        proxy={"server": scope.server},
                    )
                    # Context-wide, so popups and workers are counted too.
                    context.on("response", on_response)
                    context.on("requestfailed", on_failed)
                    page = await context.new_page()
                    page.on("pageerror", on_page_error)
                    page.on("console", on_console)
                    await page.goto(f"{origin}{SITE_PREFIX}{page_path}", wait_until="load")
                    # Long-polling pages never go idle: evaluate anyway.
                    with contextlib.suppress(PlaywrightError):
                        await page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
                    results = []
                    # One shared polling window, so many failing checks cannot add up.
                    poll_until = time.monotonic() + POLL_MS / 1000
                    for expr in expressions:
                        poll_ms = max(0, int((poll_until - time.monotonic()) * 1000))
                        try:
                            out = await page.evaluate(EVALUATE, [expr, poll_ms])
                            results.append(JsResult(expr, bool(out["ok"]), str(out["detail"])))
                        except PlaywrightError as exc:
                            results.append(JsResult(expr, False, str(exc).splitlines()[0][:300]))
                finally:
                    await browser.close()
        except PlaywrightError as exc:
            if "Executable doesn't exist" in str(exc) or "Failed to launch" in str(exc):
                raise BrowserUnavailable(f"Chromium could not start: {str(exc)[:200]}") from exc
            raise
        return BrowserReport(
            results=tuple(results),
            page_errors=tuple(page_errors),
            console_errors=tuple(console_errors),
            blocked_requests=tuple(dict.fromkeys(blocked)),
            missing_files=tuple(dict.fromkeys(m for m in missing if m != "favicon.ico")),
        )
