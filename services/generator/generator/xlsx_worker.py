"""`python -m generator.xlsx_worker`: one workbook on stdin, its sheets as JSON lines on stdout."""

from __future__ import annotations

import json
import os
import sys

from .tabular import TableError, read_xlsx

CHUNK_ROWS = 2000  # small lines: the parent decodes one at a time between other work


def main() -> None:
    os.nice(10)  # background work: the service's event loop comes first for the CPU
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        sheets = read_xlsx(data)
    except TableError as exc:
        out.write(json.dumps({"error": str(exc)}).encode() + b"\n")
        return
    for name, rows in sheets.items():
        for start in range(0, max(len(rows), 1), CHUNK_ROWS):
            chunk = {"sheet": name, "rows": rows[start : start + CHUNK_ROWS]}
            # Cells are plain values already; anything else is shown as text, never dropped.
            out.write(json.dumps(chunk, default=str).encode() + b"\n")


if __name__ == "__main__":
    main()
