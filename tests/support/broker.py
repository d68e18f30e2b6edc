"""Per-test RabbitMQ virtual hosts, so runs never see each other's queues."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid

BROKER_HOST = "127.0.0.1:5672"
MANAGEMENT = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672")


def _ctl(*args: str) -> None:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "-q", *args], check=True, capture_output=True, timeout=60)


def _api(method: str, path: str, body: dict[str, str] | None = None) -> bool:
    """Call the management API; False when it does not answer (plugin off)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{MANAGEMENT}/api/{path}", data=data, method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return 200 <= r.status < 300
    except urllib.error.HTTPError:
        raise
    except OSError:
        return False


def create_vhost(prefix: str = "pagesmith-test") -> tuple[str, str]:
    """Create a fresh vhost for guest; return (vhost, amqp url).

    The management API answers in milliseconds; rabbitmqctl starts an Erlang VM per call
    (about a second), so it is only the fallback when the plugin is off.
    """
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    quoted = urllib.parse.quote(vhost, safe="")
    perms = {"configure": ".*", "write": ".*", "read": ".*"}
    if not (_api("PUT", f"vhosts/{quoted}") and _api("PUT", f"permissions/{quoted}/guest", perms)):
        _ctl("add_vhost", vhost)
        _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return vhost, f"amqp://guest:guest@{BROKER_HOST}/{vhost}"


def delete_vhost(vhost: str) -> None:
    if not _api("DELETE", f"vhosts/{urllib.parse.quote(vhost, safe='')}"):
        _ctl("delete_vhost", vhost)


def close_all_connections(vhost: str, reason: str = "test: connection dropped") -> None:
    """Force-close every client connection of a vhost, as a broker failover would."""
    _ctl("close_all_connections", "-p", vhost, reason)


def set_permissions(vhost: str, *, configure: str, write: str, read: str) -> None:
    """Give guest these permission patterns on `vhost` (an empty pattern allows nothing)."""
    quoted = urllib.parse.quote(vhost, safe="")
    perms = {"configure": configure, "write": write, "read": read}
    if not _api("PUT", f"permissions/{quoted}/guest", perms):
        _ctl("set_permissions", "-p", vhost, "guest", configure, write, read)


def revoke_permissions(vhost: str) -> None:
    """Take every permission on `vhost` away from guest: the vhost refuses its connections."""
    if not _api("DELETE", f"permissions/{urllib.parse.quote(vhost, safe='')}/guest"):
        _ctl("clear_permissions", "-p", vhost, "guest")
