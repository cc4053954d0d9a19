"""Scoring's append-only audit trail: who decided what, when, and why."""
