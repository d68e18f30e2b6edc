"""Contract snapshots: the committed JSON Schemas equal what the models export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pagesmith_contracts import EVENT_TYPES, event_type
from pagesmith_contracts.schemas import DEFAULT_DIR, export_schemas, rendered_files

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "libs" / "contracts" / "schemas"
EXPORT = "uv run python -m pagesmith_contracts.schemas"
EXPECTED = rendered_files()


def test_the_default_folder_is_the_committed_one() -> None:
    assert DEFAULT_DIR == SCHEMA_DIR


def test_one_schema_per_event_and_one_for_the_request() -> None:
    assert set(EXPECTED) == {f"{event_type(cls)}.json" for cls in EVENT_TYPES} | {
        "task-request.json"
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_schema_matches_the_model(name: str) -> None:
    path = SCHEMA_DIR / name
    assert path.exists(), f"{path} is missing: run `{EXPORT}` and commit the result"
    assert path.read_text(encoding="utf-8") == EXPECTED[name], (
        f"the contract behind {name} changed: run `{EXPORT}`, review the diff and commit it "
        "(a breaking change needs a new …V2 class, never an edit)"
    )


def test_no_stale_schema_files() -> None:
    stale = sorted({p.name for p in SCHEMA_DIR.glob("*.json")} - set(EXPECTED))
    assert not stale, f"schemas without a model: {stale}; remove them or restore the model"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_files_are_commit_ready(name: str) -> None:
    text = EXPECTED[name]
    assert text.endswith("}\n") and not text.endswith("\n\n")
    schema = json.loads(text)
    assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=[c.__name__ for c in EVENT_TYPES])
def test_event_schemas_pin_the_type_and_forbid_extras(cls: type) -> None:
    schema = export_schemas()[event_type(cls)]
    assert schema["title"] == cls.__name__
    assert schema["properties"]["type"]["const"] == event_type(cls)
    assert schema["additionalProperties"] is False
    assert {"source", "subject"} <= set(schema["required"])


def test_bytes_are_base64_strings_in_the_schema() -> None:
    schema = export_schemas()["site.generated.v1"]
    content = schema["$defs"]["SiteFile"]["properties"]["content"]
    assert content == {"contentEncoding": "base64", "title": "Content", "type": "string"}


def test_request_schema_round_is_an_integer_one_or_two() -> None:
    round_ = export_schemas()["task-request"]["properties"]["round"]
    assert (round_["type"], round_["minimum"], round_["maximum"]) == ("integer", 1, 2)


def test_export_command_writes_the_same_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pagesmith_contracts.schemas", "--write", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    written = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    assert written == EXPECTED
