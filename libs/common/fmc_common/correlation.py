"""The correlation id of the work in hand: set from an HTTP header or an event, read by logs and outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Correlation-ID"

_correlation_id: ContextVar[str | None] = ContextVar("fmc_correlation_id", default=None)
_causation_id: ContextVar[str | None] = ContextVar("fmc_causation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def current_causation_id() -> str | None:
    return _causation_id.get()


@contextmanager
def correlation_scope(correlation_id: str | None, causation_id: str | None = None) -> Iterator[str]:
    """Run a block under a correlation id (a new one if none is given)."""
    cid = correlation_id or new_correlation_id()
    token = _correlation_id.set(cid)
    ctoken = _causation_id.set(causation_id)
    try:
        yield cid
    finally:
        _correlation_id.reset(token)
        _causation_id.reset(ctoken)
