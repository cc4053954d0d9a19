"""Benchmark suites: versioned, content-hashed; items (prompts, choices) kept apart from answer keys."""
