"""Pagesmith publisher: repositories, commits, Pages and round-2 checkouts on GitHub."""
