"""Verdicts that say what they know: not-comparable, parameter-weighted modules, NaN never original, v2."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from fmc_common.events.scoring import (
    OriginalityVerdictIssued,
    OriginalityVerdictIssuedV2,
    originality_verdict_event,
)
from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import ModelFingerprint
from fmc_scoring.originality.modules import Kind, classify
from fmc_scoring.originality.outcomes import unreadable_report
from fmc_scoring.originality.safetensors_io import SafetensorsWriter
from fmc_scoring.originality.synthetic import Weights
from fmc_scoring.originality.verdict import weighted_median
from fmc_scoring.results.decision import GateState
from fmc_scoring.results.originality_gate import gate_state


def test_a_model_whose_values_are_all_nan_is_not_comparable(
    tmp_path: Path, donor: ModelFingerprint, own_weights: Weights
) -> None:
    nan = {n: np.full_like(v, np.nan) for n, v in own_weights.items()}
    report = check_model(synthetic.write_model(tmp_path / "nan.safetensors", nan), [donor])
    assert report.verdict is Verdict.NOT_COMPARABLE, report.summary


def test_an_unreadable_report_compares_nothing_and_says_why(donor: ModelFingerprint) -> None:
    report = unreadable_report(
        "model.safetensors: tensor #0 has a dtype this reader does not know", "dtype", [donor]
    )
    assert report.verdict is Verdict.UNREADABLE
    assert report.modules == []
    assert report.reused_parameter_share == 0.0
    assert report.summary.startswith("unreadable: ")
    assert gate_state(report.verdict) is GateState.PENDING


def test_a_header_with_no_tensor_is_not_comparable(tmp_path: Path, donor: ModelFingerprint) -> None:
    path = tmp_path / "empty.safetensors"
    with SafetensorsWriter(path, []):
        pass
    assert check_model(path, [donor]).verdict is Verdict.NOT_COMPARABLE


def test_nan_in_some_rows_does_not_switch_off_same_position_evidence(
    tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights
) -> None:
    tuned = synthetic.fine_tune(donor_weights, "", 0.2, seed=21)
    table = tuned["model.embed_tokens.weight"].copy()
    table[:100] = np.nan
    tuned["model.embed_tokens.weight"] = table
    report = check_model(synthetic.write_model(tmp_path / "nan-rows.safetensors", tuned), [donor])
    assert report.verdict is Verdict.REUSED
    assert report.finding("text.embeddings").decision is Verdict.REUSED


def test_one_copied_layernorm_gain_never_makes_a_module_reused(
    tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
) -> None:
    own = dict(own_weights)
    own["model.layers.1.input_layernorm.weight"] = donor_weights[
        "model.layers.1.input_layernorm.weight"
    ].copy()
    report = check_model(synthetic.write_model(tmp_path / "gain.safetensors", own), [donor])
    assert report.reused_modules == []
    assert report.verdict is Verdict.NEEDS_REVIEW  # an identical informative tensor is still looked at
    assert report.reused_parameter_share == 0.0


def test_the_report_states_the_share_of_parameters_found_reused(
    tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
) -> None:
    copied = synthetic.with_own_language_model(donor_weights, own_weights)
    report = check_model(synthetic.write_model(tmp_path / "tower.safetensors", copied), [donor])
    vision = sum(v.size for n, v in donor_weights.items() if n.startswith("visual."))
    total = sum(v.size for v in donor_weights.values())
    assert report.reused_parameter_share == pytest.approx(vision / total, abs=0.02)
    assert f"{100 * report.reused_parameter_share:.1f}% of parameters" in report.summary


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("encoder.layer.3.output.dense.weight", "text.layers.3.mlp"),
        ("encoder.layer.3.attention.output.dense.weight", "text.layers.3.attention"),
        ("vit.encoder.layer.2.output.dense.weight", "vision.layers.2.mlp"),
        ("vit.encoder.layer.2.intermediate.dense.weight", "vision.layers.2.mlp"),
    ],
)
def test_bert_and_vit_feed_forward_outputs_get_their_layer_s_mlp_module(name: str, module: str) -> None:
    ref = classify(name)
    assert ref.module == module
    assert ref.kind is not Kind.OTHER


def test_the_weighted_median_follows_parameters_not_tensor_counts() -> None:
    assert weighted_median([0.9, 0.0, 0.0], [1000, 10, 10]) == 0.9
    assert weighted_median([0.9, 0.0, 0.0], [10, 1000, 10]) == 0.0


@pytest.mark.parametrize("verdict", [Verdict.NOT_COMPARABLE, Verdict.UNREADABLE, Verdict.NEEDS_REVIEW])
def test_verdicts_a_human_must_look_at_keep_the_gate_pending(verdict: Verdict) -> None:
    assert gate_state(verdict) is GateState.PENDING


def _event(verdict: Verdict) -> OriginalityVerdictIssued | OriginalityVerdictIssuedV2:
    return originality_verdict_event(
        check_id=uuid.uuid4(),
        stage_id=uuid.uuid4(),
        team_id=uuid.uuid4(),
        verdict=verdict,
        issued_at=datetime.now(UTC),
    )


@pytest.mark.parametrize("verdict", [Verdict.ORIGINAL, Verdict.REUSED, Verdict.NEEDS_REVIEW])
def test_the_three_old_verdicts_are_still_published_as_v1(verdict: Verdict) -> None:
    event = _event(verdict)
    assert isinstance(event, OriginalityVerdictIssued)
    assert event.event_type.endswith(".v1")


@pytest.mark.parametrize("verdict", [Verdict.NOT_COMPARABLE, Verdict.UNREADABLE])
def test_the_new_verdicts_are_published_as_v2(verdict: Verdict) -> None:
    event = _event(verdict)
    assert isinstance(event, OriginalityVerdictIssuedV2)
    assert event.verdict is verdict
    with pytest.raises(ValueError, match="verdict"):
        OriginalityVerdictIssued(
            check_id=uuid.uuid4(),
            stage_id=uuid.uuid4(),
            team_id=uuid.uuid4(),
            verdict=verdict,
            issued_at=datetime.now(UTC),
        )
