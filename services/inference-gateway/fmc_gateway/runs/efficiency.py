"""How fast a model answered: per item (time to first token, tokens per second) and per run (pure).

Efficiency is part of usefulness (issue 17): every record keeps its total latency, its time to the
first piece of text when the answer was streamed, and its generation speed; a run's summary is read
off its stored records. Unknown stays unknown (``None``), never estimated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fmc_common.events.inference import RunEfficiency

MAX_MS = 1e9  # about 11.6 days: no request of the gateway's lasts that long
MAX_TOKENS_PER_SECOND = 1e9


def tokens_per_second(completion_tokens: int | None, latency: float, ttft: float | None) -> float | None:
    """Completion tokens per second of generation: after the first piece when the answer was
    streamed with more than one token (the wait for the first token is the prefill, reported
    apart), over the whole latency otherwise. ``None`` when the model did not count its tokens."""
    if completion_tokens is None:
        return None
    generating = latency - ttft if ttft is not None and completion_tokens > 1 else latency
    if generating <= 0 or not math.isfinite(generating):
        return None
    return completion_tokens / generating


def checked_timing(value: object, limit: float) -> float | None:
    """A measured duration or rate as it may be stored: a finite number in 0..limit, else unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 <= number <= limit else None


@dataclass(frozen=True, slots=True)
class TimedRecord:
    """The timing of one ``ok`` record (what the summary reads: no text)."""

    latency_ms: float
    ttft_ms: float | None
    tokens_per_second: float | None


def nearest_rank(ordered: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of sorted values by nearest rank (always an observed value)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarise(records: Iterable[TimedRecord]) -> RunEfficiency:
    """The run's efficiency over its ``ok`` records: p50/p95 of time to first token (streamed
    answers) and of latency, median tokens per second; a part is ``None`` when no record has it."""
    latencies: list[float] = []
    ttfts: list[float] = []
    speeds: list[float] = []
    for record in records:
        latencies.append(record.latency_ms)
        if record.ttft_ms is not None:
            ttfts.append(record.ttft_ms)
        if record.tokens_per_second is not None:
            speeds.append(record.tokens_per_second)
    latencies.sort()
    ttfts.sort()
    speeds.sort()
    return RunEfficiency(
        items_timed=len(latencies),
        items_streamed=len(ttfts),
        ttft_ms_p50=nearest_rank(ttfts, 0.5),
        ttft_ms_p95=nearest_rank(ttfts, 0.95),
        latency_ms_p50=nearest_rank(latencies, 0.5),
        latency_ms_p95=nearest_rank(latencies, 0.95),
        tokens_per_second_median=nearest_rank(speeds, 0.5),
    )
