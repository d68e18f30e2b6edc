"""A fresh database per test, as for the tracker's own tests."""

from tests.tracker.conftest import database_url

__all__ = ["database_url"]
