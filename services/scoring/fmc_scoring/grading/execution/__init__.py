"""Executed code: a ``code`` item's answer is run against its hidden tests in a sandbox."""
