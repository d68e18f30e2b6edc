"""Where the tests' real task requests live: inside the repository, never beside it."""

from __future__ import annotations

from pathlib import Path

TDS_TASKS = Path(__file__).resolve().parents[1] / "fixtures" / "tds-tasks"
