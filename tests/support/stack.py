"""The whole of Pagesmith as real processes: forge, llm stub, the services, one vhost.

The tracker joins when a test starts it by name and gives the stack a database URL.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .procs import Proc, command, free_port
from .receiver import CallbackReceiver

SECRET = "e2e-gateway-secret-0b7c"
FORGE_TOKEN = "forge-e2e-token-5d1a"
STUB_KEY = "sk-e2e-stub-key-9f3e"
TRACKER_TOKEN = "tracker-e2e-token-7c41aa0d"
PIPELINE = ("forge", "llm-stub", "gateway", "generator", "publisher", "notifier")


def http_json(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("User-Agent", "pagesmith-tests")
    if token:
        req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@dataclass
class Stack:
    amqp_url: str
    tmp: Path
    receiver: CallbackReceiver
    pages_build_seconds: float = 0.3
    database_url: str | None = None
    procs: dict[str, Proc] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def forge(self) -> str:
        return f"http://127.0.0.1:{self.ports['forge']}"

    @property
    def api(self) -> str:
        return f"{self.forge}/api/v3"

    @property
    def stub(self) -> str:
        return f"http://127.0.0.1:{self.ports['llm-stub']}"

    @property
    def tracker(self) -> str:
        return f"http://127.0.0.1:{self.ports['tracker']}"

    def _spec(self, name: str) -> Proc:
        common = {
            "AMQP_URL": self.amqp_url,
            "PAGESMITH_LOG_LEVEL": "INFO",
            "PAGESMITH_OPS_HOST": "127.0.0.1",
        }
        p = self.ports
        specs: dict[str, tuple[str, dict[str, str], str]] = {
            "forge": (
                "pagesmith-forge",
                {
                    "FORGE_PORT": str(p["forge"]),
                    "FORGE_TOKEN": FORGE_TOKEN,
                    "FORGE_DATA_DIR": str(self.tmp / "forge"),
                    "FORGE_PAGES_BUILD_SECONDS": str(self.pages_build_seconds),
                },
                f"http://127.0.0.1:{p['forge']}/_forge/healthz",
            ),
            "llm-stub": (
                "pagesmith-llm-stub",
                {
                    "LLM_STUB_PORT": str(p["llm-stub"]),
                    "LLM_STUB_KEY": STUB_KEY,
                },
                f"http://127.0.0.1:{p['llm-stub']}/_stub/healthz",
            ),
            "gateway": (
                "pagesmith-gateway",
                {
                    **common,
                    "GATEWAY_SECRET": SECRET,
                    "GATEWAY_PORT": str(p["gateway"]),
                    "GATEWAY_HOST": "127.0.0.1",
                    **(
                        {"GATEWAY_STATUS_URL": f"http://127.0.0.1:{p['tracker']}"}
                        if "tracker" in p
                        else {}
                    ),
                },
                f"http://127.0.0.1:{p['gateway']}/readyz",
            ),
            "generator": (
                "pagesmith-generator",
                {
                    **common,
                    "OPENAI_API_KEY": STUB_KEY,
                    "OPENAI_BASE_URL": f"{self.stub}/v1",
                    "GENERATOR_MODEL": "gpt-4.1-mini",
                    "GENERATOR_PORT": str(p["generator"]),
                },
                f"http://127.0.0.1:{p['generator']}/readyz",
            ),
            "publisher": (
                "pagesmith-publisher",
                {
                    **common,
                    "GITHUB_TOKEN": FORGE_TOKEN,
                    "GITHUB_API_URL": self.api,
                    "PUBLISHER_PORT": str(p["publisher"]),
                    "PUBLISHER_PAGES_POLL_INITIAL_SECONDS": "0.2",
                },
                f"http://127.0.0.1:{p['publisher']}/readyz",
            ),
            "notifier": (
                "pagesmith-notifier",
                {
                    **common,
                    "NOTIFIER_PORT": str(p["notifier"]),
                    "PAGESMITH_ALLOW_PRIVATE_EGRESS": "1",
                },
                f"http://127.0.0.1:{p['notifier']}/readyz",
            ),
        }
        if name == "tracker":
            assert self.database_url, "the tracker needs Stack.database_url"
            specs["tracker"] = (
                "pagesmith-tracker",
                {
                    **common,
                    "TRACKER_DATABASE_URL": self.database_url,
                    "TRACKER_TOKEN": TRACKER_TOKEN,
                    "TRACKER_PORT": str(p["tracker"]),
                    "TRACKER_HOST": "127.0.0.1",
                    "TRACKER_SSE_HEARTBEAT_SECONDS": "2",
                },
                f"http://127.0.0.1:{p['tracker']}/readyz",
            )
        cmd, env, ready = specs[name]
        env = {**env, **self.extra_env.get(name, {})}
        return Proc(name, [command(cmd)], env, self.tmp / "logs" / f"{name}.log", ready)

    def start(self, *names: str) -> Stack:
        names = names or PIPELINE
        for name in names:
            self.ports.setdefault(name, free_port())
        for name in names:
            self.procs[name] = self._spec(name).start()
        for name in names:
            self.procs[name].wait_ready(60)
        return self

    def restart(self, name: str) -> Proc:
        self.procs[name] = self._spec(name).start().wait_ready(60)
        return self.procs[name]

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"===== {n}\n{p.log()}" for n, p in self.procs.items())

    # --- the forge and the stub, as tests see them
    def github(self, path: str) -> Any:
        return http_json("GET", f"{self.api}{path}", token=FORGE_TOKEN)

    def tracked(self, path: str) -> Any:
        """GET a tracker API path with the stack's token."""
        req = urllib.request.Request(
            f"{self.tracker}{path}", headers={"Authorization": f"Bearer {TRACKER_TOKEN}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def forge_requests(self) -> list[dict[str, Any]]:
        return http_json("GET", f"{self.forge}/_forge/requests")  # type: ignore[no-any-return]

    def script(self, responses: list[dict[str, Any]], match: str | None = None) -> None:
        http_json("POST", f"{self.stub}/_stub/scripts", {"match": match, "responses": responses})

    def stub_requests(self) -> list[dict[str, Any]]:
        return http_json("GET", f"{self.stub}/_stub/requests")["requests"]  # type: ignore[no-any-return]

    def task_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "email": "student@example.com",
            "secret": SECRET,
            "task": "sum-of-sales-3f9a1",
            "round": 1,
            "nonce": "019a252d-a236-748a-836e-afd11f49bc4b",
            "brief": "Publish a single-page site that fetches data.csv from attachments, sums its "
            "sales column and displays the total inside #total-sales.",
            "checks": [{"js": "!!document.querySelector('#total-sales')"}],
            "evaluation_url": self.receiver.url,
            "attachments": [],
        }
        body.update(overrides)
        return body

    def post_task(self, body: dict[str, Any]) -> tuple[int, Any]:
        req = urllib.request.Request(
            f"{self.gateway}/api/tasks",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def draft(
    files: dict[str, str], *, message: str = "Build the app", deleted: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A SiteDraft answer for the stub to return."""
    return {
        "content": {
            "files": [{"path": p, "content": c} for p, c in files.items()],
            "deleted": list(deleted),
            "edited_attachments": [],
            "commit_message": message,
            "description": "A small sales summary page",
            "assertions": [],
        }
    }
