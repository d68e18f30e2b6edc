"""pagesmith-llm-stub as a real process: it logs its base URL and serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_starts_and_logs_its_base_url():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_STUB_")}
    env |= {"LLM_STUB_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "llm_stub"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert f"llm-stub: serving http://127.0.0.1:{port}/v1" in line
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stub/healthz") as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        process.terminate()
        process.communicate(timeout=10)  # also closes the stderr pipe
