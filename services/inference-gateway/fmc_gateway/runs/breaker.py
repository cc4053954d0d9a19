"""A circuit breaker per endpoint: closed -> open after consecutive failures -> one probe -> closed.

Pure logic: no I/O, no clock of its own. Callers pass ``now`` (monotonic seconds), which makes the
state machine easy to test and to reason about.

* CLOSED: every request may go. ``failure_threshold`` consecutive failures open the circuit.
* OPEN: nothing may go until ``reset_after`` seconds have passed since it opened.
* HALF_OPEN: exactly one probe may go. Its success closes the circuit; its failure opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    reset_after: float = 5.0
    state: BreakerState = field(default=BreakerState.CLOSED, init=False)
    consecutive_failures: int = field(default=0, init=False)
    opened_at: float | None = field(default=None, init=False)
    last_error: str | None = field(default=None, init=False)
    _probe_in_flight: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if self.reset_after <= 0:
            raise ValueError("reset_after must be > 0")

    def can_send(self, now: float) -> bool:
        """Whether a request may be sent now (without taking the probe slot)."""
        if self.state == BreakerState.CLOSED:
            return True
        if self.state == BreakerState.OPEN:
            return self.opened_at is not None and now >= self.opened_at + self.reset_after
        return not self._probe_in_flight

    def acquire(self, now: float) -> bool:
        """Take permission to send one request; in HALF_OPEN only one probe at a time is granted."""
        if not self.can_send(now):
            return False
        if self.state == BreakerState.OPEN:
            self.state = BreakerState.HALF_OPEN
        if self.state == BreakerState.HALF_OPEN:
            self._probe_in_flight = True
        return True

    def record_success(self) -> BreakerState:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = None
        self._probe_in_flight = False
        return self.state

    def record_failure(self, now: float, error: str | None = None) -> BreakerState:
        """Count a failure that says the endpoint is down (not a model error on one item)."""
        self.last_error = error
        self.consecutive_failures += 1
        if self.state == BreakerState.HALF_OPEN or (
            self.state == BreakerState.CLOSED and self.consecutive_failures >= self.failure_threshold
        ):
            self.state = BreakerState.OPEN
            self.opened_at = now
        self._probe_in_flight = False
        return self.state

    def retry_at(self) -> float | None:
        """When an open circuit lets a probe through (None when not open)."""
        if self.state != BreakerState.OPEN or self.opened_at is None:
            return None
        return self.opened_at + self.reset_after
