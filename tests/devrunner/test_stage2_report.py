"""The stage-2 section of the replay's report: the versions announced and what each correction did."""

from __future__ import annotations

from fmc_devrunner.stage1.scenario import ReplayRecord
from fmc_devrunner.stage2 import report


def announced(version: int, corrects: int | None, teams: dict[str, str]) -> dict[str, object]:
    return {
        "type": "fmc.scoring.stage-result-announced.v1",
        "data": {
            "version": version,
            "corrects_version": corrects,
            "correction": "re-evaluation" if corrects else None,
            "announced_at": f"2026-12-1{version}T15:00:00Z",
            "teams": [{"team_name": name, "outcome": outcome} for name, outcome in teams.items()],
        },
    }


class TestVersionRows:
    def test_each_announced_version_says_what_it_corrects_and_who_advanced(self) -> None:
        record = ReplayRecord(
            public_announcement=[
                announced(1, None, {"B": "advanced", "A": "eliminated"}),
                announced(2, 1, {"A": "advanced", "B": "eliminated"}),
            ]
        )
        header, rows = report.version_rows(record)
        assert header[:3] == ["version", "corrects", "correction"]
        assert [row[:3] + row[4:] for row in rows] == [
            ["1", "", "", "B"],
            ["2", "version 1", "re-evaluation", "A"],
        ]


class TestCorrectionRows:
    def test_a_replayed_correction_is_summarised_from_what_it_saw(self) -> None:
        final = {
            "hook": "hook_final_stage_refuses_new_version",
            "what": "the finalised stage refuses a new result version",
            "replayed": True,
            "public_final": True,
            "public_version": 3,
            "registry_stage": "final",
            "propose_status": 409,
            "propose_code": "stage-final",
        }
        record = ReplayRecord(finalisation={"corrections": [final]})
        _, rows = report.correction_rows(record)
        assert rows == [
            [
                "hook_final_stage_refuses_new_version",
                "yes",
                "public final True (version 3), registry stage final; proposing a version: 409 stage-final",
            ]
        ]

    def test_a_correction_that_stopped_half_way_says_how_far_it_got(self) -> None:
        started = {
            "hook": "hook_wrong_originality_check",
            "what": "a wrong originality check corrected by an accepted objection, reversing two outcomes",
            "replayed": True,
            "wrong_donor": {"id": "d", "name": "donor", "actually": "a team's own release"},
        }
        record = ReplayRecord(finalisation={"corrections": [started]})
        [[_, _, seen]] = report.correction_rows(record)[1]
        assert seen == f"{started['what']} (incomplete: 'version_2' not reached)"

    def test_the_terminal_section_lists_every_correction_wrapped(self) -> None:
        record = ReplayRecord(
            finalisation={
                "corrections": [
                    {"hook": "hook_vote_after_cutoff", "what": "a late vote", "replayed": False},
                ]
            }
        )
        text = report.terminal(record)
        assert "  hook_vote_after_cutoff (not replayed yet):\n    a late vote\n" in text
