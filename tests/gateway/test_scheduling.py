"""Fair turns across runs (pure): properties of the round-robin queue."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TypeVar

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


# A pool's runs as (team, run size) pairs: run i belongs to team teams[i].
teams_and_runs = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=40)),
    min_size=1,
    max_size=10,
)


Run = TypeVar("Run", int, str)


def drain(queue: FairQueue[Run, int], eligible: Callable[[Run], bool] = lambda _run: True) -> list[Run]:
    order: list[Run] = []
    while (popped := queue.pop(eligible)) is not None:
        order.append(popped[0])
    return order


class TestFairShareAcrossTeams:
    @given(teams_and_runs)
    def test_while_every_team_has_items_each_team_gets_one_turn_per_round_whatever_its_runs(
        self, runs: list[tuple[int, int]]
    ) -> None:
        queue: FairQueue[int, int] = FairQueue()
        for run, (team, size) in enumerate(runs):
            queue.extend(run, range(size), group=team)
        team_of = {run: team for run, (team, _) in enumerate(runs)}
        order = [team_of[run] for run in drain(queue)]
        team_sizes = Counter[int]()
        for team, size in runs:
            team_sizes[team] += size
        # Until the team with the fewest items in all is drained, the pops go round the teams.
        teams = len(team_sizes)
        head = order[: min(team_sizes.values()) * teams]
        for start in range(0, len(head), teams):
            assert sorted(head[start : start + teams]) == sorted(team_sizes)

    @given(teams_and_runs)
    def test_a_teams_runs_share_its_turn_in_rotation(self, runs: list[tuple[int, int]]) -> None:
        queue: FairQueue[int, int] = FairQueue()
        for run, (team, size) in enumerate(runs):
            queue.extend(run, range(size), group=team)
        order = drain(queue)
        assert len(order) == sum(size for _, size in runs)
        for team in {team for team, _ in runs}:
            mine = {run: size for run, (t, size) in enumerate(runs) if t == team}
            served = [run for run in order if run in mine]
            # Within the team, round-robin over its runs until its smallest run is drained.
            head = served[: min(mine.values()) * len(mine)]
            for start in range(0, len(head), len(mine)):
                assert sorted(head[start : start + len(mine)]) == sorted(mine)

    @given(st.integers(min_value=1, max_value=8), st.integers(min_value=20, max_value=200))
    def test_a_team_with_one_run_gets_as_many_turns_as_a_team_with_many(self, many: int, size: int) -> None:
        queue: FairQueue[str, int] = FairQueue()
        for number in range(many):
            queue.extend(f"a{number}", range(size), group="A")
        queue.extend("b", range(size), group="B")
        order = drain(queue)
        # While team B has items, A and B alternate: B's share is one half, not 1 / (many + 1).
        last_b = max(i for i, run in enumerate(order) if run == "b")
        served_a = sum(1 for run in order[: last_b + 1] if run != "b")
        assert abs(served_a - size) <= 1

    @given(teams_and_runs, st.sets(st.integers(min_value=0, max_value=9)))
    def test_only_eligible_runs_are_served_and_none_is_returned_only_when_no_eligible_run_has_items(
        self, runs: list[tuple[int, int]], blocked: set[int]
    ) -> None:
        queue: FairQueue[int, int] = FairQueue()
        for run, (team, size) in enumerate(runs):
            queue.extend(run, range(size), group=team)
        order = drain(queue, lambda run: run not in blocked)
        assert blocked.isdisjoint(order)
        assert Counter(order) == {run: size for run, (_, size) in enumerate(runs) if run not in blocked}
        assert sorted(queue.keys()) == sorted(run for run in range(len(runs)) if run in blocked)
        assert len(queue) == sum(size for run, (_, size) in enumerate(runs) if run in blocked)

    @given(teams_and_runs, st.data())
    def test_dropping_a_run_keeps_the_other_runs_and_the_counts_right(
        self, runs: list[tuple[int, int]], data: st.DataObject
    ) -> None:
        queue: FairQueue[int, int] = FairQueue()
        for run, (team, size) in enumerate(runs):
            queue.extend(run, range(size), group=team)
        dropped = data.draw(st.integers(min_value=0, max_value=len(runs) - 1))
        assert queue.drop(dropped) == list(range(runs[dropped][1]))
        assert queue.pending(dropped) == 0
        assert Counter(drain(queue)) == {run: size for run, (_, size) in enumerate(runs) if run != dropped}
        assert queue.groups() == []

    def test_a_run_keeps_its_team_when_items_are_pushed_again(self) -> None:
        queue: FairQueue[str, int] = FairQueue()
        queue.extend("a1", [1, 2], group="A")
        queue.extend("a2", [3], group="A")
        queue.extend("b", [4, 5], group="B")
        assert queue.pop() == ("a1", 1)
        queue.push("a1", 0, group="A", front=True)  # a retried item, back at the front of its run
        assert [queue.pop(), queue.pop(), queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [
            ("b", 4),
            ("a2", 3),
            ("b", 5),
            ("a1", 0),
            ("a1", 2),
            None,
        ]
