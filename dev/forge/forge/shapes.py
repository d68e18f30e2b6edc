"""JSON shapes of GitHub's resources (users, repos, git objects, Pages, runs)."""

from __future__ import annotations

import base64
import zlib
from typing import Any

from dulwich.objects import Commit

from . import gitdata
from .accounts import Account
from .store import PagesBuild, RepoRecord, WorkflowRun
from .urls import Urls

UNSIGNED = {
    "verified": False,
    "reason": "unsigned",
    "signature": None,
    "payload": None,
    "verified_at": None,
}


def node_id(kind: str, ident: object) -> str:
    return base64.b64encode(f"{kind}:{ident}".encode()).decode().rstrip("=")


def user(urls: Urls, account: Account) -> dict[str, Any]:
    """A simple-user object, as nested in repos, builds and commits."""
    api = urls.user_api(account.login)
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id(account.type, account.id),
        "avatar_url": f"{urls.base}/avatars/{account.login}",
        "gravatar_id": "",
        "url": api,
        "html_url": urls.user_html(account.login),
        "repos_url": f"{api}/repos",
        "type": account.type,
        "site_admin": False,
    }


def repo(urls: Urls, record: RepoRecord, owner: Account, *, admin: bool) -> dict[str, Any]:
    full = record.full_name
    api = urls.repo_api(full)
    visibility = "private" if record.private else "public"
    return {
        "id": record.id,
        "node_id": node_id("Repository", record.id),
        "name": record.name,
        "full_name": full,
        "private": record.private,
        "owner": user(urls, owner),
        "html_url": urls.repo_html(full),
        "description": record.description,
        "fork": False,
        "url": api,
        "commits_url": f"{api}/commits{{/sha}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "pushed_at": record.pushed_at,
        "git_url": urls.clone(full).replace("http", "git", 1),
        "clone_url": urls.clone(full),
        "homepage": record.homepage,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "has_issues": record.has_issues,
        "has_projects": record.has_projects,
        "has_downloads": True,
        "has_wiki": record.has_wiki,
        "has_pages": record.pages is not None,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": record.archived,
        "disabled": False,
        "open_issues_count": 0,
        "license": None,
        "allow_forking": True,
        "is_template": record.is_template,
        "web_commit_signoff_required": False,
        "topics": list(record.topics),
        "visibility": visibility,
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": record.default_branch,
        "permissions": {
            "admin": admin,
            "maintain": admin,
            "push": admin,
            "triage": admin,
            "pull": True,
        },
    }


def ref(urls: Urls, full: str, name: str, sha: str, kind: str) -> dict[str, Any]:
    api = urls.repo_api(full)
    return {
        "ref": name,
        "node_id": node_id("Ref", f"{full}:{name}"),
        "url": f"{api}/git/{name}",
        "object": {"sha": sha, "type": kind, "url": f"{api}/git/{kind}s/{sha}"},
    }


def person(p: gitdata.Person) -> dict[str, str]:
    return {"name": p.name, "email": p.email, "date": p.date}


def git_commit(urls: Urls, full: str, commit: Commit) -> dict[str, Any]:
    """A git data API commit."""
    api = urls.repo_api(full)
    sha = commit.id.decode()
    author, committer = gitdata.people(commit)
    return {
        "sha": sha,
        "node_id": node_id("Commit", f"{full}:{sha}"),
        "url": f"{api}/git/commits/{sha}",
        "html_url": f"{urls.repo_html(full)}/commit/{sha}",
        "author": person(author),
        "committer": person(committer),
        "message": commit.message.decode(errors="replace"),
        "tree": {"sha": commit.tree.decode(), "url": f"{api}/git/trees/{commit.tree.decode()}"},
        "parents": [_parent(urls, full, p.decode()) for p in commit.parents],
        "verification": UNSIGNED,
    }


def commit(urls: Urls, full: str, c: Commit) -> dict[str, Any]:
    """A repos API commit (the /commits listing and single-commit shape, without files)."""
    api = urls.repo_api(full)
    sha = c.id.decode()
    author, committer = gitdata.people(c)
    return {
        "sha": sha,
        "node_id": node_id("Commit", f"{full}:{sha}"),
        "commit": {
            "author": person(author),
            "committer": person(committer),
            "message": c.message.decode(errors="replace"),
            "tree": {"sha": c.tree.decode(), "url": f"{api}/git/trees/{c.tree.decode()}"},
            "url": f"{api}/git/commits/{sha}",
            "comment_count": 0,
            "verification": UNSIGNED,
        },
        "url": f"{api}/commits/{sha}",
        "html_url": f"{urls.repo_html(full)}/commit/{sha}",
        "comments_url": f"{api}/commits/{sha}/comments",
        "author": None,
        "committer": None,
        "parents": [_parent(urls, full, p.decode()) for p in c.parents],
    }


def _parent(urls: Urls, full: str, sha: str) -> dict[str, str]:
    return {
        "sha": sha,
        "url": f"{urls.repo_api(full)}/git/commits/{sha}",
        "html_url": f"{urls.repo_html(full)}/commit/{sha}",
    }


def tree_entry(urls: Urls, full: str, entry: gitdata.Entry, size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": entry.path,
        "mode": gitdata.mode_str(entry.mode),
        "type": entry.kind,
        "sha": entry.sha,
    }
    if size is not None:
        out["size"] = size
    if entry.kind != "commit":
        out["url"] = f"{urls.repo_api(full)}/git/{entry.kind}s/{entry.sha}"
    return out


def pages_site(urls: Urls, record: RepoRecord) -> dict[str, Any]:
    pages = record.pages
    assert pages is not None
    return {
        "url": f"{urls.repo_api(record.full_name)}/pages",
        "status": site_status(record),
        "cname": None,
        "custom_404": False,
        "html_url": urls.pages(record.full_name),
        "build_type": pages.build_type,
        "source": {"branch": pages.branch, "path": pages.path},
        "public": True,
        "protected_domain_state": None,
        "pending_domain_unverified_at": None,
        "https_enforced": True,
    }


def site_status(record: RepoRecord) -> str | None:
    """Legacy sites mirror their latest build; workflow sites their latest default-branch run."""
    pages = record.pages
    if pages is None:
        return None
    if pages.build_type == "legacy":
        return record.builds[-1].status if record.builds else None
    runs = [r for r in record.runs if r.head_branch == record.default_branch]
    if not runs:
        return None
    last = runs[-1]
    if last.status != "completed":
        return "queued" if last.status == "queued" else "building"
    return "built" if last.conclusion == "success" else "errored"


def pages_build(
    urls: Urls, record: RepoRecord, build: PagesBuild, pusher: Account | None
) -> dict[str, Any]:
    return {
        "url": f"{urls.repo_api(record.full_name)}/pages/builds/{build.id}",
        "status": build.status,
        "error": {"message": build.error},
        "pusher": user(urls, pusher) if pusher else None,
        "commit": build.commit,
        "duration": build.duration,
        "created_at": build.created_at,
        "updated_at": build.updated_at,
    }


def workflow_run(
    urls: Urls, record: RepoRecord, run: WorkflowRun, owner: Account, actor: Account | None
) -> dict[str, Any]:
    api = urls.repo_api(record.full_name)
    return {
        "id": run.id,
        "name": run.name,
        "node_id": node_id("WorkflowRun", run.id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": f"{run.path}@{run.head_branch}",
        "display_title": run.message.split("\n", 1)[0],
        "run_number": run.run_number,
        "run_attempt": 1,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": zlib.crc32(f"{record.id}:{run.path}".encode()),
        "url": f"{api}/actions/runs/{run.id}",
        "html_url": f"{urls.repo_html(record.full_name)}/actions/runs/{run.id}",
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "run_started_at": run.created_at,
        "actor": user(urls, actor) if actor else None,
        "triggering_actor": user(urls, actor) if actor else None,
        "head_commit": {"id": run.head_sha, "message": run.message},
        "repository": {
            "id": record.id,
            "name": record.name,
            "full_name": record.full_name,
            "private": record.private,
            "owner": user(urls, owner),
            "html_url": urls.repo_html(record.full_name),
            "url": api,
        },
    }
