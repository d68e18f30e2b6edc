"""A caller stand-in for demos: prints every callback POSTed to it and answers 200.

Usage: python dev/listen.py [port]   (default 8787; evaluation_url http://127.0.0.1:8787/evaluate)
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            shown = json.dumps(json.loads(body), indent=2)
        except ValueError:
            shown = body.decode(errors="replace")
        print(f"callback received on {self.path}:\n{shown}", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, format: str, *args: object) -> None:
        pass  # the callback itself is printed above; the access line adds nothing


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as exc:
        # Someone else listens there already (your own caller): stay out of the way, but stay
        # up, since a process runner stops everything when one process exits.
        print(f"port {port} is taken ({exc.strerror}); not listening", flush=True)
        threading.Event().wait()
        return
    print(f"listening for callbacks on http://127.0.0.1:{port}/evaluate", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
