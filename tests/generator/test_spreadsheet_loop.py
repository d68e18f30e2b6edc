"""A large spreadsheet is parsed once per task, away from the event loop, which keeps serving."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import time
from collections.abc import Callable, Coroutine, Iterator
from math import inf
from typing import Any

import openpyxl
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from generator.brief import read_brief
from generator.handlers.task_submitted import handle_task_submitted
from generator.ports import ToolCall
from generator.prompt import PromptLimits, round1_messages
from generator.tabular import WORKER, TableError, Workbooks, rows_to_json
from generator.tools import ToolBox
from pagesmith_contracts import Attachment, SiteGeneratedV1, TaskSubmittedV1
from pagesmith_runtime import create_ops_app
from prometheus_client import CollectorRegistry

from .conftest import ScriptedOpenAI, chat, draft, submitted
from .test_model_failures import BODY, FILES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BIG_ROWS = 60_000  # about 2 MiB of xlsx: seconds of pure-Python parsing
POLL_SECONDS = 0.02


def workbook(rows: int) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("sales")
    sheet.append(["date", "region", "product", "units", "price", "note"])
    for i in range(1, rows + 1):
        sheet.append(
            [f"2024-01-{i % 28 + 1:02d}", f"region-{i % 17}", f"product-{i % 101}", i % 500,
             round(i * 0.37 % 1000, 2), f"note {i * 7919 % 100000}"]
        )  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_xlsx(data: bytes) -> TaskSubmittedV1:
    return submitted(BODY).model_copy(
        update={"attachments": (Attachment(name="sales.xlsx", media_type=XLSX, data=data),)}
    )


def calls() -> list[ToolCall]:
    """What a model does with a spreadsheet: convert it twice and read it."""
    args: list[tuple[str, dict[str, Any]]] = [
        ("convert_table", {"attachment": "sales.xlsx", "sheet": None, "format": "csv",
                           "path": "sales.csv"}),
        ("convert_table", {"attachment": "sales.xlsx", "sheet": "sales", "format": "json",
                           "path": "sales.json"}),
        ("read_attachment", {"name": "sales.xlsx", "offset": 0}),
    ]  # fmt: skip
    return [
        ToolCall(id=f"call_{i}", name=n, arguments=json.dumps(a)) for i, (n, a) in enumerate(args)
    ]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every workbook parse: in this process (read_xlsx imports load_workbook at call time)
    or in a reader process started for it."""
    seen: list[str] = []
    load_workbook = openpyxl.load_workbook
    spawn = asyncio.create_subprocess_exec

    def counting(file: io.BytesIO, *args: Any, **kwargs: Any) -> Any:
        seen.append("in process")
        return load_workbook(file, *args, **kwargs)

    async def counting_spawn(*args: Any, **kwargs: Any) -> Any:
        if WORKER in args:
            seen.append("worker process")
        return await spawn(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counting)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", counting_spawn)
    return seen


async def max_healthz_latency(
    work: Callable[[], Coroutine[Any, Any, Any]],
) -> tuple[float, float, int]:
    """Run `work` while asking the runtime's /healthz, on the same loop, every POLL_SECONDS.

    A request's lateness is how much later than asked the answer came: a blocked loop delays
    both the asking and the answer. Returns the worst lateness this process caused (no more
    than the CPU time it used meanwhile: other people's tests on a shared machine may take the
    CPU), the worst wall-clock lateness, and the number of answers.
    """
    server = TestServer(create_ops_app(registry=CollectorRegistry(), ready=lambda: True))
    await server.start_server()
    caused: list[float] = []
    walls: list[float] = []
    done = asyncio.Event()

    async def poll(http: ClientSession) -> None:
        last, cpu = time.perf_counter(), time.process_time()
        while not done.is_set():
            await asyncio.sleep(POLL_SECONDS)
            async with http.get(server.make_url("/healthz")) as resp:
                assert resp.status == 200
                await resp.read()
            now, cpu_now = time.perf_counter(), time.process_time()
            walls.append(now - last - POLL_SECONDS)
            caused.append(min(walls[-1], cpu_now - cpu))
            last, cpu = now, cpu_now

    async def run() -> None:
        try:
            await asyncio.sleep(0.1)  # the poller is under way before the work starts
            await work()
        finally:
            done.set()

    try:
        async with ClientSession() as http:
            await asyncio.gather(poll(http), run())
    finally:
        await server.close()
    return max(caused, default=inf), max(walls, default=inf), len(walls)


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    """What the service does once started (app.make_deps): collections skip the start-up heap.

    Otherwise every full collection walks this process's whole heap (pytest, every test module
    loaded), which on a small machine alone takes about 100 ms, spreadsheet or not.
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


async def test_a_2_mib_xlsx_does_not_stall_healthz_and_is_parsed_once(
    parses: list[str], frozen_heap: None
) -> None:
    data = workbook(BIG_ROWS)
    assert len(data) > 1_800_000
    event = with_xlsx(data)
    results: list[tuple[str, bool]] = []

    async def spreadsheet_path() -> None:
        # What the round-1 handler does with attachments: parse, prompt, the model's tool calls.
        books = await Workbooks.read(event.attachments)
        box = ToolBox(event.attachments, None, workbooks=books)
        messages = round1_messages(
            event, read_brief(event.brief), PromptLimits(), box.specs(), books
        )
        assert f"{BIG_ROWS + 1} rows (header included) x 6 columns" in messages[1]["content"]
        for call in calls():
            results.append(await box.run(call))
        assert box.written["sales.csv"].count(b"\n") == BIG_ROWS + 1

    worst, wall, polls = await max_healthz_latency(spreadsheet_path)

    assert [ok for _, ok in results] == [True, True, True], results
    # Once, away from this process: the prompt and three tool calls share it.
    assert parses == ["worker process"]
    assert polls > 10  # /healthz was polled all through the parse
    assert worst < 0.1, f"/healthz stalled {worst:.3f} s (wall clock: {wall:.3f} s)"


async def test_the_handler_parses_each_workbook_once_per_task(
    parses: list[str], openai_script: ScriptedOpenAI, make_deps: Any
) -> None:
    data = workbook(200)
    openai_script.add(
        chat(tool_calls=[{"name": c.name, "arguments": json.loads(c.arguments)} for c in calls()]),
        chat(draft(FILES)),
    )
    site = (await handle_task_submitted(with_xlsx(data), make_deps()))[0]
    assert isinstance(site, SiteGeneratedV1) and not site.degraded
    assert {f.path for f in site.files} >= {"sales.csv", "sales.json", "sales.xlsx"}
    assert parses == ["worker process"]


async def test_an_unreadable_workbook_is_reported_not_raised() -> None:
    books = await Workbooks.read([Attachment(name="bad.xlsx", media_type=XLSX, data=b"no zip")])
    with pytest.raises(TableError, match="not a readable xlsx workbook: BadZipFile"):
        books.sheets("bad.xlsx")


async def test_the_reader_process_gives_the_same_rows_as_in_process() -> None:
    data = workbook(5000)  # more rows than one line of the reader's output holds
    [attachment] = with_xlsx(data).attachments
    assert (await Workbooks.read([attachment])).parsed == Workbooks.parse([attachment]).parsed


def test_rows_to_json_is_json_dumps_with_indent() -> None:
    rows: list[list[Any]] = [["a", None, "c"], [1, "x\ny", 2.5], ['é"q', True, None], [3]]
    header = ["a", "column_2", "c"]
    records = [dict(zip(header, r, strict=False)) for r in rows[1:]]
    expected = json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    assert rows_to_json(rows).decode() == expected
    assert rows_to_json(rows[:1]) == b"[]\n" and rows_to_json([]) == b"[]\n"
