"""Authentication, API version, headers and unknown routes, as GitHub answers them."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from gidgethub import BadRequest

from tests.forge.helpers import GH, HEADERS, TOKEN


async def test_user_with_token(gh: GH) -> None:
    me = await gh.get("/user")
    assert me["login"] == "pagesmith-dev"
    assert me["type"] == "User"
    assert me["html_url"].endswith("/pagesmith-dev")


@pytest.mark.parametrize(
    ("token", "message"), [(None, "Requires authentication"), ("nope", "Bad credentials")]
)
async def test_auth_failures_are_401(
    make_gh: Callable[..., GH], token: str | None, message: str
) -> None:
    with pytest.raises(BadRequest) as info:
        await make_gh(token).get("/user")
    assert info.value.status_code == 401
    assert str(info.value) == message


async def test_bearer_scheme_and_github_headers(
    session: aiohttp.ClientSession, api_url: str
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", **HEADERS}
    async with session.get(f"{api_url}/user", headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["x-ratelimit-limit"] == "5000"
        assert int(resp.headers["x-ratelimit-remaining"]) == 4999
        assert resp.headers["x-ratelimit-used"] == "1"
        assert resp.headers["x-ratelimit-resource"] == "core"
        assert int(resp.headers["x-ratelimit-reset"]) > 0
        assert resp.headers["x-github-api-version-selected"] == "2022-11-28"
        assert resp.headers["x-github-request-id"].count(":") == 4
        assert resp.content_type == "application/json"


async def test_error_body_shape(session: aiohttp.ClientSession, api_url: str) -> None:
    async with session.get(f"{api_url}/user") as resp:
        body = await resp.json()
    assert resp.status == 401
    assert body == {
        "message": "Requires authentication",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    assert resp.headers["x-ratelimit-limit"] == "60"


async def test_unsupported_api_version_is_400(session: aiohttp.ClientSession, api_url: str) -> None:
    headers = {"Authorization": f"token {TOKEN}", "X-GitHub-Api-Version": "2021-01-01"}
    async with session.get(f"{api_url}/user", headers=headers) as resp:
        body = await resp.json()
    assert resp.status == 400
    assert "2021-01-01" in body["message"]
    headers["X-GitHub-Api-Version"] = "2026-03-10"
    async with session.get(f"{api_url}/user", headers=headers) as resp:
        assert resp.status == 200
        assert resp.headers["x-github-api-version-selected"] == "2026-03-10"


async def test_unknown_route_and_method_are_404(
    session: aiohttp.ClientSession, api_url: str
) -> None:
    headers = {"Authorization": f"token {TOKEN}"}
    for method, path in (("GET", "/nothing/here"), ("DELETE", "/user")):
        async with session.request(method, api_url + path, headers=headers) as resp:
            assert resp.status == 404
            assert (await resp.json())["message"] == "Not Found"


async def test_missing_user_agent_is_403(api_url: str) -> None:
    async with (
        aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as bare,
        bare.get(f"{api_url}/user", headers={"Authorization": f"token {TOKEN}"}) as resp,
    ):
        assert resp.status == 403
        assert "User-Agent" in (await resp.json())["message"]


async def test_users_and_orgs(gh: GH) -> None:
    assert (await gh.get("/users/outsider"))["type"] == "User"
    assert (await gh.get("/users/acme"))["type"] == "Organization"
    assert (await gh.get("/orgs/acme"))["login"] == "acme"
    with pytest.raises(BadRequest) as info:
        await gh.get("/users/nobody")
    assert info.value.status_code == 404


async def test_bad_json_is_400(session: aiohttp.ClientSession, api_url: str) -> None:
    headers = {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"}
    async with session.post(f"{api_url}/user/repos", data=b"{nope", headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == "Problems parsing JSON"


async def test_root_and_rate_limit(gh: GH) -> None:
    assert (await gh.get("/"))["current_user_url"].endswith("/api/v3/user")
    limits = await gh.get("/rate_limit")
    assert limits["resources"]["core"]["limit"] == 5000
    assert limits["rate"]["remaining"] < 5000
