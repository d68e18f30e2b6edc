"""scripts/ensure-rabbitmq.sh: with no broker answering, its advice names things that exist."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.support.procs import free_port

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "ensure-rabbitmq.sh"


def ensure(port: int, server: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{port}/",
        "RABBITMQ_SERVER": str(server),
    }
    # The timeout only guards the suite: the script must stop long before it.
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=100
    )


def assert_working_advice(stderr: str, port: int) -> None:
    assert (
        f"docker run -d --name rabbitmq -p {port}:5672 -p 15672:15672 rabbitmq:3-management"
        in stderr
    )
    assert "sudo apt-get install rabbitmq-server" in stderr
    assert "brew install rabbitmq && brew services start rabbitmq" in stderr
    if not any((ROOT / name).exists() for name in ("compose.yaml", "docker-compose.yml")):
        assert "compose" not in stderr  # there is no compose file to run


def test_without_a_server_it_says_how_to_get_one(tmp_path: Path) -> None:
    port = free_port()
    result = ensure(port, tmp_path / "no-rabbitmq-server")
    assert result.returncode == 1
    assert f"No RabbitMQ answers at 127.0.0.1:{port}" in result.stderr
    assert_working_advice(result.stderr, port)


def test_a_server_that_refuses_to_start_is_reported_at_once(tmp_path: Path) -> None:
    # What Debian's wrapper does for a user who is neither root nor rabbitmq.
    fake = tmp_path / "rabbitmq-server"
    fake.write_text(
        '#!/bin/sh\necho\necho "Only root or rabbitmq should run rabbitmq-server"\necho\nexit 1\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    port = free_port()
    result = ensure(port, fake)
    assert result.returncode == 1
    assert "could not start it:\n  Only root or rabbitmq should run rabbitmq-server\n" in (
        result.stderr
    )
    assert "did not come up" not in result.stderr  # it did not sit out the 120 s wait
    assert_working_advice(result.stderr, port)
