"""Spreadsheets and CSV in code (openpyxl, csv): the model never retypes a table."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the xlsx worker imports this module: keep its start-up light
    from pagesmith_contracts import Attachment

Row = tuple[Any, ...]
# Rows are tuples of plain values: the collector stops tracking those, lists it walks for ever.
Sheets = dict[str, list[Row]]
Rows = Sequence[Sequence[Any]]

WORKER = "generator.xlsx_worker"
# A workbook code cannot read in this long is not worth the task's time.
READ_TIMEOUT_SECONDS = 60.0

XLSX_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
)


class TableError(ValueError):
    """The bytes are not a table code can read."""


def is_spreadsheet(name: str, media_type: str) -> bool:
    return media_type.lower() in XLSX_TYPES or name.lower().endswith((".xlsx", ".xlsm"))


def is_csv(name: str, media_type: str) -> bool:
    return media_type.lower() in ("text/csv", "application/csv") or name.lower().endswith(".csv")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def read_xlsx(data: bytes) -> Sheets:
    """Every sheet as rows of plain values, trailing empty rows and columns removed."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise TableError(f"not a readable xlsx workbook: {type(exc).__name__}") from exc
    sheets: Sheets = {}
    try:
        for ws in workbook.worksheets:
            rows = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
            while rows and all(v is None or v == "" for v in rows[-1]):
                rows.pop()
            width = max(
                (i + 1 for r in rows for i, v in enumerate(r) if v not in (None, "")), default=0
            )
            sheets[ws.title] = [tuple((r + [None] * width)[:width]) for r in rows]
    finally:
        workbook.close()
    return sheets


def read_csv(data: bytes) -> list[list[Any]]:
    text = data.decode("utf-8-sig")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def rows_to_csv(rows: Rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode()


def rows_to_json(rows: Rows) -> bytes:
    """A list of objects keyed by the header row; numbers stay numbers.

    The same text as `json.dumps(records, indent=2)`, one record at a time: tens of thousands
    of live dicts would make every garbage collection pass, which stops all threads, walk them.
    """
    if len(rows) < 2:
        return b"[]\n"
    header = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(rows[0])]
    records = (
        json.dumps(dict(zip(header, r, strict=False)), indent=2, ensure_ascii=False)
        for r in rows[1:]
    )
    # Encoded strings hold no raw newline, so indenting each line nests the record in the list.
    body = ",\n  ".join(r.replace("\n", "\n  ") for r in records)
    return f"[\n  {body}\n]\n".encode()


async def read_xlsx_apart(data: bytes, *, timeout: float = READ_TIMEOUT_SECONDS) -> Sheets:
    """`read_xlsx` in a child process, its rows read back as JSON lines.

    openpyxl is pure Python: a 2 MiB workbook takes seconds. A worker thread would still stall
    the event loop, through the GIL and the collector's passes over openpyxl's row elements,
    which stop every thread. The child gets no environment: it holds no secret.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        WORKER,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={},
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(data), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise TableError(f"the workbook took longer than {timeout:.0f} s to read") from None
    if proc.returncode != 0:
        raise TableError(f"not a readable xlsx workbook (the reader exited {proc.returncode})")
    sheets: Sheets = {}
    for line in out.splitlines():
        record = json.loads(line)
        if "error" in record:
            raise TableError(record["error"])
        sheets.setdefault(record["sheet"], []).extend(tuple(r) for r in record["rows"])
        await asyncio.sleep(0)  # one chunk at a time: let the loop serve in between
    return sheets


@dataclass(frozen=True, slots=True)
class Workbooks:
    """Each spreadsheet attachment of a task, parsed once, away from the event loop, reused."""

    parsed: Mapping[str, Sheets | str] = field(default_factory=dict)  # str: why it failed

    @classmethod
    async def read(
        cls, attachments: Iterable[Attachment], *, timeout: float = READ_TIMEOUT_SECONDS
    ) -> Workbooks:
        spreadsheets = [a for a in attachments if is_spreadsheet(a.name, a.media_type)]
        results = await asyncio.gather(
            *(read_xlsx_apart(a.data, timeout=timeout) for a in spreadsheets),
            return_exceptions=True,
        )
        parsed: dict[str, Sheets | str] = {}
        for a, result in zip(spreadsheets, results, strict=True):
            if isinstance(result, TableError):
                parsed[a.name] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                parsed[a.name] = result
        return cls(parsed)

    @classmethod
    def parse(cls, attachments: Iterable[Attachment]) -> Workbooks:
        """In this process, blocking: for tests and tools, never on the service's loop."""
        parsed: dict[str, Sheets | str] = {}
        for a in attachments:
            if is_spreadsheet(a.name, a.media_type):
                try:
                    parsed[a.name] = read_xlsx(a.data)
                except TableError as exc:
                    parsed[a.name] = str(exc)
        return cls(parsed)

    def sheets(self, name: str) -> Sheets:
        result = self.parsed.get(name)
        if result is None:
            raise TableError(f"{name} was not read as a spreadsheet")
        if isinstance(result, str):
            raise TableError(result)
        return result


def table_rows(a: Attachment, workbooks: Workbooks, sheet: str | None = None) -> Rows:
    """The rows of a CSV or of one spreadsheet sheet (the first when `sheet` is None)."""
    if is_spreadsheet(a.name, a.media_type):
        sheets = workbooks.sheets(a.name)
        if not sheets:
            raise TableError("the workbook has no sheets")
        if sheet is None:
            return next(iter(sheets.values()))
        if sheet not in sheets:
            raise TableError(f"no sheet {sheet!r}; sheets: {', '.join(sheets)}")
        return sheets[sheet]
    if is_csv(a.name, a.media_type):
        return read_csv(a.data)
    raise TableError(f"{a.name} is not a CSV or xlsx file")
