"""The web tier's pure helpers: blind labels for evaluators, the operator's stage board, countdowns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from fmc_web.panel import blind_labels
from fmc_web.views import Check, PanelModel, Run, Score, board, panel_progress, remaining, seoul


class TestBlindLabels:
    @given(st.lists(st.uuids(), min_size=1, max_size=12, unique=True), st.text(min_size=1, max_size=20))
    def test_every_model_gets_one_label_from_one_upwards(self, teams: list[uuid.UUID], subject: str) -> None:
        labels = blind_labels(subject, uuid.UUID(int=1), teams)
        assert sorted(labels) == list(range(1, len(teams) + 1))
        assert set(labels.values()) == set(teams)

    def test_the_order_is_the_evaluators_own_and_stays_the_same_for_them(self) -> None:
        stage = uuid.uuid4()
        teams = [uuid.uuid4() for _ in range(8)]
        assert blind_labels("kim", stage, teams) == blind_labels("kim", stage, list(reversed(teams)))
        orders = {tuple(blind_labels(f"expert-{n}", stage, teams).values()) for n in range(10)}
        assert len(orders) > 1


class TestBoard:
    def test_runs_are_counted_per_team_and_the_latest_check_gives_the_verdict(self) -> None:
        a, b = uuid.uuid4(), uuid.uuid4()
        stage = uuid.uuid4()
        early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
        runs = [
            Run(team_id=a, status="graded"),
            Run(team_id=a, status="failed"),
            Run(team_id=b, status="requested"),
        ]
        checks = [
            Check(
                stage_id=stage, team_id=a, status="completed", verdict="reused", summary="x", created_at=early
            ),
            Check(
                stage_id=stage,
                team_id=a,
                status="completed",
                verdict="original",
                summary="y",
                created_at=late,
            ),
        ]
        lines = {line.name: line for line in board({a: "Alpha", b: "Beta"}, runs, checks)}
        assert (lines["Alpha"].runs, lines["Alpha"].done, lines["Alpha"].failed) == (2, 1, 1)
        assert lines["Alpha"].verdict == "original"
        assert (lines["Beta"].done, lines["Beta"].verdict) == (0, None)


class TestTime:
    def test_a_deadline_reads_in_korea_time_with_its_zone(self) -> None:
        assert seoul("2026-01-25T14:59:59+00:00") == "2026-01-25 23:59 KST"

    def test_the_countdown_is_days_hours_minutes_and_none_once_passed(self) -> None:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        assert remaining(now, now + timedelta(days=2, hours=3, minutes=4, seconds=5)) == (2, 3, 4)
        assert remaining(now, now) is None


class TestPanelProgress:
    def test_a_model_in_conflict_is_neither_to_score_nor_scored(self) -> None:
        score = Score(
            id=uuid.uuid4(),
            team_id=uuid.uuid4(),
            technical_originality=70,
            technological_capability=70,
            readiness=70,
            comment="ok",
            submitted_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        models = [
            PanelModel(1, score, None, None),
            PanelModel(2, None, None, None),
            PanelModel(3, score, None, "declared"),  # scored, then withdrawn by a declaration
            PanelModel(4, None, None, "affiliation"),
        ]
        assert panel_progress(models) == (1, 2)
