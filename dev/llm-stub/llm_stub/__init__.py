"""A local OpenAI-compatible endpoint that answers from scripts and records every request."""
