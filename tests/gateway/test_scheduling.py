"""Fair turns across runs (pure): properties of the round-robin queue."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from fmc_gateway.runs.scheduling import FairQueue

pushes = st.lists(st.tuples(st.integers(min_value=0, max_value=5), st.integers()), max_size=200)


class TestFairQueue:
    @given(pushes)
    def test_every_item_comes_out_once_in_its_runs_order(self, items: list[tuple[int, int]]) -> None:
        queue: FairQueue[int, tuple[int, int]] = FairQueue()
        for position, (run, value) in enumerate(items):
            queue.push(run, (position, value))
        out: list[tuple[int, tuple[int, int]]] = []
        while (popped := queue.pop()) is not None:
            out.append(popped)
        assert len(queue) == 0
        assert sorted(item for _, item in out) == sorted((i, v) for i, (_, v) in enumerate(items))
        for run in {run for run, _ in items}:
            positions = [item[0] for r, item in out if r == run]
            assert positions == sorted(positions)

    @given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6))
    def test_while_every_run_has_items_each_gets_one_turn_per_round(self, sizes: list[int]) -> None:
        queue: FairQueue[int, int] = FairQueue()
        for run, size in enumerate(sizes):
            queue.extend(run, range(size))
        order = []
        while (popped := queue.pop()) is not None:
            order.append(popped[0])
        # Up to the moment the smallest run is drained, the pops go round the runs in turn.
        rounds = min(sizes)
        head = order[: rounds * len(sizes)]
        for start in range(0, len(head), len(sizes)):
            assert sorted(head[start : start + len(sizes)]) == list(range(len(sizes)))

    @given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=500))
    def test_a_large_run_does_not_starve_a_small_one_that_came_later(self, large: int, small: int) -> None:
        queue: FairQueue[str, int] = FairQueue()
        queue.extend("large", range(large))
        first = queue.pop()
        queue.extend("small", range(small))
        order = [first[0]] if first else []
        while (popped := queue.pop()) is not None:
            order.append(popped[0])
        # The small run's items come no later than one turn after each other, until it is done.
        last_small = max(i for i, run in enumerate(order) if run == "small")
        assert Counter(order[: last_small + 1])["large"] <= small + 1

    def test_an_ineligible_run_is_skipped_without_losing_its_turn_forever(self) -> None:
        queue: FairQueue[str, int] = FairQueue()
        queue.extend("a", [1, 2])
        queue.extend("b", [3, 4])
        assert queue.pop(lambda run: run != "a") == ("b", 3)
        assert queue.pop() == ("a", 1)
        assert queue.pop() == ("b", 4)
        assert queue.pop() == ("a", 2)
        assert queue.pop() is None

    def test_a_retried_item_goes_first_in_its_run(self) -> None:
        queue: FairQueue[str, int] = FairQueue()
        queue.extend("a", [1, 2])
        queue.push("a", 0, front=True)
        assert [queue.pop(), queue.pop(), queue.pop()] == [("a", 0), ("a", 1), ("a", 2)]

    def test_drop_removes_a_runs_items(self) -> None:
        queue: FairQueue[str, int] = FairQueue()
        queue.extend("a", [1, 2])
        queue.extend("b", [3])
        assert queue.drop("a") == [1, 2]
        assert len(queue) == 1
        assert queue.pending("a") == 0
        assert queue.keys() == ["b"]
