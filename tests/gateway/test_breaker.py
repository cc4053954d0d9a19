"""The circuit breaker and the backoff (pure): examples and properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_gateway.runs.backoff import backoff_ceiling, backoff_delay
from fmc_gateway.runs.breaker import BreakerState, CircuitBreaker


class TestBreakerExamples:
    def test_it_opens_after_the_threshold_of_consecutive_failures(self) -> None:
        breaker = CircuitBreaker(failure_threshold=3, reset_after=5.0)
        assert breaker.record_failure(0.0) == BreakerState.CLOSED
        assert breaker.record_failure(0.1) == BreakerState.CLOSED
        assert breaker.record_failure(0.2) == BreakerState.OPEN
        assert not breaker.can_send(0.3)
        assert breaker.retry_at() == pytest.approx(5.2)

    def test_a_success_resets_the_count(self) -> None:
        breaker = CircuitBreaker(failure_threshold=2, reset_after=1.0)
        breaker.record_failure(0.0)
        breaker.record_success()
        assert breaker.record_failure(0.1) == BreakerState.CLOSED

    def test_after_the_reset_time_exactly_one_probe_goes_and_its_success_closes(self) -> None:
        breaker = CircuitBreaker(failure_threshold=1, reset_after=1.0)
        breaker.record_failure(0.0)
        assert not breaker.acquire(0.5)
        assert breaker.acquire(1.0)
        assert breaker.state == BreakerState.HALF_OPEN
        assert not breaker.acquire(1.1)  # one probe at a time
        assert breaker.record_success() == BreakerState.CLOSED
        assert breaker.acquire(1.2)

    def test_a_failed_probe_opens_it_again_from_that_moment(self) -> None:
        breaker = CircuitBreaker(failure_threshold=1, reset_after=1.0)
        breaker.record_failure(0.0)
        assert breaker.acquire(1.5)
        assert breaker.record_failure(1.6, "connection refused") == BreakerState.OPEN
        assert breaker.retry_at() == pytest.approx(2.6)
        assert breaker.last_error == "connection refused"

    def test_bad_settings_are_refused(self) -> None:
        with pytest.raises(ValueError, match="failure_threshold"):
            CircuitBreaker(failure_threshold=0)
        with pytest.raises(ValueError, match="reset_after"):
            CircuitBreaker(reset_after=0)


# An event: ("ok",) a success, ("fail",) a failure, ("try",) an attempt to send; time moves by dt.
events = st.lists(
    st.tuples(st.sampled_from(["ok", "fail", "try"]), st.floats(min_value=0, max_value=3)), max_size=200
)


class TestBreakerProperties:
    @given(events, st.integers(min_value=1, max_value=6), st.floats(min_value=0.1, max_value=5))
    def test_no_request_goes_while_open_before_the_reset_time(
        self, steps: list[tuple[str, float]], threshold: int, reset: float
    ) -> None:
        breaker = CircuitBreaker(failure_threshold=threshold, reset_after=reset)
        now = 0.0
        for action, dt in steps:
            now += dt
            if action == "try":
                was_open_early = (
                    breaker.state == BreakerState.OPEN
                    and breaker.opened_at is not None
                    and now < breaker.opened_at + reset
                )
                granted = breaker.acquire(now)
                assert not (granted and was_open_early)
            elif action == "ok":
                breaker.record_success()
            else:
                breaker.record_failure(now)

    @given(events, st.integers(min_value=1, max_value=6))
    def test_at_most_one_probe_is_in_flight_while_half_open(
        self, steps: list[tuple[str, float]], threshold: int
    ) -> None:
        breaker = CircuitBreaker(failure_threshold=threshold, reset_after=1.0)
        now = 0.0
        probes = 0
        for action, dt in steps:
            now += dt
            if action == "try":
                before = breaker.state
                if breaker.acquire(now) and before != BreakerState.CLOSED:
                    probes += 1
                    assert probes == 1
            else:
                if action == "ok":
                    breaker.record_success()
                else:
                    breaker.record_failure(now)
                probes = 0

    @given(st.lists(st.booleans(), max_size=100), st.integers(min_value=1, max_value=10))
    def test_it_is_open_exactly_when_the_last_failures_reach_the_threshold(
        self, outcomes: list[bool], threshold: int
    ) -> None:
        """Without probes in between, the state is a function of the trailing run of failures."""
        breaker = CircuitBreaker(failure_threshold=threshold, reset_after=1e9)
        trailing = 0
        for ok in outcomes:
            if ok:
                breaker.record_success()
                trailing = 0
            else:
                breaker.record_failure(0.0)
                trailing += 1
            assert (breaker.state == BreakerState.OPEN) == (trailing >= threshold)


class TestBackoff:
    def test_the_ceiling_doubles_up_to_the_cap(self) -> None:
        assert [backoff_ceiling(n, 0.1, 1.0) for n in range(1, 7)] == pytest.approx(
            [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
        )

    def test_attempts_start_at_one(self) -> None:
        with pytest.raises(ValueError, match="attempt"):
            backoff_ceiling(0, 0.1, 1.0)

    @given(
        st.integers(min_value=1, max_value=10_000),
        st.floats(min_value=0.001, max_value=10),
        st.floats(min_value=0.001, max_value=100),
        st.integers(),
    )
    def test_the_delay_is_within_zero_and_the_ceiling(
        self, attempt: int, base: float, cap: float, seed: int
    ) -> None:
        delay = backoff_delay(attempt, base, cap, random.Random(seed))
        assert 0.0 <= delay <= min(cap, base * 2 ** min(attempt - 1, 60))

    def test_the_jitter_spreads_retries(self) -> None:
        rng = random.Random(7)
        delays = {round(backoff_delay(5, 0.1, 10.0, rng), 6) for _ in range(50)}
        assert len(delays) > 40
