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
            assert len(urls) == 4, "".join(lines)
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
        [announcement] = [
            e for e in stage2["public_announcement"] if e["type"].endswith("stage-result-announced.v1")
        ]
        assert {t["team_id"] for t in announcement["data"]["teams"]} == {t["team_id"] for t in teams.values()}
        for envelope in stage2["public_announcement"]:
            assert score_like_keys(envelope["data"]) == []
        assert stage2["confidentiality"]["forbidden_fields_found"] == []
        assert stage2["grievance"]["notified"] == 4
        assert stage2["finalisation"]["stage_status"] == "final"
        assert [c["hook"] for c in stage2["finalisation"]["corrections"]] == [
            "hook_wrong_originality_check",
            "hook_vote_after_cutoff",
            "hook_answer_key_erratum",
            "hook_final_stage_refuses_new_version",
        ]
        assert "Stage 2 (continuation)" in completed.stdout
