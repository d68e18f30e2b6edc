"""One module per handled event type."""
