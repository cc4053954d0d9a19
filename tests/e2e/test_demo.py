"""`make demo` end to end: the stage-1 replay (smaller suites) reaches the articles' outcome, publishes no
score or rank, exits 0 and leaves no process; `fmc dev up` stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from fmc_devrunner.stage1 import models, world
from fmc_devrunner.stage1.scenario import EXECUTED_SUITE, JUDGED_SUITE, SMALL
from support.devrunner import marked_env, processes_marked_with

pytestmark = [pytest.mark.broker, pytest.mark.triton]


ADVANCING = {"Upstage", "SK Telecom", "LG AI Research"}
ELIMINATED = {"NC AI": "benchmark-threshold", "Naver Cloud": "originality"}
# A public document must not carry any of these, as a key or inside one (scores, ranks and their parts).
SCORE_WORDS = ("score", "rank", "composite", "accuracy", "rating", "benchmark", "expert", "vote", "user")


def score_like_keys(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        found = [f"{path}.{k}" for k in value if any(w in str(k).lower() for w in SCORE_WORDS)]
        return found + [p for k, v in value.items() for p in score_like_keys(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in score_like_keys(v, f"{path}[{i}]")]
    return []


def assert_executed_and_judged_suites_graded(report: dict[str, Any]) -> None:
    """The replay's executed and judged suites, graded end to end: each team's code passes (run in the
    sandbox) exactly the items its simulated model knows, and the judge model rates 9 the open answers
    the team knows and 2 the others (credit rating/10), nothing unparsable."""
    questions = models.demo_questions(SMALL.suites)
    teams = {t["lead"]: t for t in report["teams"]}
    for model in world.TEAM_MODELS:
        accuracy = teams[model.lead]["figures"]["suite_accuracy"]
        code = questions[EXECUTED_SUITE]
        passed = len(models.known_share(model, code))
        assert accuracy[EXECUTED_SUITE] == pytest.approx(passed / len(code)), model.lead
        answers = questions[JUDGED_SUITE]
        known = len(models.known_share(model, answers))
        ratings = {"9": known, "2": len(answers) - known}
        assert report["runs"]["judged"][model.lead] == {
            "judgements": len(answers),
            "ratings": {rating: n for rating, n in ratings.items() if n},
        }
        expected = (0.9 * known + 0.2 * (len(answers) - known)) / len(answers)
        assert accuracy[JUDGED_SUITE] == pytest.approx(expected), model.lead
    assert len({t["figures"]["suite_accuracy"][JUDGED_SUITE] for t in report["teams"]}) > 1


class TestStageOneReplay:
    def test_the_replay_reaches_the_articles_outcome_and_nothing_public_carries_a_score(
        self, tmp_path: Path
    ) -> None:
        run_id = f"test-{uuid.uuid4().hex[:10]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMC_")} | {"FMC_DEV_RUN_ID": run_id}
        report_dir = tmp_path / "report"
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "fmc_devrunner.cli",
                "demo",
                "--scale",
                "small",
                "--var-dir",
                str(tmp_path / "var"),
                "--report-dir",
                str(report_dir),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-3000:]
        assert processes_marked_with(run_id) == []
        out = completed.stdout
        assert "result: OK" in out
        report = json.loads((report_dir / "report.json").read_text())
        assert report["ok"] is True
        assert "<h1>Stage 1 replay: OK</h1>" in (report_dir / "report.html").read_text()

        # The outcome and its reasons, as scoring decided them and as the registry recorded them.
        teams = {t["lead"]: t for t in report["teams"]}
        assert {lead for lead, t in teams.items() if t["outcome"] == "advance"} == ADVANCING
        assert {lead: t["reason"] for lead, t in teams.items() if t["outcome"] == "eliminate"} == ELIMINATED
        assert teams["Naver Cloud"]["originality"] == "reused"
        assert (
            teams["NC AI"]["figures"]["benchmark_accuracy"]
            < 0.5
            <= min(teams[lead]["figures"]["benchmark_accuracy"] for lead in ADVANCING)
        )
        for lead in ADVANCING:
            assert teams[lead]["final_status"] == "advanced"
        for lead, reason in ELIMINATED.items():
            assert teams[lead]["final_status"] == f"eliminated ({reason})"
        assert_executed_and_judged_suites_graded(report)
        assert report["programme"]["applicants"] == 15
        assert len(report["programme"]["selected"]) == 5
        assert report["programme"]["gpu_support"]["SK Telecom consortium"] == "refused: gpu-supplier-conflict"

        # What a partner received on the public topic: names, outcome, reason category; nothing else.
        [announcement] = [
            e for e in report["public_announcement"] if e["type"].endswith("stage-result-announced.v1")
        ]
        announced = {
            t["team_name"]: (t["outcome"], t["reason_category"]) for t in announcement["data"]["teams"]
        }
        assert announced == {f"{lead} consortium": ("advanced", None) for lead in ADVANCING} | {
            f"{lead} consortium": ("eliminated", reason) for lead, reason in ELIMINATED.items()
        }
        for envelope in report["public_announcement"]:
            assert score_like_keys(envelope["data"]) == []
            for team in envelope["data"]["teams"]:
                assert set(team) == {"team_id", "team_name", "outcome", "reason_category"}
        assert score_like_keys(report["public_endpoint"]) == []
        assert report["public_endpoint"]["final"] is False  # read before the windows closed
        assert report["confidentiality"]["forbidden_fields_found"] == []

        # Grievance, finalisation, the additional selection.
        objection = report["grievance"]["objection"]
        assert (objection["team"], objection["status"]) == ("NC AI consortium", "rejected")
        assert len(objection["reason"]) > 50
        assert report["finalisation"]["stage_status"] == "final"
        assert report["finalisation"]["objections_by_status"] == {"rejected": 1}
        call = report["finalisation"]["selection_call"]
        assert (call["status"], call["vacancies"]) == ("open", 1)
        assert call["eligible_by_basis"]["eliminated-in-stage"] == 2
        assert report["panel"]["conflict_refusals"] == ["Dr. Jung (simulated) -> LG AI Research consortium"]

    def test_when_its_reader_goes_away_the_replay_stops_and_leaves_no_process(self, tmp_path: Path) -> None:
        run_id = f"test-{uuid.uuid4().hex[:10]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMC_")} | {"FMC_DEV_RUN_ID": run_id}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fmc_devrunner.cli",
                "demo",
                "--scale",
                "small",
                "--var-dir",
                str(tmp_path / "v"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            for line in process.stdout:  # as `fmc demo | head` would: read until the stage starts, then go
                if "1. programme" in line:
                    break
            process.stdout.close()
            assert process.wait(timeout=120) == 1
        finally:
            if process.poll() is None:
                process.kill()
        assert processes_marked_with(run_id) == []


class TestDevUp:
    def test_dev_up_prints_the_urls_serves_and_stops_cleanly_on_sigterm(self, tmp_path: Path) -> None:
        run_id = f"test-{uuid.uuid4().hex[:10]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMC_")} | {"FMC_DEV_RUN_ID": run_id}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fmc_devrunner.cli",
                "dev",
                "up",
                "--free-ports",
                "--var-dir",
                str(tmp_path / "var"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("ready."):
                    break
            urls = [line.split()[2] for line in lines if " ready  http://" in line]
            # The four services and the web tier (its dev OpenID Connect provider beside it).
            assert len(urls) == 5, "".join(lines)
            assert any(line.split()[0] == "web" for line in lines if " ready  http://" in line)
            for url in urls:
                with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
                    assert response.status == 200
            process.send_signal(signal.SIGTERM)
            rest, _ = process.communicate(timeout=90)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, "".join(lines) + rest
        assert "stopped." in rest
        assert (tmp_path / "var" / "logs" / "registry.log").exists()
        assert processes_marked_with(run_id) == []


class TestStageTwoContinuation:
    def test_a_newcomer_joins_stage_two_through_the_additional_selection_and_stage_two_is_decided(
        self, tmp_path: Path
    ) -> None:
        run_id, env = marked_env()
        report_dir = tmp_path / "report"
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "fmc_devrunner.cli",
                "demo",
                "--scale",
                "small",
                "--through",
                "stage-2",
                "--var-dir",
                str(tmp_path / "var"),
                "--report-dir",
                str(report_dir),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-3000:]
        assert processes_marked_with(run_id) == []
        assert "result: OK" in completed.stdout
        report = json.loads((report_dir / "report.json").read_text())
        assert report["ok"] is True
        assert report["finalisation"]["stage_status"] == "final"  # stage 1 as before
        stage2 = report["stage2"]

        # The additional selection: a team that was not in stage 1 applies, is selected, joins stage 2.
        stage1_ids = {t["team_id"] for t in report["teams"]}
        selection = stage2["finalisation"]["selection"]
        assert selection["team_id"] not in stage1_ids
        assert (selection["basis"], selection["call_status"]) == ("new-applicant", "closed")
        assert selection["gpu_allocation_id"] is not None
        assert selection["equal_gpu_terms"] is True
        assert set(selection["teams_in_stage_2"].values()) == {"in-stage 2"}
        teams = {t["lead"]: t for t in stage2["teams"]}
        assert set(teams) == {"Upstage", "SK Telecom", "LG AI Research", "Newcomer AI Lab"}
        assert teams["Newcomer AI Lab"]["team_id"] == selection["team_id"]

        # Stage 2 (4 -> 3) evaluated like stage 1: runs on Triton through the gateway, panel, arena,
        # originality, result, public announcement without scores, notifications, windows, final.
        assert stage2["runs"]["runs"] == 4 * len(report["scale"]["suites"])
        assert stage2["result"]["advancing_planned"] == 3
        assert (stage2["result"]["advancing"], stage2["result"]["vacancies"]) == (3, 0)
        assert {t["originality"] for t in teams.values()} == {"original"}
        outcome = {lead: (t["outcome"], t["reason"], t["final_status"]) for lead, t in teams.items()}
        assert outcome == {
            "Upstage": ("advance", None, "advanced"),
            "SK Telecom": ("advance", None, "advanced"),
            "LG AI Research": ("advance", None, "advanced"),
            "Newcomer AI Lab": ("eliminate", "rank", "eliminated (rank)"),
        }
        announcements = [
            e["data"]
            for e in stage2["public_announcement"]
            if e["type"].endswith("stage-result-announced.v1")
        ]
        names = {t["team_id"]: t["name"] for t in teams.values()}
        public_v1 = {
            names[t["team_id"]]: (t["outcome"], t["reason_category"]) for t in announcements[0]["teams"]
        }
        public_v2 = {
            names[t["team_id"]]: (t["outcome"], t["reason_category"]) for t in announcements[1]["teams"]
        }
        lg, newcomer = names[teams["LG AI Research"]["team_id"]], names[teams["Newcomer AI Lab"]["team_id"]]
        up, sk = names[teams["Upstage"]["team_id"]], names[teams["SK Telecom"]["team_id"]]
        # The public topic: version 1 (the wrong check), then version 2 correcting it; version 3 (the
        # erratum) changes no outcome, so it is not announced again.
        assert [(a["version"], a.get("corrects_version"), a.get("correction")) for a in announcements] == [
            (1, None, None),
            (2, 1, "re-evaluation"),
        ]
        assert public_v1 == {
            up: ("advanced", None),
            sk: ("advanced", None),
            newcomer: ("advanced", None),
            lg: ("eliminated", "originality"),
        }
        assert public_v2 == {
            up: ("advanced", None),
            sk: ("advanced", None),
            lg: ("advanced", None),
            newcomer: ("eliminated", "rank"),
        }
        for envelope in stage2["public_announcement"]:
            assert score_like_keys(envelope["data"]) == []
        assert stage2["confidentiality"]["forbidden_fields_found"] == []
        assert stage2["grievance"]["notified"] == 4
        assert stage2["finalisation"]["stage_status"] == "final"
        assert stage2["finalisation"]["objections_by_status"] == {"accepted": 2, "rejected": 1}
        assert stage2["result"]["version"] == 3
        corrections = {c["hook"]: c for c in stage2["finalisation"]["corrections"]}
        assert list(corrections) == [
            "hook_wrong_originality_check",
            "hook_vote_after_cutoff",
            "hook_answer_key_erratum",
            "hook_final_stage_refuses_new_version",
        ]
        assert all(c["replayed"] is True for c in corrections.values())
        assert "Stage 2 (continuation)" in completed.stdout

        # The wrong originality check (LG AI Research's own earlier release registered as another's
        # model) eliminated LG in version 1 and let the newcomer in; LG's accepted objection (the donor
        # retired, the bound weights re-checked) reverses both outcomes in version 2.
        wrong = corrections["hook_wrong_originality_check"]
        assert wrong["version_1"] == {
            "Upstage": ["advance", None],
            "SK Telecom": ["advance", None],
            "Newcomer AI Lab": ["advance", None],
            "LG AI Research": ["eliminate", "originality"],
        }
        assert (wrong["objection"]["grounds"], wrong["objection"]["status"]) == (
            "originality-judgement",
            "accepted",
        )
        assert wrong["recheck"]["verdict"] == "original"
        assert wrong["recheck"]["recheck_of"] is not None
        assert len(wrong["donor_retired"]["reason"]) > 50
        v2 = wrong["version_2"]
        assert (v2["version"], v2["cause"], v2["corrects_version"], v2["correction"]) == (
            2,
            "re-evaluation",
            1,
            "re-evaluation",
        )
        # Only the originality gate taken afresh, and only LG AI Research's verdict changed.
        assert v2["concerns"] == ["originality"]
        assert v2["changes"] == ["originality LG AI Research"]
        assert v2["outcomes"] == {
            "Upstage": ["advance", None],
            "SK Telecom": ["advance", None],
            "LG AI Research": ["advance", None],
            "Newcomer AI Lab": ["eliminate", "rank"],
        }
        # Both reversed teams notified again (round 2, replacing their first notification) with a fresh
        # window that ends later than everybody else's; the two others keep theirs.
        told = wrong["notified_again"]
        assert set(told) == {"LG AI Research", "Newcomer AI Lab"}
        assert wrong["unchanged_notifications"] == ["SK Telecom", "Upstage"]
        first_deadline = stage2["grievance"]["window"]["deadline"]
        assert told["LG AI Research"]["before"][:3] == ["eliminated", "originality", 1]
        assert told["LG AI Research"]["after"][:3] == ["advanced", None, 2]
        assert told["Newcomer AI Lab"]["before"][:3] == ["advanced", None, 1]
        assert told["Newcomer AI Lab"]["after"][:3] == ["eliminated", "rank", 2]
        for notice in told.values():
            assert notice["result_version"] == 2
            assert notice["supersedes_first"] is True
            assert notice["before"][3] == first_deadline
            assert notice["after"][3] > first_deadline  # three days later: the review took three days
        assert wrong["public_view"] == {
            "version": 2,
            "corrects_version": 1,
            "correction": "re-evaluation",
            "final": False,
        }
        # Past everybody else's windows the phase stays open; a team whose window closed is refused,
        # the newcomer objects in its fresh window (rejected).
        assert wrong["while_fresh_windows_open"] == {
            "phase_closed": False,
            "public_final": False,
            "objection_after_closed_window": ["SK Telecom", 409, "objection-window-closed"],
            "objection_in_fresh_window": ["Newcomer AI Lab", "scoring-error", "rejected"],
        }

        # A vote after the evidence cut-off: kept, out of window, never counted, in no version.
        late = corrections["hook_vote_after_cutoff"]
        assert late["vote"]["in_window"] is False
        assert late["vote"]["voted_at"] > late["cutoff"]
        assert late["counted_votes_after"] == late["counted_votes_before"] == late["version_1_votes"]
        assert late["votes_kept"] == late["counted_votes_before"] + 1
        by_version = late["arena_by_version"]
        assert list(by_version) == ["1", "2", "3"]
        assert by_version["1"]["votes"] == late["version_1_votes"]
        assert by_version["1"]["votes_sha256"] == late["version_1_votes_sha256"]
        assert by_version["2"] == by_version["1"]
        assert by_version["3"] == by_version["1"]

        # The erratum: a new key revision of one suite; SK Telecom's accepted objection (benchmark-suite)
        # re-grades every team's runs under it in version 3, and nothing else changes.
        erratum = corrections["hook_answer_key_erratum"]
        assert (erratum["suite"], erratum["key_revision"], erratum["item_ids"]) == (
            "demo-en-arithmetic",
            2,
            ["en-ar-004"],
        )
        assert erratum["revisions_listed_to_teams"] == [2]
        assert (erratum["objection"]["grounds"], erratum["objection"]["status"]) == (
            "scoring-error",
            "accepted",
        )
        v3 = erratum["version_3"]
        assert (v3["version"], v3["corrects_version"], v3["correction"], v3["concerns"]) == (
            3,
            2,
            "re-evaluation",
            ["benchmark-suite"],
        )
        assert v3["outcomes"] == v2["outcomes"]
        assert erratum["based_on_version"] == 2
        leads = {"Upstage", "SK Telecom", "LG AI Research", "Newcomer AI Lab"}
        arithmetic = "demo-en-arithmetic@1.0.0"
        assert {
            lead: revs[arithmetic] for lead, revs in erratum["key_revision_by_team"]["version_2"].items()
        } == {lead: 1 for lead in leads}
        assert {
            lead: revs[arithmetic] for lead, revs in erratum["key_revision_by_team"]["version_3"].items()
        } == {lead: 2 for lead in leads}
        assert {
            suite: rev
            for revs in erratum["key_revision_by_team"]["version_3"].values()
            for suite, rev in revs.items()
            if suite != arithmetic
        } == {f"{key}@1.0.0": 1 for key in SMALL.suites if f"{key}@1.0.0" != arithmetic}
        assert erratum["detail_key_revision"] == {lead: 2 for lead in leads}
        assert erratum["changes"] == sorted(f"benchmark {lead}" for lead in leads)

        # The final stage refuses a new version.
        final = corrections["hook_final_stage_refuses_new_version"]
        assert (final["public_final"], final["public_version"], final["registry_stage"]) == (True, 3, "final")
        assert (final["propose_status"], final["propose_code"]) == (409, "stage-final")
        # The operators' record: every version kept; the third, in force, is the one finalised.
        assert final["versions"] == [
            [1, "superseded", "initial", None, False],
            [2, "superseded", "re-evaluation", 1, False],
            [3, "approved", "re-evaluation", 2, True],
        ]
        # What a partner saw of stage 2, in order: version 1, version 2 correcting it, version 3 final.
        assert final["public_topic"] == [
            ["stage-result-announced", 1, None, None],
            ["stage-result-announced", 2, 1, "re-evaluation"],
            ["stage-final-announced", 3, None, None],
        ]
