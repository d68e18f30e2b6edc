"""Per-test RabbitMQ virtual hosts, so runs never see each other's queues."""

from __future__ import annotations

import shutil
import subprocess
import uuid

BROKER_HOST = "127.0.0.1:5672"


def _ctl(*args: str) -> None:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "-q", *args], check=True, capture_output=True, timeout=60)


def create_vhost(prefix: str = "pagesmith-test") -> tuple[str, str]:
    """Create a fresh vhost for guest; return (vhost, amqp url)."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    _ctl("add_vhost", vhost)
    _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return vhost, f"amqp://guest:guest@{BROKER_HOST}/{vhost}"


def delete_vhost(vhost: str) -> None:
    _ctl("delete_vhost", vhost)


def close_all_connections(vhost: str, reason: str = "test: connection dropped") -> None:
    """Force-close every client connection of a vhost, as a broker failover would."""
    _ctl("close_all_connections", "-p", vhost, reason)
