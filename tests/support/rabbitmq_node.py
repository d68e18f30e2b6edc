"""A RabbitMQ node owned by one test, so it can be stopped and restarted without touching the
machine's shared broker: its own node name, ports, data and log folders, and no plugins."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from .procs import free_port

SERVER = Path(
    os.environ.get("PAGESMITH_TEST_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server")
)


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class RabbitNode:
    """`start()`, `stop()` (graceful: data and durable queues survive), `start()` again."""

    def __init__(self) -> None:
        if not SERVER.exists():
            raise FileNotFoundError(f"no RabbitMQ server at {SERVER}")
        self.root = Path(tempfile.mkdtemp(prefix="pagesmith-rmq-"))
        self.port = free_port()
        self.dist_port = free_port()
        self.name = f"pagesmith-test-{uuid.uuid4().hex[:8]}@localhost"
        (self.root / "enabled_plugins").write_text("[].\n")
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users.guest = true\n"
        )
        # An empty env file: the machine's /etc/rabbitmq/rabbitmq-env.conf names its node.
        (self.root / "rabbitmq-env.conf").write_text("")
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL"}}
        return {
            **keep,
            "HOME": str(self.root),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbit.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self, timeout: float = 90.0) -> RabbitNode:
        out = (self.root / "server.out").open("ab")
        self._popen = subprocess.Popen(
            [str(SERVER)],
            env=self._env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._popen.poll() is not None:
                raise RuntimeError(f"RabbitMQ node exited:\n{self.log()}")
            if _answers(self.port):
                return self
            time.sleep(0.2)
        raise TimeoutError(f"RabbitMQ node not up after {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM to the node's process group: a graceful shutdown, as a restart would do."""
        if self._popen is None:
            return
        pgid = self._popen.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            self._popen.poll()
            time.sleep(0.2)
        else:
            os.killpg(pgid, signal.SIGKILL)
        self._popen.wait(10)
        self._popen = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.root / "server.out").read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""
