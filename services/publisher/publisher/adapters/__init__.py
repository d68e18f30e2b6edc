"""Adapters: library clients behind the publisher's ports."""
