"""Test support: databases, settings and Kafka helpers (imported by conftest and tests)."""
