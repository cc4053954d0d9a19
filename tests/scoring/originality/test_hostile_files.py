"""Hostile files through the check function and the command line: refused as ``unreadable`` (the file
and the rule named, never its content) or ``not-comparable``, never ``original``, never a crash or a hang.
The same files through the REST API are in ``test_api.py`` (``TestHostileFiles``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.cli import EXIT_CODES, main
from fmc_scoring.originality.fingerprint import ModelFingerprint
from fmc_scoring.originality.safetensors_io import ReaderLimits
from fmc_scoring.originality.synthetic import Weights

from .hostile import CASES, MODEL, SECRET, f32, raw_file


@pytest.fixture(scope="module", params=sorted(CASES))
def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, own_weights: Weights
) -> tuple[str, Path]:
    name = str(request.param)
    directory = tmp_path_factory.mktemp(name)
    CASES[name].write(directory, own_weights)
    return name, directory


class TestThroughTheCheck:
    def test_the_check_says_unreadable_or_not_comparable_and_names_the_rule(
        self, hostile: tuple[str, Path], donor: ModelFingerprint
    ) -> None:
        name, directory = hostile
        case = CASES[name]
        report = check_model(directory / MODEL, [donor])
        assert report.verdict == case.verdict, report.summary
        assert case.rule in report.summary
        assert SECRET not in json.dumps(report.to_json())
        if case.verdict == "unreadable":
            assert report.modules == []
            assert report.context["refusal"]["rule"] in {
                "file",
                "cap",
                "dtype",
                "unreadable",
            }
            assert MODEL in report.summary  # the file is named

    def test_the_directory_is_refused_the_same_way(
        self, hostile: tuple[str, Path], donor: ModelFingerprint
    ) -> None:
        name, directory = hostile
        assert check_model(directory, [donor]).verdict == CASES[name].verdict


class TestThroughTheCommandLine:
    def test_the_exit_status_is_the_verdicts_and_nothing_secret_is_printed(
        self,
        hostile: tuple[str, Path],
        donor_dir: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        name, directory = hostile
        code = main(["check", str(directory / MODEL), "--donor", f"d@1={donor_dir / MODEL}"])
        out = capsys.readouterr()
        assert (
            code
            == EXIT_CODES[Verdict(CASES[name].verdict)]
            == (4 if CASES[name].verdict == "not-comparable" else 5)
        )
        assert f"verdict: {CASES[name].verdict}" in out.out
        assert SECRET not in out.out + out.err


class TestRules:
    """Rules of the reader one at a time, each with the smallest file that breaks it."""

    def test_a_link_inside_the_root_is_refused_too(
        self, tmp_path: Path, own_weights: Weights, donor: ModelFingerprint
    ) -> None:
        synthetic.write_model(tmp_path / "real.bin", own_weights)
        (tmp_path / MODEL).symlink_to(tmp_path / "real.bin")
        report = check_model(tmp_path / MODEL, [donor])
        assert report.verdict is Verdict.UNREADABLE
        assert "symbolic link" in report.summary

    def test_a_linked_root_is_read_but_its_links_out_are_not(
        self, tmp_path: Path, own_weights: Weights, donor: ModelFingerprint
    ) -> None:
        real = tmp_path / "real"
        real.mkdir()
        synthetic.write_model(real / MODEL, own_weights)
        (tmp_path / "root").symlink_to(real, target_is_directory=True)
        assert check_model(tmp_path / "root", [donor]).verdict is Verdict.ORIGINAL
        outside = tmp_path / "outside.safetensors"
        synthetic.write_model(outside, own_weights)
        (real / MODEL).unlink()
        (real / MODEL).symlink_to(outside)
        assert check_model(tmp_path / "root", [donor]).verdict is Verdict.UNREADABLE

    def test_a_folder_on_the_way_that_is_a_link_is_refused(
        self, tmp_path: Path, own_weights: Weights, donor: ModelFingerprint
    ) -> None:
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        synthetic.write_model(elsewhere / MODEL, own_weights)
        root = tmp_path / "root"
        root.mkdir()
        (root / "weights").symlink_to(elsewhere, target_is_directory=True)
        report = check_model(root / "weights" / MODEL, [donor], root=root)
        assert report.verdict is Verdict.UNREADABLE
        assert "link" in report.summary

    def test_the_tensor_cap_is_a_setting(self, tmp_path: Path, donor: ModelFingerprint) -> None:
        header: dict[str, object] = {}
        for i in range(101):
            header |= f32(f"t{i}", 4 * i, 1)
        raw_file(tmp_path / MODEL, header, np.ones(101, np.float32).tobytes())
        report = check_model(tmp_path / MODEL, [donor], limits=ReaderLimits(max_tensors=100))
        assert report.verdict is Verdict.UNREADABLE
        assert report.context["refusal"]["rule"] == "cap"
        assert "cap of 100" in report.summary

    def test_the_size_cap_is_a_setting(
        self, tmp_path: Path, own_weights: Weights, donor: ModelFingerprint
    ) -> None:
        synthetic.write_model(tmp_path / MODEL, own_weights)
        report = check_model(tmp_path / MODEL, [donor], limits=ReaderLimits(max_total_bytes=1024))
        assert report.verdict is Verdict.UNREADABLE
        assert "cap of 1024 bytes" in report.summary

    @pytest.mark.parametrize(
        ("header", "data", "rule"),
        [
            ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}, b"\0" * 16, "byte length"),
            ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, b"\0" * 16, "gap"),
            ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, "past the end"),
            ({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "malformed"),
            ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}}, b"\0" * 4, "entry"),
            ({"__metadata__": {"a": {"b": "c"}}}, b"", "metadata"),
        ],
    )
    def test_a_header_that_lies_is_refused(
        self, tmp_path: Path, header: dict[str, object], data: bytes, rule: str, donor: ModelFingerprint
    ) -> None:
        raw_file(tmp_path / MODEL, header, data)
        report = check_model(tmp_path / MODEL, [donor])
        assert report.verdict is Verdict.UNREADABLE
        assert rule in report.summary

    def test_a_name_given_twice_is_refused(self, tmp_path: Path, donor: ModelFingerprint) -> None:
        entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
        raw_file(tmp_path / MODEL, f'{{"w":{entry},"w":{entry}}}'.encode(), b"\0" * 4)
        assert check_model(tmp_path / MODEL, [donor]).verdict is Verdict.UNREADABLE

    def test_no_content_is_echoed_even_from_a_regular_file(
        self, tmp_path: Path, donor: ModelFingerprint
    ) -> None:
        raw_file(
            tmp_path / MODEL, {SECRET: {"dtype": SECRET, "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4
        )
        report = check_model(tmp_path / MODEL, [donor])
        assert report.verdict is Verdict.UNREADABLE
        assert "tensor #0" in report.summary
        assert SECRET not in json.dumps(report.to_json())

    def test_a_device_is_refused_without_reading(self, tmp_path: Path, donor: ModelFingerprint) -> None:
        (tmp_path / MODEL).symlink_to("/dev/zero")
        report = check_model(tmp_path / MODEL, [donor], root=tmp_path)
        assert report.verdict is Verdict.UNREADABLE
        root = Path("/dev")
        assert "device" in check_model(root / "zero", [donor], root=root).summary

    def test_a_nan_model_with_one_finite_tensor_is_compared(
        self, tmp_path: Path, own_weights: Weights, donor: ModelFingerprint
    ) -> None:
        weights = {n: np.full_like(v, np.nan) for n, v in own_weights.items()}
        name = next(iter(weights))
        weights[name] = own_weights[name]
        report = check_model(synthetic.write_model(tmp_path / MODEL, weights), [donor])
        # compared module by module (not refused up front), but most parameters hold no value: the
        # parameter-weighted decision still cannot call it original
        assert report.modules
        assert report.verdict is not Verdict.ORIGINAL


class TestCommandLineStatus:
    def test_a_missing_path_is_a_usage_error(self, tmp_path: Path, donor_dir: Path) -> None:
        assert (
            main(["check", str(tmp_path / "absent.safetensors"), "--donor", f"d@1={donor_dir / MODEL}"]) == 2
        )

    def test_an_unreadable_donor_is_a_usage_error(self, tmp_path: Path, donor_dir: Path) -> None:
        raw_file(tmp_path / "donor.safetensors", b"[]")
        code = main(["check", str(donor_dir / MODEL), "--donor", f"d@1={tmp_path / 'donor.safetensors'}"])
        assert code == 2

    def test_an_unexpected_exception_exits_70_never_a_verdicts_status(
        self, tmp_path: Path, donor_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr("fmc_scoring.originality.cli.check_model", broken)
        assert main(["check", str(donor_dir / MODEL), "--donor", f"d@1={donor_dir / MODEL}"]) == 70

    def test_the_statuses_are_distinct(self) -> None:
        assert sorted(EXIT_CODES.values()) == [0, 1, 3, 4, 5]
        assert set(EXIT_CODES) == set(Verdict)


class TestContextFiles:
    def test_a_config_that_is_a_link_or_a_fifo_is_not_read(
        self, tmp_path: Path, own_weights: Weights, donor: ModelFingerprint
    ) -> None:
        synthetic.write_model(tmp_path / MODEL, own_weights)
        os.mkfifo(tmp_path / "config.json")
        (tmp_path / "outside.json").write_text("{}")
        (tmp_path / "tokenizer.json").symlink_to(tmp_path / "outside.json")
        forged = ModelFingerprint(
            donor.name, donor.revision, donor.tensors, donor.plans, config_sha256="x", tokenizer_sha256="y"
        )
        overlap = check_model(tmp_path / MODEL, [forged]).context["architecture_overlap"]
        found = overlap[f"{donor.name}@{donor.revision}"]
        assert (found["same_config_file"], found["same_tokenizer_file"]) == (None, None)
