"""JSON Schemas of the events and the request, committed under libs/contracts/schemas/.

`uv run python -m pagesmith_contracts.schemas [--write DIR]` rewrites them; a snapshot test in
tests/contracts/ compares them with the models, so every contract change shows up as a diff.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .events import EVENT_TYPES, event_type
from .request import TaskRequest

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REQUEST_SCHEMA_NAME = "task-request"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "schemas"


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"$schema": SCHEMA_DIALECT, **model.model_json_schema(mode="validation")}


def export_schemas() -> dict[str, dict[str, Any]]:
    """Schema by name: each event's `type` (e.g. `site.published.v1`) and `task-request`."""
    schemas = {event_type(cls): _schema(cls) for cls in EVENT_TYPES}
    schemas[REQUEST_SCHEMA_NAME] = _schema(TaskRequest)
    return schemas


def render(schema: dict[str, Any]) -> str:
    """The committed text of one schema: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered_files() -> dict[str, str]:
    """File name → text, exactly as `write_schemas` writes them."""
    return {f"{name}.json": render(schema) for name, schema in sorted(export_schemas().items())}


def write_schemas(directory: Path) -> list[Path]:
    """Write one `<name>.json` per schema into `directory`; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in rendered_files().items():
        path = directory / file_name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pagesmith_contracts.schemas",
        description="Write the JSON Schema of every event and of the request.",
    )
    parser.add_argument(
        "--write",
        metavar="DIR",
        type=Path,
        default=DEFAULT_DIR,
        help=f"folder to write the schemas into (default: {DEFAULT_DIR})",
    )
    args = parser.parse_args(argv)
    for path in write_schemas(args.write):
        print(path)


if __name__ == "__main__":
    main()
