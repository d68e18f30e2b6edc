"""Helpers shared by the test suites: broker vhosts, real processes, a callback receiver."""
