"""The command line and the demo's simulated weights (one team reuses the donor's vision encoder)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fmc_scoring.originality.cli import main
from fmc_scoring.originality.demo_weights import (
    DONOR_NAME,
    DONOR_REVISION,
    REUSING_TEAM,
    TEAMS,
    write_demo_weights,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_weights(tmp_path_factory.mktemp("demo"))


def donor_arg(demo: dict[str, Path]) -> str:
    return f"{DONOR_NAME}@{DONOR_REVISION}={demo['donor']}"


class TestDemoWeights:
    def test_the_demo_weights_are_labelled_as_simulated(self, demo: dict[str, Path]) -> None:
        label = json.loads((demo["donor"].parent.parent / "SIMULATED.json").read_text())
        assert label["simulated"] is True
        assert set(label["teams"]) == set(TEAMS)

    @pytest.mark.parametrize("team", sorted(TEAMS))
    def test_only_the_reusing_team_is_flagged(self, demo: dict[str, Path], team: str, tmp_path: Path) -> None:
        out = tmp_path / "report.json"
        code = main(["check", str(demo[team]), "--donor", donor_arg(demo), "--json", str(out)])
        report = json.loads(out.read_text())
        if team == REUSING_TEAM:
            assert (code, report["verdict"]) == (1, "reused")
            assert f"vision encoder (from {DONOR_NAME}@{DONOR_REVISION})" in report["reused_components"]
            assert not any(m.startswith("text.") for m in report["reused_modules"])
        else:
            assert (code, report["verdict"]) == (0, "original")


class TestCommandLine:
    def test_check_prints_the_verdict_and_the_reused_modules(self, demo: dict[str, Path]) -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "fmc_scoring.originality",
                "check",
                str(demo[REUSING_TEAM]),
                "--donor",
                donor_arg(demo),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 1, result.stderr
        assert "verdict: reused" in result.stdout
        assert "vision.layers.0.mlp" in result.stdout
        assert DONOR_NAME in result.stdout

    def test_saved_fingerprints_give_the_same_verdict_as_the_donor_weights(
        self, demo: dict[str, Path], tmp_path: Path
    ) -> None:
        library = tmp_path / "library.npz"
        assert (
            main(
                [
                    "fingerprint",
                    str(demo["donor"]),
                    "--name",
                    DONOR_NAME,
                    "--revision",
                    DONOR_REVISION,
                    "--out",
                    str(library),
                ]
            )
            == 0
        )
        from_library, from_weights = tmp_path / "a.json", tmp_path / "b.json"
        assert (
            main(["check", str(demo[REUSING_TEAM]), "--library", str(library), "--json", str(from_library)])
            == 1
        )
        main(["check", str(demo[REUSING_TEAM]), "--donor", donor_arg(demo), "--json", str(from_weights)])
        assert json.loads(from_library.read_text()) == json.loads(from_weights.read_text())

    def test_a_missing_file_is_a_usage_error(
        self, tmp_path: Path, demo: dict[str, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["check", str(tmp_path / "absent.safetensors"), "--donor", donor_arg(demo)]) == 2
        assert "nothing at" in capsys.readouterr().err
