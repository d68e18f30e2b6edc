"""Adapters: library clients behind the generator's ports."""
