"""The tamper-evident audit trail: append-only entries chained by their hashes."""
