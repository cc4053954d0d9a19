"""The pure status lifecycles of teams and stages, the objection deadline and the manifest digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_common.clock import SEOUL
from fmc_grievance.windows.deadline import window_for
from fmc_registry.lifecycle import (
    STAGE_LIFECYCLE,
    TEAM_CORRECTIONS,
    TEAM_LIFECYCLE,
    EliminationReason,
    IllegalTransition,
    StageStatus,
    TeamStatus,
    public_status,
)
from fmc_registry.programmes.schedule import objection_deadline
from fmc_registry.submissions.digest import manifest_digest

T = TeamStatus
S = StageStatus


class TestTeamLifecycle:
    @pytest.mark.parametrize(
        ("current", "target"),
        [
            (T.APPLICANT, T.SELECTED),
            (T.SELECTED, T.IN_STAGE),
            (T.IN_STAGE, T.ADVANCED),
            (T.IN_STAGE, T.ELIMINATED),
            (T.ADVANCED, T.IN_STAGE),
            (T.ELIMINATED, T.SELECTED),
            (T.IN_STAGE, T.WITHDRAWN),
        ],
    )
    def test_the_steps_of_the_competition_are_allowed(self, current: TeamStatus, target: TeamStatus) -> None:
        assert TEAM_LIFECYCLE.check(current, target) == target

    @pytest.mark.parametrize(
        ("current", "target"),
        [
            (T.APPLICANT, T.IN_STAGE),
            (T.APPLICANT, T.ADVANCED),
            (T.SELECTED, T.ADVANCED),
            (T.ELIMINATED, T.ADVANCED),
            (T.ADVANCED, T.ELIMINATED),
            (T.WITHDRAWN, T.SELECTED),
            (T.IN_STAGE, T.IN_STAGE),
        ],
    )
    def test_skipping_or_undoing_a_step_is_refused_with_the_allowed_ones(
        self, current: TeamStatus, target: TeamStatus
    ) -> None:
        with pytest.raises(IllegalTransition) as refused:
            TEAM_LIFECYCLE.check(current, target)
        assert refused.value.code == "illegal-status-transition"
        assert refused.value.extra["allowed"] == sorted(s.value for s in TEAM_LIFECYCLE.allowed[current])

    def test_withdrawn_is_the_only_terminal_status(self) -> None:
        assert TEAM_LIFECYCLE.terminal() == {T.WITHDRAWN}

    @given(st.lists(st.sampled_from(list(TeamStatus)), max_size=30))
    def test_any_walk_accepted_by_the_table_never_competes_without_being_selected_first(
        self, targets: list[TeamStatus]
    ) -> None:
        status, history = TEAM_LIFECYCLE.initial, [TEAM_LIFECYCLE.initial]
        for target in targets:
            if TEAM_LIFECYCLE.can(status, target):
                status = TEAM_LIFECYCLE.check(status, target)
                history.append(status)
            else:
                with pytest.raises(IllegalTransition):
                    TEAM_LIFECYCLE.check(status, target)
        for i, step in enumerate(history):
            if step == T.IN_STAGE:
                # Every entry into a stage comes right after a selection or an advance.
                assert history[i - 1] in (T.SELECTED, T.ADVANCED)
            if step in (T.ADVANCED, T.ELIMINATED):
                assert history[i - 1] == T.IN_STAGE
        assert T.WITHDRAWN not in history[:-1]

    @given(st.sampled_from(list(TeamStatus)), st.sampled_from(list(TeamStatus)))
    def test_check_agrees_with_can(self, current: TeamStatus, target: TeamStatus) -> None:
        if TEAM_LIFECYCLE.can(current, target):
            assert TEAM_LIFECYCLE.check(current, target) == target
        else:
            with pytest.raises(IllegalTransition):
                TEAM_LIFECYCLE.check(current, target)


class TestStageLifecycle:
    def test_a_stage_moves_strictly_forward_one_step_at_a_time_until_final(self) -> None:
        order = [S.DRAFT, S.OPEN, S.EVALUATING, S.RESULTS_PUBLISHED, S.FINAL]
        for current in order[:-1]:
            for target in order:
                allowed = order.index(target) == order.index(current) + 1
                assert STAGE_LIFECYCLE.can(current, target) is allowed

    def test_a_final_stage_can_only_be_reopened_and_a_reopened_one_only_finalised_again(self) -> None:
        assert STAGE_LIFECYCLE.allowed[S.FINAL] == {S.REOPENED}
        assert STAGE_LIFECYCLE.allowed[S.REOPENED] == {S.FINAL}
        assert STAGE_LIFECYCLE.terminal() == frozenset()

    @given(st.lists(st.sampled_from(list(StageStatus)), max_size=20))
    def test_any_accepted_walk_follows_the_schedule_then_alternates_final_and_reopened(
        self, targets: list[StageStatus]
    ) -> None:
        order = [S.DRAFT, S.OPEN, S.EVALUATING, S.RESULTS_PUBLISHED, S.FINAL]
        status, history = STAGE_LIFECYCLE.initial, [STAGE_LIFECYCLE.initial]
        for target in targets:
            if STAGE_LIFECYCLE.can(status, target):
                status = STAGE_LIFECYCLE.check(status, target)
                history.append(status)
        assert history[: len(order)] == order[: len(history)]
        after = history[len(order) :]
        assert after == [S.REOPENED if i % 2 == 0 else S.FINAL for i in range(len(after))]


class TestTeamCorrections:
    @pytest.mark.parametrize(
        ("current", "target"),
        [(T.ADVANCED, T.ELIMINATED), (T.ELIMINATED, T.ADVANCED), (T.ELIMINATED, T.ELIMINATED)],
    )
    def test_a_corrected_result_may_reverse_an_outcome_or_change_the_reason(
        self, current: TeamStatus, target: TeamStatus
    ) -> None:
        assert TEAM_CORRECTIONS.check(current, target) == target

    @pytest.mark.parametrize(
        ("current", "target"),
        [
            (T.IN_STAGE, T.ELIMINATED),
            (T.SELECTED, T.ADVANCED),
            (T.WITHDRAWN, T.ADVANCED),
            (T.ADVANCED, T.IN_STAGE),
        ],
    )
    def test_teams_that_moved_on_are_not_corrected(self, current: TeamStatus, target: TeamStatus) -> None:
        with pytest.raises(IllegalTransition):
            TEAM_CORRECTIONS.check(current, target)


class TestPublicStatus:
    @given(
        st.sampled_from(list(TeamStatus)),
        st.integers(min_value=1, max_value=9),
        st.one_of(st.none(), st.sampled_from(list(EliminationReason))),
    )
    def test_says_where_a_team_stands_without_any_other_number(
        self, status: TeamStatus, stage: int, reason: EliminationReason | None
    ) -> None:
        text = public_status(status, stage, reason)
        assert [c for c in text if c.isdigit()] in ([], [str(stage)])
        assert "rank" not in text
        assert "score" not in text

    def test_an_eliminated_team_shows_why(self) -> None:
        text = public_status(T.ELIMINATED, 1, EliminationReason.ORIGINALITY)
        assert text == "eliminated in stage 1 (did not meet the originality standard)"


class TestObjectionDeadline:
    def test_notified_on_15_january_objections_run_through_25_january_in_seoul(self) -> None:
        """The day of notification is not counted, as grievance enforces it."""
        notified = datetime(2026, 1, 15, 10, tzinfo=SEOUL)
        deadline = objection_deadline(notified, 10)
        assert deadline == datetime(2026, 1, 26, 0, 0, tzinfo=SEOUL)
        assert deadline.utcoffset() == timedelta(hours=9)

    @given(
        st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
        st.integers(min_value=1, max_value=60),
    )
    def test_the_window_is_whole_seoul_days_and_more_than_days_long(
        self, notified: datetime, days: int
    ) -> None:
        deadline = objection_deadline(notified, days)
        assert (deadline.astimezone(SEOUL).hour, deadline.astimezone(SEOUL).minute) == (0, 0)
        length = deadline - notified
        assert timedelta(days=days) < length <= timedelta(days=days + 1)
        # The same instant grievance closes the window at, for the same notification.
        assert deadline == window_for(notified, days).closes_at

    def test_zero_days_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least 1"):
            objection_deadline(datetime(2026, 1, 1, tzinfo=UTC), 0)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


class TestManifestDigest:
    @given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
    def test_the_digest_ignores_key_order(self, manifest: dict[str, object]) -> None:
        reordered = dict(reversed(list(manifest.items())))
        assert manifest_digest(manifest) == manifest_digest(reordered)
        assert len(manifest_digest(manifest)) == len("sha256:") + 64

    def test_a_changed_file_hash_changes_the_digest(self) -> None:
        one = {"files": [{"path": "a.safetensors", "sha256": "0" * 64, "size_bytes": 1}]}
        other = {"files": [{"path": "a.safetensors", "sha256": "1" * 64, "size_bytes": 1}]}
        assert manifest_digest(one) != manifest_digest(other)
