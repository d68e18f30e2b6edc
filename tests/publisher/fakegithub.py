"""A call-recording, in-memory GitHub behind the publisher's ports (bedevere style).

It keeps just enough state (repos, blobs, trees, commits, refs, Pages) for the handlers'
real request sequences, and answers errors the way GitHub does (404, 409, 422).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gidgethub import sansio
from publisher.ports import Account, GitHubRequestError, UrlVars

BASE = "https://api.github.com"


def _sha(kind: str, payload: Any) -> str:
    return hashlib.sha1(f"{kind}:{json.dumps(payload, sort_keys=True)}".encode()).hexdigest()


@dataclass
class FakeRepo:
    owner: str
    name: str
    description: str
    created_at: str
    default_branch: str = "main"
    head: str | None = None
    pages: dict[str, Any] | None = None
    builds: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "full_name": f"{self.owner}/{self.name}",
            "owner": {"login": self.owner},
            "html_url": f"https://github.com/{self.owner}/{self.name}",
            "description": self.description,
            "created_at": self.created_at,
            "default_branch": self.default_branch,
            "private": False,
        }


class FakeGitHub:
    """Implements GitHubClient (for_task) and GitHub; records (method, path, data)."""

    def __init__(self, login: str = "pagesmith-dev", *, orgs: tuple[str, ...] = ()) -> None:
        self.login = login
        self.orgs = orgs
        self.owner_setting: str | None = None
        self.calls: list[tuple[str, str, Any]] = []
        self.repos: dict[tuple[str, str], FakeRepo] = {}
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, tuple[str, str]]] = {}
        self.commits: dict[str, dict[str, Any]] = {}
        self.faults: list[tuple[str, str, Exception]] = []  # (method, path regex, error)
        # How a build ends once Pages builds a commit: "built" or "errored".
        self.build_outcomes: list[str] = []
        self.build_on_push = True
        self.workflow_conclusion = "success"
        self.clock = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
        self._routes: list[tuple[str, re.Pattern[str], str]] = [
            ("GET", re.compile(r"/user"), "_get_user"),
            ("GET", re.compile(r"/users/(?P<o>[^/]+)"), "_get_users"),
            ("POST", re.compile(r"/user/repos"), "_create_user_repo"),
            ("POST", re.compile(r"/orgs/(?P<o>[^/]+)/repos"), "_create_org_repo"),
            ("GET", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"), "_get_repo"),
            ("GET", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/commits"), "_list_commits"),
            (
                "GET",
                re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/ref/heads/(?P<b>.+)"),
                "_get_ref",
            ),
            (
                "PATCH",
                re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/refs/heads/(?P<b>.+)"),
                "_patch_ref",
            ),
            ("POST", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/blobs"), "_post_blob"),
            (
                "GET",
                re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/blobs/(?P<s>\w+)"),
                "_get_blob",
            ),
            ("POST", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/trees"), "_post_tree"),
            (
                "GET",
                re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/trees/(?P<s>\w+)"),
                "_get_tree",
            ),
            ("POST", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/commits"), "_post_commit"),
            (
                "GET",
                re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/git/commits/(?P<s>\w+)"),
                "_get_commit",
            ),
            ("POST", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pages"), "_post_pages"),
            ("GET", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pages"), "_get_pages"),
            ("PUT", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pages"), "_put_pages"),
            (
                "GET",
                re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pages/builds/latest"),
                "_latest_build",
            ),
            (
                "POST",
                re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/pages/builds"),
                "_request_build",
            ),
            ("GET", re.compile(r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)/actions/runs"), "_list_runs"),
        ]

    # -- the ports ------------------------------------------------------------------------

    def for_task(self, deadline: datetime) -> FakeGitHub:
        return self

    async def account(self) -> Account:
        if self.owner_setting and self.owner_setting in self.orgs:
            return Account(self.owner_setting, is_org=True)
        return Account(self.login, is_org=False)

    async def getitem(self, url: str, url_vars: UrlVars | None = None) -> Any:
        return self._dispatch("GET", url, url_vars, None)

    async def post(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any:
        return self._dispatch("POST", url, url_vars, data)

    async def patch(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any:
        return self._dispatch("PATCH", url, url_vars, data)

    async def put(self, url: str, url_vars: UrlVars | None = None, *, data: Any) -> Any:
        return self._dispatch("PUT", url, url_vars, data)

    # -- helpers for tests ----------------------------------------------------------------

    def paths(self, method: str | None = None) -> list[str]:
        return [f"{m} {p}" for m, p, _ in self.calls if method is None or m == method]

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for m, p, _ in self.calls if m == method and re.fullmatch(pattern, p))

    def data_of(self, method: str, pattern: str) -> list[Any]:
        return [
            d for m, p, d in self.calls if m == method and re.fullmatch(pattern, p.split("?")[0])
        ]

    def add_repo(
        self, name: str, description: str, files: dict[str, bytes], *, age_minutes: int = 60
    ) -> FakeRepo:
        created = (self.clock - timedelta(minutes=age_minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
        repo = FakeRepo(self.login, name, description, created)
        self.repos[(self.login.lower(), name.lower())] = repo
        entries = {}
        for path, content in files.items():
            sha = _sha("blob", base64.b64encode(content).decode())
            self.blobs[sha] = content
            entries[path] = ("100644", sha)
        repo.head = self._commit(entries, "Initial commit", [])
        return repo

    def files_at(self, repo: FakeRepo, sha: str | None = None) -> dict[str, bytes]:
        tree = self.trees[self.commits[sha or repo.head or ""]["tree"]]
        return {p: self.blobs[b] for p, (_, b) in tree.items()}

    def push_commit(self, repo: FakeRepo, path: str, content: bytes) -> str:
        """Someone else moves the branch on."""
        blob = _sha("blob", base64.b64encode(content).decode())
        self.blobs[blob] = content
        tree = dict(self.trees[self.commits[repo.head or ""]["tree"]])
        tree[path] = ("100644", blob)
        repo.head = self._commit(tree, f"outside change to {path}", [repo.head or ""])
        return repo.head

    # -- machinery ------------------------------------------------------------------------

    def _dispatch(self, method: str, url: str, url_vars: UrlVars | None, data: Any) -> Any:
        full = sansio.format_url(url, dict(url_vars or {}), base_url=BASE)
        parts = urlsplit(full)
        path = parts.path
        record = path + (f"?{parts.query}" if parts.query else "")
        self.calls.append((method, record, data))
        for i, (fault_method, fault_path, error) in enumerate(self.faults):
            if fault_method == method and re.fullmatch(fault_path, path):
                del self.faults[i]
                raise error
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        for m, pattern, name in self._routes:
            match = pattern.fullmatch(path)
            if m == method and match:
                handler: Callable[..., Any] = getattr(self, name)
                return handler(data, query, **match.groupdict())
        raise GitHubRequestError(404, "Not Found")

    def _repo(self, o: str, r: str) -> FakeRepo:
        repo = self.repos.get((o.lower(), r.lower()))
        if repo is None:
            raise GitHubRequestError(404, "Not Found")
        return repo

    def _commit(self, tree: dict[str, tuple[str, str]], message: str, parents: list[str]) -> str:
        tree_sha = _sha("tree", sorted(tree.items()))
        self.trees[tree_sha] = dict(tree)
        self.clock += timedelta(seconds=1)
        sha = _sha("commit", [tree_sha, message, parents, self.clock.isoformat()])
        self.commits[sha] = {"tree": tree_sha, "message": message, "parents": parents}
        return sha

    def _get_user(self, data: Any, q: dict[str, str]) -> Any:
        return {"login": self.login, "type": "User"}

    def _get_users(self, data: Any, q: dict[str, str], o: str) -> Any:
        return {"login": o, "type": "Organization" if o in self.orgs else "User"}

    def _create(self, owner: str, data: dict[str, Any]) -> Any:
        key = (owner.lower(), data["name"].lower())
        if key in self.repos:
            raise GitHubRequestError(
                422,
                "Repository creation failed.",
                errors=[
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
            )
        assert data["auto_init"] is True
        self.clock += timedelta(seconds=1)
        repo = FakeRepo(
            owner, data["name"], data["description"], self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        readme = f"# {data['name']}\n".encode()
        blob = _sha("blob", base64.b64encode(readme).decode())
        self.blobs[blob] = readme
        repo.head = self._commit({"README.md": ("100644", blob)}, "Initial commit", [])
        self.repos[key] = repo
        return repo.json()

    def _create_user_repo(self, data: Any, q: dict[str, str]) -> Any:
        return self._create(self.login, data)

    def _create_org_repo(self, data: Any, q: dict[str, str], o: str) -> Any:
        return self._create(o, data)

    def _get_repo(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        return self._repo(o, r).json()

    def _list_commits(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        repo = self._repo(o, r)
        out: list[dict[str, Any]] = []
        sha = repo.head
        while sha and len(out) < int(q.get("per_page", 30)):
            out.append({"sha": sha, "commit": {"message": self.commits[sha]["message"]}})
            parents = self.commits[sha]["parents"]
            sha = parents[0] if parents else None
        return out

    def _get_ref(self, data: Any, q: dict[str, str], o: str, r: str, b: str) -> Any:
        repo = self._repo(o, r)
        return {"ref": f"refs/heads/{b}", "object": {"sha": repo.head, "type": "commit"}}

    def _ancestors(self, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(self.commits[s]["parents"])
        return seen

    def _patch_ref(self, data: Any, q: dict[str, str], o: str, r: str, b: str) -> Any:
        repo = self._repo(o, r)
        assert data["force"] is False
        if repo.head not in self._ancestors(data["sha"]):
            raise GitHubRequestError(422, "Update is not a fast forward")
        repo.head = data["sha"]
        if repo.pages is not None and self.build_on_push:
            if repo.pages["build_type"] == "legacy":
                self._build(repo)
            else:
                self._run(repo)
        return {"ref": f"refs/heads/{b}", "object": {"sha": repo.head}}

    def _post_blob(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        self._repo(o, r)
        assert data["encoding"] == "base64"
        sha = _sha("blob", data["content"])
        self.blobs[sha] = base64.b64decode(data["content"])
        return {"sha": sha}

    def _get_blob(self, data: Any, q: dict[str, str], o: str, r: str, s: str) -> Any:
        content = base64.encodebytes(self.blobs[s]).decode()  # wrapped, as GitHub does
        return {"sha": s, "content": content, "encoding": "base64", "size": len(self.blobs[s])}

    def _post_tree(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        tree = dict(self.trees[data["base_tree"]])
        for e in data["tree"]:
            if e["sha"] is None:
                if e["path"] not in tree:
                    raise GitHubRequestError(422, "GitRPC::BadObjectState")
                del tree[e["path"]]
            else:
                tree[e["path"]] = (e["mode"], e["sha"])
        sha = _sha("tree", sorted(tree.items()))
        self.trees[sha] = tree
        return {"sha": sha}

    def _get_tree(self, data: Any, q: dict[str, str], o: str, r: str, s: str) -> Any:
        entries: list[dict[str, Any]] = []
        dirs: set[str] = set()
        for path, (mode, blob) in sorted(self.trees[s].items()):
            parts = path.split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    entries.append({"path": d, "mode": "040000", "type": "tree", "sha": "0" * 40})
            entries.append(
                {
                    "path": path,
                    "mode": mode,
                    "type": "blob",
                    "sha": blob,
                    "size": len(self.blobs[blob]),
                }
            )
        return {"sha": s, "tree": entries, "truncated": False}

    def _post_commit(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        self._repo(o, r)
        tree = self.trees[data["tree"]]
        sha = self._commit(tree, data["message"], data["parents"])
        return {
            "sha": sha,
            "tree": {"sha": data["tree"]},
            "parents": [{"sha": p} for p in data["parents"]],
        }

    def _get_commit(self, data: Any, q: dict[str, str], o: str, r: str, s: str) -> Any:
        c = self.commits[s]
        return {
            "sha": s,
            "tree": {"sha": c["tree"]},
            "message": c["message"],
            "parents": [{"sha": p} for p in c["parents"]],
        }

    def _site(self, repo: FakeRepo) -> dict[str, Any]:
        assert repo.pages is not None
        return {**repo.pages, "html_url": f"https://{repo.owner.lower()}.github.io/{repo.name}/"}

    def _post_pages(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        repo = self._repo(o, r)
        if repo.pages is not None:
            raise GitHubRequestError(409, "GitHub Pages is already enabled.")
        repo.pages = {"build_type": data["build_type"], "source": data.get("source")}
        if data["build_type"] == "legacy":
            self._build(repo)
        else:
            self._run(repo)
        return self._site(repo)

    def _get_pages(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        repo = self._repo(o, r)
        if repo.pages is None:
            raise GitHubRequestError(404, "Not Found")
        return self._site(repo)

    def _put_pages(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        repo = self._repo(o, r)
        repo.pages = {"build_type": data["build_type"], "source": data.get("source")}
        return None

    def _build(self, repo: FakeRepo) -> None:
        outcome = self.build_outcomes.pop(0) if self.build_outcomes else "built"
        status = "errored" if outcome == "cancelled" else outcome
        message = {
            "errored": "Page build failed.",
            "cancelled": "Canceling since a higher priority waiting request for "
            "'pages build and deployment @ main' exists",
        }.get(outcome)
        self.clock += timedelta(seconds=1)
        repo.builds.append(
            {
                "url": f"{BASE}/repos/{repo.owner}/{repo.name}/pages/builds/{len(repo.builds) + 1}",
                "status": status,
                "commit": repo.head,
                "error": {"message": message},
                "created_at": self.clock.isoformat(),
            }
        )

    def _run(self, repo: FakeRepo) -> None:
        repo.runs.append(
            {"head_sha": repo.head, "status": "completed", "conclusion": self.workflow_conclusion}
        )

    def _latest_build(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        repo = self._repo(o, r)
        if not repo.builds:
            raise GitHubRequestError(404, "Not Found")
        return repo.builds[-1]

    def _request_build(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        repo = self._repo(o, r)
        self._build(repo)
        return {"url": repo.builds[-1]["url"], "status": "queued"}

    def _list_runs(self, data: Any, q: dict[str, str], o: str, r: str) -> Any:
        repo = self._repo(o, r)
        runs = [x for x in repo.runs if x["head_sha"] == q.get("head_sha")]
        return {"total_count": len(runs), "workflow_runs": runs}


class FakeSite:
    """SiteProbe: every URL answers `status` (200 unless told otherwise)."""

    def __init__(self, status: int | None = 200) -> None:
        self.status_code = status
        self.urls: list[str] = []

    async def status(self, url: str) -> int | None:
        self.urls.append(url)
        return self.status_code
