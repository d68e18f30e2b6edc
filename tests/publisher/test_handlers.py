"""Handler logic against a call-recording FakeGitHub: exact URLs and payloads."""

from __future__ import annotations

import base64

import pytest
from pagesmith_contracts import RepoCheckedOutV1, SelfCheckSummary, SiteFile, SitePublishedV1
from pagesmith_runtime import PermanentError, TransientError
from publisher.commits import has_trailer
from publisher.handlers.site_generated import handle_site_generated
from publisher.handlers.task_submitted import handle_task_submitted
from publisher.naming import description_for, marker_for
from publisher.ports import GitHubRequestError

from .conftest import PNG, generated, make_deps, site_files, submitted, task_ref
from .fakegithub import FakeGitHub, FakeSite

OWNER = "pagesmith-dev"


async def publish_round1(
    gh: FakeGitHub, task: str = "ShareVolume", nonce: str = "n-1"
) -> SitePublishedV1:
    ref = task_ref(task, nonce=nonce)
    [event] = await handle_site_generated(generated(ref), make_deps(gh))
    assert isinstance(event, SitePublishedV1)
    return event


async def test_round_1_creates_commits_and_enables_pages(gh: FakeGitHub) -> None:
    ref = task_ref()
    deps = make_deps(gh)
    [event] = await handle_site_generated(generated(ref), deps)

    assert isinstance(event, SitePublishedV1)
    repo = gh.repos[(OWNER, "sharevolume")]
    assert event.repo_url == f"https://github.com/{OWNER}/ShareVolume"
    assert event.commit_sha == repo.head
    assert event.pages_url == f"https://{OWNER}.github.io/ShareVolume/"
    assert (event.task, event.subject, event.degraded) == (ref, ref.task_id, False)

    [create] = gh.data_of("POST", "/user/repos")
    assert create == {
        "name": "ShareVolume",
        "description": description_for(
            "A page that shows share volume", "ShareVolume", marker_for(ref.repo_key, ref.task_id)
        ),
        "private": False,
        "auto_init": True,
        "has_issues": False,
        "has_wiki": False,
        "has_projects": False,
    }
    blobs = gh.data_of("POST", r"/repos/pagesmith-dev/ShareVolume/git/blobs")
    assert len(blobs) == len(site_files())
    assert all(b["encoding"] == "base64" for b in blobs)
    [tree] = gh.data_of("POST", r"/repos/pagesmith-dev/ShareVolume/git/trees")
    initial = gh.commits[repo.head]["parents"][0]
    assert tree["base_tree"] == gh.commits[initial]["tree"]
    assert {(e["path"], e["mode"]) for e in tree["tree"]} == {
        (f.path, f.mode) for f in site_files()
    }
    [commit] = gh.data_of("POST", r"/repos/pagesmith-dev/ShareVolume/git/commits")
    assert commit["parents"] == [initial]
    assert commit["message"] == f"Add the site\n\nPagesmith-Task: {ref.task_id}\n"
    assert gh.data_of("PATCH", r"/repos/pagesmith-dev/ShareVolume/git/refs/heads/main") == [
        {"sha": event.commit_sha, "force": False}
    ]
    assert gh.data_of("POST", r"/repos/pagesmith-dev/ShareVolume/pages") == [
        {"build_type": "legacy", "source": {"branch": "main", "path": "/"}}
    ]
    assert gh.files_at(repo) == {
        **{f.path: f.content for f in site_files()},
        "README.md": b"# ShareVolume\n",
    }
    assert deps.metrics.repos_created._value.get() == 1
    assert deps.site.urls == [event.pages_url]  # type: ignore[attr-defined]


async def test_the_selfcheck_summary_is_carried_into_site_published(gh: FakeGitHub) -> None:
    summary = SelfCheckSummary(outcome="failed", passed=2, failed=("!!window.chart",))
    [event] = await handle_site_generated(generated(task_ref(), selfcheck=summary), make_deps(gh))
    assert isinstance(event, SitePublishedV1) and event.selfcheck == summary


async def test_redelivery_reuses_the_repository_and_the_commit(gh: FakeGitHub) -> None:
    ref = task_ref()
    [first] = await handle_site_generated(generated(ref), make_deps(gh))
    calls_before = len(gh.calls)
    deps = make_deps(gh)
    [second] = await handle_site_generated(generated(ref), deps)

    assert second.model_dump(exclude={"id", "time"}) == first.model_dump(exclude={"id", "time"})
    later = gh.calls[calls_before:]
    assert not [c for c in later if c[0] == "POST" and c[1] in ("/user/repos",)]
    assert not [c for c in later if c[1].endswith(("/git/commits", "/git/blobs", "/git/trees"))]
    assert len(gh.repos) == 1
    assert deps.metrics.commits.labels(round="1", outcome="reused")._value.get() == 1
    assert deps.metrics.repos_reused._value.get() == 1
    # Still the head (a crash after committing): Pages is still asked whether it serves it.
    assert deps.site.urls == [first.pages_url]  # type: ignore[attr-defined]


async def test_a_replayed_round_1_after_round_2_is_reported_without_waiting(
    gh: FakeGitHub,
) -> None:
    # Little budget left, so a wait for Pages (what used to happen) ends this test quickly.
    ref1 = task_ref(minutes_left=1.5)
    [first] = await handle_site_generated(generated(ref1), make_deps(gh))
    ref2 = task_ref(round=2, nonce="n-2")
    [second] = await handle_site_generated(generated(ref2), make_deps(gh))
    assert isinstance(first, SitePublishedV1) and isinstance(second, SitePublishedV1)
    calls_before = len(gh.calls)
    deps = make_deps(gh)

    [replay] = await handle_site_generated(generated(ref1), deps)

    assert isinstance(replay, SitePublishedV1)
    assert (replay.repo_url, replay.commit_sha) == (first.repo_url, first.commit_sha)
    assert replay.pages_url == first.pages_url
    repo = gh.repos[(OWNER, "sharevolume")]
    assert repo.head == second.commit_sha  # nothing committed, nothing moved
    later = [(method, path) for method, path, _ in gh.calls[calls_before:]]
    assert not [c for c in later if c[0] != "GET"]
    assert not [c for c in later if c[1].endswith("/pages/builds/latest")]
    assert ("GET", "/repos/pagesmith-dev/ShareVolume/pages") in later
    assert deps.site.urls == []  # type: ignore[attr-defined]


async def test_a_resent_round_1_gets_a_suffixed_repository(gh: FakeGitHub) -> None:
    first = await publish_round1(gh, nonce="n-1")
    again = await publish_round1(gh, nonce="n-2")
    assert first.repo_url.endswith("/ShareVolume")
    assert again.repo_url.endswith("/ShareVolume-2")
    assert gh.count("GET", "/repos/pagesmith-dev/ShareVolume") == 2
    assert gh.count("GET", "/repos/pagesmith-dev/ShareVolume-2") == 1


async def test_someone_elses_repository_of_the_same_name_is_skipped(gh: FakeGitHub) -> None:
    gh.add_repo("ShareVolume", "An unrelated project", {"a.txt": b"a"})
    event = await publish_round1(gh)
    assert event.repo_url.endswith("/ShareVolume-2")


async def test_a_creation_race_is_resolved_by_probing_again(gh: FakeGitHub) -> None:
    ref = task_ref()
    original = gh._create

    def racing_create(owner: str, data: dict[str, object]) -> object:
        gh._create = original  # type: ignore[method-assign]
        original(owner, {**data, "description": "a twin's"})
        return original(owner, data)  # now 422: name already exists

    gh._create = racing_create  # type: ignore[method-assign]
    [event] = await handle_site_generated(generated(ref), make_deps(gh))
    assert event.repo_url.endswith("/ShareVolume-2")  # type: ignore[attr-defined]


def race_with_a_twin(gh: FakeGitHub, *, hidden_for: int) -> None:
    """A twin delivery creates this very repository first; it then 404s for `hidden_for` probes."""
    original = gh._create

    def racing_create(owner: str, data: dict[str, object]) -> object:
        gh._create = original  # type: ignore[method-assign]
        original(owner, data)
        not_found = GitHubRequestError(404, "Not Found")
        gh.faults += [("GET", "/repos/pagesmith-dev/ShareVolume", not_found)] * hidden_for
        return original(owner, data)  # now 422: name already exists

    gh._create = racing_create  # type: ignore[method-assign]


async def test_a_twins_repository_that_shows_up_late_is_reused(gh: FakeGitHub) -> None:
    race_with_a_twin(gh, hidden_for=2)
    [event] = await handle_site_generated(generated(task_ref()), make_deps(gh))
    assert event.repo_url.endswith("/ShareVolume")  # type: ignore[attr-defined]
    assert len(gh.repos) == 1
    # The free-name probe, two that still miss the twin's repository, and the one that sees it.
    assert gh.count("GET", "/repos/pagesmith-dev/ShareVolume") == 4


async def test_a_taken_name_that_never_shows_up_is_transient(gh: FakeGitHub) -> None:
    race_with_a_twin(gh, hidden_for=50)
    with pytest.raises(TransientError, match="taken but not visible"):
        await handle_site_generated(generated(task_ref()), make_deps(gh))
    assert len(gh.repos) == 1  # never a second repository under the next name
    assert gh.count("GET", "/repos/pagesmith-dev/ShareVolume-2") == 0


async def test_an_organisation_owner_creates_under_the_org() -> None:
    gh = FakeGitHub(orgs=("acme",))
    gh.owner_setting = "acme"
    [event] = await handle_site_generated(generated(task_ref()), make_deps(gh))
    assert gh.count("POST", "/orgs/acme/repos") == 1
    assert event.repo_url == "https://github.com/acme/ShareVolume"  # type: ignore[attr-defined]


async def test_round_2_checkout_finds_the_newest_suffixed_repository(gh: FakeGitHub) -> None:
    await publish_round1(gh, nonce="n-1")
    newest = await publish_round1(gh, nonce="n-2")  # a re-sent round 1: ShareVolume-2
    ref2 = task_ref(round=2, nonce="n-3")
    [event] = await handle_task_submitted(submitted(ref2), make_deps(gh))

    assert isinstance(event, RepoCheckedOutV1)
    assert event.repo.name == "ShareVolume-2"
    assert event.repo.html_url == newest.repo_url
    assert event.head_sha == newest.commit_sha
    files = {f.path: f for f in event.files}
    assert files["assets/logo.png"].content == PNG
    assert files["run.sh"].mode == "100755"
    assert files["README.md"].content == b"# ShareVolume-2\n"
    assert (event.brief, event.checks, event.attachments) == (
        "Add a chart",
        submitted(ref2).checks,
        submitted(ref2).attachments,
    )


async def test_round_2_without_a_round_1_repository_fails_for_good(gh: FakeGitHub) -> None:
    gh.add_repo("ShareVolume", "Someone else's [pagesmith:0000000000000000:00000000]", {})
    with pytest.raises(PermanentError, match="no round-1 repository"):
        await handle_task_submitted(submitted(task_ref(round=2)), make_deps(gh))
    assert not gh.count("POST", "/user/repos")


async def test_round_1_task_submitted_is_left_to_the_generator(gh: FakeGitHub) -> None:
    assert await handle_task_submitted(submitted(task_ref()), make_deps(gh)) == []
    assert gh.calls == []


async def test_large_blobs_are_left_out_of_the_checkout(gh: FakeGitHub) -> None:
    await publish_round1(gh)
    deps = make_deps(gh, checkout_max_blob_bytes=100)
    [event] = await handle_task_submitted(submitted(task_ref(round=2, nonce="n-2")), deps)
    assert "assets/logo.png" not in {f.path for f in event.files}  # type: ignore[attr-defined]
    assert deps.metrics.checkout_skipped.labels(reason="too_large")._value.get() == 1


async def test_round_2_commits_on_round_1_with_deletions(gh: FakeGitHub) -> None:
    first = await publish_round1(gh)
    ref2 = task_ref(round=2, nonce="n-2")
    [checked] = await handle_task_submitted(submitted(ref2), make_deps(gh))
    assert isinstance(checked, RepoCheckedOutV1)
    files = (SiteFile(path="index.html", content=b"<title>v2</title>"),)
    event = generated(
        ref2,
        files=files,
        deleted=("run.sh", "never-existed.txt"),
        repo=checked.repo,
        base_sha=checked.head_sha,
        commit_message="Add a chart",
    )
    [published] = await handle_site_generated(event, make_deps(gh))

    assert isinstance(published, SitePublishedV1)
    assert published.repo_url == first.repo_url
    commit = gh.commits[published.commit_sha]
    assert commit["parents"] == [first.commit_sha]
    assert has_trailer(commit["message"], ref2.task_id)
    repo = gh.repos[(OWNER, "sharevolume")]
    after = gh.files_at(repo)
    assert after["index.html"] == b"<title>v2</title>"
    assert "run.sh" not in after
    assert after["assets/logo.png"] == PNG
    assert not gh.count("POST", "/user/repos") - 1  # only round 1 created one
    assert gh.count("POST", r"/repos/pagesmith-dev/ShareVolume/pages") == 2  # 409 the 2nd time


async def test_round_2_on_a_moved_branch_retries_once_on_the_new_head(gh: FakeGitHub) -> None:
    await publish_round1(gh)
    ref2 = task_ref(round=2, nonce="n-2")
    [checked] = await handle_task_submitted(submitted(ref2), make_deps(gh))
    assert isinstance(checked, RepoCheckedOutV1)
    repo = gh.repos[(OWNER, "sharevolume")]
    original_post = gh._post_commit

    def commit_then_someone_pushes(*args: object, **kw: object) -> object:
        result = original_post(*args, **kw)  # type: ignore[arg-type]
        if not getattr(gh, "_pushed", False):
            gh._pushed = True  # type: ignore[attr-defined]
            gh.push_commit(repo, "outside.txt", b"x")
        return result

    gh._post_commit = commit_then_someone_pushes  # type: ignore[method-assign]
    event = generated(
        ref2,
        files=(SiteFile(path="index.html", content=b"v2"),),
        repo=checked.repo,
        base_sha=checked.head_sha,
    )
    [published] = await handle_site_generated(event, make_deps(gh))
    assert isinstance(published, SitePublishedV1)
    # One for round 1, then a refused one and the retry on the new head for round 2.
    assert gh.count("PATCH", r"/repos/pagesmith-dev/ShareVolume/git/refs/heads/main") == 3
    after = gh.files_at(repo)
    assert after["outside.txt"] == b"x"  # nothing was overwritten: no force-push
    assert after["index.html"] == b"v2"
    assert repo.head == published.commit_sha


async def test_round_2_site_without_repo_uses_the_round_1_repository(gh: FakeGitHub) -> None:
    first = await publish_round1(gh)
    ref2 = task_ref(round=2, nonce="n-2")
    [published] = await handle_site_generated(generated(ref2), make_deps(gh))
    assert published.repo_url == first.repo_url  # type: ignore[attr-defined]
    assert gh.count("POST", "/user/repos") == 1


async def test_pages_enabled_with_another_configuration_is_updated(gh: FakeGitHub) -> None:
    await publish_round1(gh)
    repo = gh.repos[(OWNER, "sharevolume")]
    repo.pages = {"build_type": "legacy", "source": {"branch": "gh-pages", "path": "/"}}
    ref2 = task_ref(round=2, nonce="n-2")
    [checked] = await handle_task_submitted(submitted(ref2), make_deps(gh))
    event = generated(ref2, repo=checked.repo, base_sha=checked.head_sha)  # type: ignore[attr-defined]
    await handle_site_generated(event, make_deps(gh))
    assert gh.data_of("PUT", r"/repos/pagesmith-dev/ShareVolume/pages") == [
        {"build_type": "legacy", "source": {"branch": "main", "path": "/"}}
    ]


async def test_an_errored_build_is_rebuilt_once(gh: FakeGitHub) -> None:
    gh.build_outcomes = ["errored", "built"]
    event = await publish_round1(gh)
    assert gh.count("POST", r"/repos/pagesmith-dev/ShareVolume/pages/builds") == 1
    assert event.commit_sha == gh.repos[(OWNER, "sharevolume")].head


async def test_a_cancelled_build_is_not_a_failure(gh: FakeGitHub) -> None:
    gh.build_outcomes = ["cancelled", "cancelled", "built"]
    event = await publish_round1(gh)
    assert gh.count("POST", r"/repos/pagesmith-dev/ShareVolume/pages/builds") == 2
    assert gh.repos[(OWNER, "sharevolume")].builds[-1]["commit"] == event.commit_sha


async def test_a_build_that_errors_twice_fails_for_good(gh: FakeGitHub) -> None:
    gh.build_outcomes = ["errored", "errored"]
    with pytest.raises(PermanentError, match="Page build failed"):
        await publish_round1(gh)


async def test_a_stale_latest_build_gets_a_build_request(gh: FakeGitHub) -> None:
    await publish_round1(gh)
    gh.build_on_push = False  # the push does not trigger a build by itself
    ref2 = task_ref(round=2, nonce="n-2")
    [checked] = await handle_task_submitted(submitted(ref2), make_deps(gh))
    event = generated(ref2, repo=checked.repo, base_sha=checked.head_sha)  # type: ignore[attr-defined]
    [published] = await handle_site_generated(event, make_deps(gh))
    assert gh.count("POST", r"/repos/pagesmith-dev/ShareVolume/pages/builds") == 1
    assert gh.repos[(OWNER, "sharevolume")].builds[-1]["commit"] == published.commit_sha  # type: ignore[attr-defined]


async def test_out_of_budget_publishes_anyway_and_counts_it(gh: FakeGitHub) -> None:
    site = FakeSite(status=404)  # Pages never answers 200
    deps = make_deps(gh, site)
    ref = task_ref(minutes_left=75 / 60 + 0.003)  # about 0.2 s of Pages budget
    [event] = await handle_site_generated(generated(ref), deps)
    assert isinstance(event, SitePublishedV1)
    assert event.pages_url == f"https://{OWNER}.github.io/ShareVolume/"
    assert deps.metrics.pages_late._value.get() == 1
    assert len(site.urls) >= 1


async def test_workflow_builds_wait_for_the_actions_run(gh: FakeGitHub) -> None:
    ref = task_ref("Analyze")
    [event] = await handle_site_generated(generated(ref, pages_build="workflow"), make_deps(gh))
    assert isinstance(event, SitePublishedV1)
    assert gh.data_of("POST", r"/repos/pagesmith-dev/Analyze/pages") == [{"build_type": "workflow"}]
    runs = [p for m, p, _ in gh.calls if "/actions/runs" in p]
    assert runs == [
        f"/repos/pagesmith-dev/Analyze/actions/runs?head_sha={event.commit_sha}&per_page=30"
    ]
    assert not gh.count("GET", r".*/pages/builds/latest")


async def test_degraded_flag_is_carried(gh: FakeGitHub) -> None:
    [event] = await handle_site_generated(
        generated(task_ref(), degraded=True, degraded_reason="model timed out"), make_deps(gh)
    )
    assert event.degraded is True  # type: ignore[attr-defined]


async def test_unicode_120_char_task_round_trip(gh: FakeGitHub) -> None:
    task = "Générateur de résumés — " + "ü" * 96
    assert len(task) == 120
    first = await publish_round1(gh, task=task)
    name = first.repo_url.rsplit("/", 1)[1]
    assert len(name) <= 100
    [checked] = await handle_task_submitted(
        submitted(task_ref(task, round=2, nonce="n-2")), make_deps(gh)
    )
    assert checked.repo.name == name  # type: ignore[attr-defined]


async def test_binary_blob_is_sent_base64(gh: FakeGitHub) -> None:
    await publish_round1(gh)
    contents = {base64.b64decode(b["content"]) for b in gh.data_of("POST", r".*/git/blobs")}
    assert PNG in contents
