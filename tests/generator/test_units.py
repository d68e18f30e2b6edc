"""Unit tests: paths, brief facts, site assembly, secrets, spreadsheets, workflow, validation."""

from __future__ import annotations

import json

import pytest
import yaml
from generator.brief import read_brief
from generator.degraded import degraded_round1
from generator.paths import InvalidPath, check_path
from generator.secrets import CHUNK_CHARS, SecretScanner
from generator.site import assemble, license_file, may_edit_attachment
from generator.tabular import read_xlsx, rows_to_csv, rows_to_json
from generator.validate import fix_json_floats, static_problems
from generator.workflow import WorkflowError, workflow_problems, workflow_template
from pagesmith_contracts import Attachment, Check

from .conftest import load_request, submitted


@pytest.mark.parametrize(
    "path", ["index.html", "css/site.css", ".github/workflows/ci.yml", "./a.txt", "a b.txt"]
)
def test_valid_paths(path: str) -> None:
    assert check_path(path) == path.removeprefix("./")


@pytest.mark.parametrize(
    "path",
    ["", "/abs", "../x", "a/../../x", "a/..", ".git/config", "x/.git/HEAD", "a\\b", "n\x00",
     "a" * 256, "dir/", "C:/x", " lead", "tab\there"],
)  # fmt: skip
def test_invalid_paths(path: str) -> None:
    with pytest.raises(InvalidPath):
        check_path(path)


def test_brief_facts_of_the_real_tasks() -> None:
    llm = read_brief(load_request("LLMPages")["brief"])
    assert set(llm.named_files) >= {
        "ashravan.txt", "dilemma.json", "about.md", "pelican.svg",
        "restaurant.json", "prediction.json", "index.html", "uid.txt",
    }  # fmt: skip
    limits = {w.path: (w.low, w.high) for w in llm.word_limits}
    assert limits == {"ashravan.txt": (300, 400), "about.md": (3, 3)}
    assert ("lat", "float") in llm.json_types["restaurant.json"]
    assert ("people", "=3") in llm.json_types["dilemma.json"]
    analyze = read_brief(load_request("Analyze")["brief"])
    assert analyze.wants_workflow and analyze.forbidden_files == ("result.json",)
    assert "result.json" not in analyze.named_files
    share = read_brief(load_request("ShareVolume")["brief"])
    assert "EntityCommonStockSharesOutstanding.json" not in share.named_files  # inside a URL


def test_attachments_override_model_text_unless_the_brief_asks_for_an_edit() -> None:
    uid = Attachment(name="uid.txt", media_type="text/plain", data=b"123")
    script = Attachment(name="execute.py", media_type="text/x-python", data=b"revenew\n")
    brief = "Commit execute.py after fixing the error in it.\nAlso commit uid.txt as-is."
    out = assemble(
        model_files=[("uid.txt", "123\n"), ("execute.py", "revenue\n"), ("LICENSE", "no")],
        code_files={},
        attachments=[uid, script],
        brief=brief,
        edited_attachments=["execute.py", "uid.txt"],
        license=license_file(2025, "Someone"),
        readme_fallback="# fallback\n",
    )
    files = {f.path: f.content for f in out.files}
    assert files["uid.txt"] == b"123"
    assert files["execute.py"] == b"revenue\n"
    assert b"Copyright (c) 2025 Someone" in files["LICENSE"]
    assert files["README.md"] == b"# fallback\n"
    assert not may_edit_attachment(uid, brief) and may_edit_attachment(script, brief)


def test_binary_attachments_are_never_replaced() -> None:
    png = Attachment(name="a.png", media_type="image/png", data=b"\x89PNG\x00\x01")
    out = assemble(model_files=[("a.png", "text")], code_files={}, attachments=[png], brief="",
                   edited_attachments=["a.png"], license=None, readme_fallback=None)  # fmt: skip
    assert {f.path: f.content for f in out.files}["a.png"] == png.data


def test_secret_scanner() -> None:
    scanner = SecretScanner(["my-own-secret-value"])
    text = (
        "ghp_" + "a" * 36 + "\nkey=sk-proj-" + "b" * 40 + "\n-----BEGIN RSA PRIVATE KEY-----\n"
        "amqp://user:longpassword@host/\nmy-own-secret-value\n"
    )
    kinds = {f.kind for f in scanner.scan({"x.txt": text.encode()})}
    assert kinds == {"GitHub token", "OpenAI key", "private key", "credentials in a URL",
                     "the generator's own secret"}  # fmt: skip
    assert scanner.scan({"ok.html": b"<p>sk-learn and task-based skills</p>"}) == []
    assert "my-own-secret-value" not in scanner.redact(text)


def test_real_spreadsheet_converts_every_row() -> None:
    event = submitted(load_request("Analyze"))
    xlsx = next(a for a in event.attachments if a.name == "data.xlsx")
    sheets = read_xlsx(xlsx.data)
    rows = next(iter(sheets.values()))
    assert len(rows) == 501 and rows[0] == ("date", "region", "product", "units", "price")
    csv_text = rows_to_csv(rows).decode()
    assert csv_text.count("\n") == 501 and csv_text.startswith("date,region,product,units,price\n")
    records = json.loads(rows_to_json(rows))
    assert len(records) == 500 and isinstance(records[0]["units"], int)


def test_workflow_template_is_valid_and_passes_its_own_checks() -> None:
    text = workflow_template(["pandas"], ["python execute.py > result.json"], ["result.json"])
    doc = yaml.safe_load(text)
    assert set(doc["jobs"]) == {"build", "deploy"}
    assert doc["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert workflow_problems(text) == []
    steps = json.dumps(doc["jobs"]["build"]["steps"])
    assert "ruff check ." in steps and "execute.py" in steps and "upload-pages-artifact@v3" in steps
    with pytest.raises(WorkflowError):
        workflow_template(["pandas; rm -rf /"], ["x"], [])


def test_stale_workflow_is_reported() -> None:
    stale = (
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: ruff .\n      - uses: actions/upload-pages-artifact@v1\n"
        "      - uses: actions/deploy-pages@v1\n"
    )
    problems = workflow_problems(stale)
    assert len(problems) == 5


def test_static_problems_and_float_fix() -> None:
    facts = read_brief(load_request("LLMPages")["brief"])
    files = {
        "index.html": b'<html><head><title>x</title></head><body><script src="x.js"></script>'
        b"<script>fetch('a')</script></body></html>",
        "README.md": b"# x",
        "about.md": b"one two three four",
        "restaurant.json": b'{"city": "Delhi", "lat": 28, "long": 77.2, "name": "n", '
        b'"what_to_eat": "w"}',
        "dilemma.json": b'{"people": 2, "case_1": {"swerve": "yes", "reason": "r"}}',
        "pelican.svg": b"<svg><g></svg>",
        "prediction.json": b"{bad",
    }
    problems = "\n".join(static_problems(files, facts))
    assert "`about.md` has 4 words; it must have exactly 3" in problems
    assert "`ashravan.txt` is missing" in problems
    assert "`dilemma.json`: `people` is 2; it must be 3" in problems
    assert '`swerve` is "yes"; it must be a JSON bool' in problems
    assert "`pelican.svg` is not well-formed XML" in problems
    assert "`prediction.json` is not valid JSON" in problems
    assert "first <script> element is external" in problems
    assert "`lat` is 28; it must be a JSON float" in problems
    fixed = fix_json_floats(files, facts)
    assert json.loads(fixed["restaurant.json"])["lat"] == 28.0


def test_degraded_site_is_honest_and_complete() -> None:
    uid = Attachment(name="uid.txt", media_type="text/plain", data=b"42")
    files = {
        f.path: f.content
        for f in degraded_round1(task="T", brief="<b>brief</b>", checks=(Check(text="c"),),
                                 attachments=[uid], reason="model down", year=2025, holder="H")
    }  # fmt: skip
    assert set(files) == {"index.html", "README.md", "uid.txt", "LICENSE", ".nojekyll"}
    assert b"&lt;b&gt;brief&lt;/b&gt;" in files["index.html"] and files["uid.txt"] == b"42"
    assert b"model down" in files["README.md"] and b"degraded" in files["README.md"]


def test_secret_scanner_reads_large_files_piecewise_with_line_numbers() -> None:
    filler = "x = 1\n" * (CHUNK_CHARS // 3)  # the key lands past the first piece
    text = filler + "key = 'ghp_" + "A" * 36 + "'\n" + filler
    [finding] = SecretScanner().scan({"big.py": text.encode()})
    assert finding.kind == "GitHub token"
    assert finding.line == filler.count("\n") + 1
