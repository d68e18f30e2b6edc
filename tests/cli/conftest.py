"""The tracker fixtures, shared with the CLI's tests."""

from tests.tracker.conftest import database_url, publisher, tracker, trackers

__all__ = ["database_url", "publisher", "tracker", "trackers"]
