"""GET workflow runs; runs are simulated by actions_runs (nothing is executed)."""

from __future__ import annotations

from aiohttp import web

from . import shapes
from .access import find_repo
from .context import forge_of, urls_of
from .errors import json_response, not_found
from .paging import paginate
from .store import RepoRecord, WorkflowRun

routes = web.RouteTableDef()
RUNS = "/api/v3/repos/{owner}/{repo}/actions/runs"


def _run_json(request: web.Request, record: RepoRecord, run: WorkflowRun) -> dict[str, object]:
    accounts = forge_of(request).accounts
    owner = accounts.get(record.owner)
    assert owner is not None
    actor = accounts.get(run.pusher) if run.pusher else None
    return shapes.workflow_run(urls_of(request), record, run, owner, actor)


@routes.get(RUNS)
async def list_runs(request: web.Request) -> web.Response:
    record = find_repo(request)
    query = request.query
    runs = []
    for run in reversed(record.runs):
        if "head_sha" in query and run.head_sha != query["head_sha"]:
            continue
        if "branch" in query and run.head_branch != query["branch"]:
            continue
        if "event" in query and run.event != query["event"]:
            continue
        if "status" in query and query["status"] not in (run.status, run.conclusion):
            continue
        runs.append(run)
    page, headers = paginate(request, runs)
    body = {
        "total_count": len(runs),
        "workflow_runs": [_run_json(request, record, r) for r in page],
    }
    return json_response(body, headers=headers)


@routes.get(RUNS + "/{run_id:\\d+}")
async def get_run(request: web.Request) -> web.Response:
    record = find_repo(request)
    wanted = int(request.match_info["run_id"])
    for run in record.runs:
        if run.id == wanted:
            return json_response(_run_json(request, record, run))
    raise not_found()
