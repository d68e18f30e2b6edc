"""llm_stub."""
