"""Shared plumbing of the evaluation platform.

Only what at least two services use lives here: the event envelope and event types, the outbox and
inbox, database sessions, auth, errors, settings and observability. No business rules.
"""
