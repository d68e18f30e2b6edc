"""pagesmith: the command line for submitting and following tasks."""
