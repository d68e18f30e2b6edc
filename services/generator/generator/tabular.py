"""Spreadsheets and CSV in code (openpyxl, csv): the model never retypes a table."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from pagesmith_contracts import Attachment

Sheets = dict[str, list[list[Any]]]

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
            sheets[ws.title] = [(r + [None] * width)[:width] for r in rows]
    finally:
        workbook.close()
    return sheets


def read_csv(data: bytes) -> list[list[Any]]:
    text = data.decode("utf-8-sig")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def rows_to_csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode()


def rows_to_json(rows: list[list[Any]]) -> bytes:
    """A list of objects keyed by the header row; numbers stay numbers."""
    if not rows:
        return b"[]\n"
    header = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(rows[0])]
    records = [dict(zip(header, r, strict=False)) for r in rows[1:]]
    return (json.dumps(records, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True, slots=True)
class Workbooks:
    """Each spreadsheet attachment of a task, parsed once, off the event loop, then reused.

    openpyxl is pure Python: a 2 MiB workbook takes seconds, which on the loop would stall
    every other delivery, /healthz and the broker heartbeat.
    """

    parsed: Mapping[str, Sheets | str] = field(default_factory=dict)  # str: why it failed

    @classmethod
    async def read(cls, attachments: Iterable[Attachment]) -> Workbooks:
        spreadsheets = [a for a in attachments if is_spreadsheet(a.name, a.media_type)]
        if not spreadsheets:
            return cls()
        return await asyncio.to_thread(cls.parse, spreadsheets)

    @classmethod
    def parse(cls, attachments: Iterable[Attachment]) -> Workbooks:
        """Blocking: use `read` on the event loop."""
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


def table_rows(a: Attachment, workbooks: Workbooks, sheet: str | None = None) -> list[list[Any]]:
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
