"""Read-only git smart HTTP at /{owner}/{repo}.git, served by dulwich in a worker thread."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import BasicAuth, web
from aiohttp_wsgi.wsgi import WSGIHandler
from dulwich.errors import NotGitRepository
from dulwich.repo import Repo
from dulwich.server import Backend, BackendRepo
from dulwich.web import make_wsgi_chain

from .access import can_read
from .state import FORGE, Forge
from .store import Store

ROUTE = "/{owner}/{repo}.git{path_info:/.*}"


class StoreBackend(Backend):
    """Resolves "/{owner}/{repo}.git" to the stored bare repository, case-insensitively."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open_repository(self, path: str | bytes) -> BackendRepo:
        # dulwich passes str for ref advertisement but bytes for the pack service.
        text = path.decode() if isinstance(path, bytes) else path
        owner, _, name = text.strip("/").partition("/")
        record = self.store.get(owner, name.removesuffix(".git"))
        if record is None:
            raise NotGitRepository(path)
        return Repo(str(self.store.git_dir(record)))


def _whole_path(app: Any) -> Any:
    """Give dulwich the mount point too: it finds the repository in the text before its match."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["PATH_INFO"] = environ.get("SCRIPT_NAME", "") + environ["PATH_INFO"]
        environ["SCRIPT_NAME"] = ""
        return app(environ, start_response)  # type: ignore[no-any-return]

    return wsgi


def git_http_handler(forge: Forge) -> WSGIHandler:
    return WSGIHandler(_whole_path(make_wsgi_chain(StoreBackend(forge.store))))


async def serve_git(request: web.Request) -> web.StreamResponse:
    forge = request.app[FORGE]
    record = forge.store.get(request.match_info["owner"], request.match_info["repo"])
    if record is None:
        return web.Response(status=404, text="Repository not found.\n")
    if request.query.get("service") == "git-receive-pack" or request.path.endswith(
        "/git-receive-pack"
    ):
        return web.Response(
            status=403, text="The forge is read-only over git; commit through the REST API.\n"
        )
    if record.private:
        user = None
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
            user = forge.accounts.by_token(auth.password)
        except ValueError:
            pass
        if user is None or not can_read(forge, user, record):
            return web.Response(
                status=401,
                text="Authentication required.\n",
                headers={"WWW-Authenticate": 'Basic realm="GitHub"'},
            )
    response: web.StreamResponse = await request.app[GIT_WSGI](request)
    return response


GIT_WSGI = web.AppKey("git_wsgi", WSGIHandler)
