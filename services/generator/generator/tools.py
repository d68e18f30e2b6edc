"""Tools the model calls for exact work; their output is written by code, never retyped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import structlog
from pagesmith_contracts import Attachment, SiteFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .paths import InvalidPath, check_path
from .ports import EgressDenied, FetchFailed, FetchPort, ToolCall, ToolSpec
from .site import CODE_OWNED, is_text
from .tabular import (
    Rows,
    Sheets,
    TableError,
    Workbooks,
    is_spreadsheet,
    rows_to_csv,
    rows_to_json,
    table_rows,
)
from .workflow import WorkflowError, workflow_template

log = structlog.get_logger(__name__)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadAttachment(_Args):
    name: str = Field(description="Attachment name")
    offset: int = Field(description="Character offset to start from (0 for the start)")


class ConvertTable(_Args):
    attachment: str = Field(description="Name of a .xlsx or .csv attachment")
    sheet: str | None = Field(description="Sheet name, or null for the first sheet")
    format: Literal["csv", "json"] = Field(description="Output format")
    path: str = Field(description="Repository path to write, e.g. data.csv")


class CopyAttachment(_Args):
    attachment: str = Field(description="Attachment name")
    path: str = Field(description="Repository path to write the exact bytes to")


class FetchUrl(_Args):
    url: str = Field(description="A public http(s) URL")
    save_as: str | None = Field(
        description="Repository path to save the response body to byte for byte, or null"
    )


class ReadRepoFile(_Args):
    path: str = Field(description="Path of a file in the current repository")
    offset: int = Field(description="Character offset to start from (0 for the start)")


class WriteCiWorkflow(_Args):
    path: str = Field(description="Workflow path, e.g. .github/workflows/ci.yml")
    packages: list[str] = Field(description="pip packages to install (ruff is always added)")
    commands: list[str] = Field(description="Shell commands to run in order, one line each")
    outputs: list[str] = Field(description="Files the commands create, to publish on Pages")


READ_ATTACHMENT = ToolSpec(
    "read_attachment", "Read an attachment's full text (spreadsheets as CSV).", ReadAttachment
)
CONVERT_TABLE = ToolSpec(
    "convert_table",
    "Convert a spreadsheet or CSV attachment to CSV or JSON in code and write it to a path.",
    ConvertTable,
)
COPY_ATTACHMENT = ToolSpec(
    "copy_attachment", "Write an attachment's exact bytes to another path.", CopyAttachment
)
FETCH_URL = ToolSpec(
    "fetch_url",
    "GET a public URL (sends a descriptive User-Agent); returns the body text and can save it "
    "byte for byte to a path. Use it for real data instead of inventing figures.",
    FetchUrl,
)
READ_REPO_FILE = ToolSpec("read_repo_file", "Read a current repository file in full.", ReadRepoFile)
WRITE_CI_WORKFLOW = ToolSpec(
    "write_ci_workflow",
    "Write the tested GitHub Actions workflow (ruff, your commands, Pages deploy of the outputs).",
    WriteCiWorkflow,
)


@dataclass
class ToolBox:
    """The state tools work on: inputs, the fetcher, and the files tools wrote.

    `workbooks` holds the spreadsheet attachments already parsed (`Workbooks.read`).
    """

    attachments: Sequence[Attachment]
    fetcher: FetchPort | None
    read_chars: int = 100_000
    repo_files: Sequence[SiteFile] = ()
    wants_workflow: bool = False
    workbooks: Workbooks = field(default_factory=Workbooks)
    written: dict[str, bytes] = field(default_factory=dict)
    _sheet_text: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def specs(self) -> list[ToolSpec]:
        specs = []
        if self.attachments:
            specs += [READ_ATTACHMENT, COPY_ATTACHMENT]
            if any(
                is_spreadsheet(a.name, a.media_type) or a.name.lower().endswith(".csv")
                for a in self.attachments
            ):
                specs.append(CONVERT_TABLE)
        if self.fetcher is not None:
            specs.append(FETCH_URL)
        if self.repo_files:
            specs.append(READ_REPO_FILE)
        if self.wants_workflow:
            specs.append(WRITE_CI_WORKFLOW)
        return specs

    async def run(self, call: ToolCall) -> tuple[str, bool]:
        """(JSON result for the model, ok); failures are answers, not exceptions."""
        handler = getattr(self, f"_tool_{call.name}", None)
        spec = next((s for s in self.specs() if s.name == call.name), None)
        if handler is None or spec is None:
            return _error(f"unknown tool {call.name!r}"), False
        try:
            args = spec.parameters.model_validate_json(call.arguments)
        except ValidationError as exc:
            return _error(f"invalid arguments: {exc.errors(include_url=False)[:3]}"), False
        try:
            result = await handler(args)
        except (
            ToolError,
            InvalidPath,
            TableError,
            WorkflowError,
            EgressDenied,
            FetchFailed,
        ) as exc:
            return _error(str(exc)), False
        return json.dumps(result, ensure_ascii=False), True

    def _attachment(self, name: str) -> Attachment:
        for a in self.attachments:
            if a.name == name:
                return a
        raise ToolError(
            f"no attachment {name!r}; attachments: {', '.join(a.name for a in self.attachments)}"
        )

    def _write(self, path: str, data: bytes) -> str:
        path = check_path(path)
        if path in CODE_OWNED:
            raise ToolError(f"{path} is written by code")
        self.written[path] = data
        return path

    async def _tool_read_attachment(self, args: ReadAttachment) -> dict[str, object]:
        a = self._attachment(args.name)
        if is_spreadsheet(a.name, a.media_type):
            if a.name not in self._sheet_text:
                # The model pages through with offsets: convert once, off the event loop.
                sheets = self.workbooks.sheets(a.name)
                self._sheet_text[a.name] = await asyncio.to_thread(_sheets_as_csv, sheets)
            text = self._sheet_text[a.name]
        elif is_text(a.data):
            text = a.data.decode("utf-8")
        else:
            return {
                "name": a.name,
                "media_type": a.media_type,
                "bytes": len(a.data),
                "binary": True,
            }
        return _page(text, args.offset, self.read_chars)

    async def _tool_convert_table(self, args: ConvertTable) -> dict[str, object]:
        a = self._attachment(args.attachment)

        def convert() -> tuple[Rows, bytes]:
            rows = table_rows(a, self.workbooks, args.sheet)
            return rows, rows_to_csv(rows) if args.format == "csv" else rows_to_json(rows)

        # Tens of thousands of rows take a second to encode: not on the event loop.
        rows, data = await asyncio.to_thread(convert)
        path = self._write(args.path, data)
        preview = rows_to_csv(rows[:4]).decode()
        return {
            "written": path,
            "rows": len(rows),
            "header": list(rows[0]) if rows else [],
            "first_rows_csv": preview,
        }

    async def _tool_copy_attachment(self, args: CopyAttachment) -> dict[str, object]:
        a = self._attachment(args.attachment)
        return {"written": self._write(args.path, a.data), "bytes": len(a.data)}

    async def _tool_fetch_url(self, args: FetchUrl) -> dict[str, object]:
        if self.fetcher is None:
            raise ToolError("fetching is not available")
        result = await self.fetcher.fetch(args.url)
        out: dict[str, object] = {
            "url": result.url,
            "status": result.status,
            "content_type": result.content_type,
            "bytes": len(result.body),
        }
        if args.save_as:
            if not 200 <= result.status < 300:
                raise ToolError(f"not saved: the server answered {result.status}")
            out["written"] = self._write(args.save_as, result.body)
        out.update(_page(result.body.decode("utf-8", errors="replace"), 0, self.read_chars))
        return out

    async def _tool_read_repo_file(self, args: ReadRepoFile) -> dict[str, object]:
        f = next((f for f in self.repo_files if f.path == args.path), None)
        if f is None:
            raise ToolError(f"no file {args.path!r} in the repository")
        if not is_text(f.content):
            return {"path": f.path, "bytes": len(f.content), "binary": True}
        return _page(f.content.decode("utf-8"), args.offset, self.read_chars)

    async def _tool_write_ci_workflow(self, args: WriteCiWorkflow) -> dict[str, object]:
        path = check_path(args.path)
        if not path.startswith(".github/workflows/") or not path.endswith((".yml", ".yaml")):
            raise ToolError("workflows live at .github/workflows/<name>.yml")
        text = workflow_template(args.packages, args.commands, args.outputs)
        return {"written": self._write(path, text.encode()), "content": text}


class ToolError(Exception):
    """A tool could not do what was asked; the model is told why."""


def _sheets_as_csv(sheets: Sheets) -> str:
    return "\n".join(f"# sheet {n}\n{rows_to_csv(r).decode()}" for n, r in sheets.items())


def _page(text: str, offset: int, limit: int) -> dict[str, object]:
    offset = max(0, offset)
    chunk = text[offset : offset + limit]
    out: dict[str, object] = {"text": chunk, "total_chars": len(text)}
    if offset + limit < len(text):
        out["next_offset"] = offset + limit
    return out


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)
