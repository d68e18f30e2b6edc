"""A broker that refuses us (credentials, vhost, permissions) is a final answer, not an outage."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import aio_pika
import pytest
from pagesmith_runtime import BrokerRefused, connect, declare_topology, refusals_are_final

from tests.support.broker import revoke_permissions, set_permissions
from tests.support.procs import Proc, command, free_port

pytestmark = pytest.mark.integration
WRONG = "wrong-pass-7c1d"


def with_password(url: str, password: str) -> str:
    return url.replace("guest:guest@", f"guest:{password}@", 1)


async def test_wrong_password_is_refused_at_once(amqp_url: str) -> None:
    # Before: "broker unreachable, retrying" forever, so this wait timed out.
    with pytest.raises(BrokerRefused) as info:
        await asyncio.wait_for(connect(with_password(amqp_url, WRONG), name="t"), timeout=15)
    vhost = amqp_url.rsplit("/", 1)[1]
    assert "refused the login" in str(info.value)
    assert f"user 'guest', vhost '{vhost}'" in str(info.value)
    assert WRONG not in str(info.value)


async def test_a_vhost_without_permission_is_refused_at_once(amqp_url: str) -> None:
    revoke_permissions(amqp_url.rsplit("/", 1)[1])
    with pytest.raises(BrokerRefused, match="refused the virtual host"):
        await asyncio.wait_for(connect(amqp_url, name="t"), timeout=15)


async def test_a_topology_the_user_may_not_declare_is_refused(amqp_url: str) -> None:
    set_permissions(amqp_url.rsplit("/", 1)[1], configure="^$", write=".*", read=".*")
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        with pytest.raises(BrokerRefused, match="ACCESS_REFUSED"), refusals_are_final(amqp_url):
            await declare_topology(channel)
    finally:
        await connection.close()


def readyz(port: int) -> tuple[int, dict[str, str]] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except OSError:
        return None


def refused_then_exits(proc: Proc, port: int) -> tuple[dict[str, str], int]:
    """Poll /readyz until it gives the refusal, then wait for the exit; (body, exit code)."""
    assert proc.popen is not None
    deadline = time.monotonic() + 20
    body: dict[str, str] = {}
    while "refused" not in body.get("reason", ""):
        assert proc.popen.poll() is None, f"exited before /readyz said why:\n{proc.log()}"
        assert time.monotonic() < deadline, f"/readyz never said why ({body}):\n{proc.log()}"
        answer = readyz(port)
        if answer is not None:
            status, body = answer
            assert status == 503
        time.sleep(0.05)
    return body, proc.popen.wait(timeout=20)


@pytest.mark.parametrize(
    ("name", "env"),
    [
        ("notifier", {}),
        ("gateway", {"GATEWAY_SECRET": "s3cret-gw", "GATEWAY_HOST": "127.0.0.1"}),
    ],
)
def test_a_service_with_wrong_credentials_says_why_and_exits_non_zero(
    amqp_url: str, tmp_path: Path, name: str, env: dict[str, str]
) -> None:
    port = free_port()
    proc = Proc(
        name,
        [command(f"pagesmith-{name}")],
        {"AMQP_URL": with_password(amqp_url, WRONG), f"{name.upper()}_PORT": str(port), **env},
        tmp_path / f"{name}.log",
    ).start()
    try:
        body, code = refused_then_exits(proc, port)
    finally:
        proc.kill()
    assert body["status"] == "not ready"
    assert "refused the login" in body["reason"]
    assert code == 1
    log = proc.log()
    assert "broker refused access; exiting" in log
    assert "broker unreachable" not in log
    assert WRONG not in log
