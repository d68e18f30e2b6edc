"""pagesmith_runtime."""
