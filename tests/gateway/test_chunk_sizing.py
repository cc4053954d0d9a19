"""How many items a run's chunk holds: the configured size, larger for a large run, within the cap."""

from __future__ import annotations

import pytest

from fmc_gateway.runs.preparation import CHUNKS_PER_RUN, chunk_items


@pytest.mark.parametrize(
    ("total", "smallest", "largest", "expected"),
    [
        (1, 200, 1000, 200),  # a small run: the configured size
        (3200, 200, 1000, 200),  # sixteen chunks of the configured size already
        (10_000, 200, 1000, 625),  # a sixteenth of the run
        (1_000_000, 200, 1000, 1000),  # capped
        (2000, 50, 1000, 125),
        (10_000, 2000, 1000, 2000),  # a configured size above the cap wins
    ],
)
def test_a_run_gets_about_sixteen_chunks_within_the_bounds(
    total: int, smallest: int, largest: int, expected: int
) -> None:
    assert chunk_items(total, smallest, largest) == expected


def test_every_item_falls_in_a_chunk_and_a_large_run_keeps_about_sixteen_to_share() -> None:
    for total in (1, 199, 3201, 9999, 10_000, 16_001):
        size = chunk_items(total, 200, 1000)
        chunks = -(-total // size)
        assert chunks * size >= total
        assert chunks <= max(CHUNKS_PER_RUN, -(-total // 200))
        assert total <= 3200 or chunks >= CHUNKS_PER_RUN - 1
