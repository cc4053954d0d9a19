"""The originality check on simulated models: original, reused (plain, permuted, one layer), needs review."""

from __future__ import annotations

import json
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import safetensors_io, synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import ModelFingerprint
from fmc_scoring.originality.report import Method, Report
from fmc_scoring.originality.stats import raw_cosine
from fmc_scoring.originality.synthetic import Architecture, Weights

VISION_MODULES = {
    "vision.embeddings",
    "vision.layers.0.attention",
    "vision.layers.0.mlp",
    "vision.layers.1.attention",
    "vision.layers.1.mlp",
}


def check(
    tmp_path: Path, weights: Weights, donors: list[ModelFingerprint], name: str = "candidate"
) -> Report:
    path = synthetic.write_model(tmp_path / f"{name}.safetensors", weights)
    return check_model(path, donors)


def vision_copy(donor: Weights, own: Weights, arch: Architecture, *, permuted: bool) -> Weights:
    tuned = synthetic.fine_tune(donor, "visual.", 0.3, seed=11)
    if permuted:
        tuned = synthetic.permute_vision(tuned, arch, seed=12, flip_signs=True, rescale=True)
    return synthetic.with_own_language_model(tuned, own)


class TestOriginalModels:
    def test_a_model_from_its_own_initialisation_is_original(
        self, tmp_path: Path, donor: ModelFingerprint, own_weights: Weights
    ) -> None:
        report = check(tmp_path, own_weights, [donor])
        assert report.verdict is Verdict.ORIGINAL
        assert report.reused_modules == []
        assert report.review_modules == []
        assert all(f.decision is Verdict.ORIGINAL for f in report.modules)

    def test_a_check_keeps_no_read_buffers_in_its_thread_afterwards(
        self, tmp_path: Path, donor: ModelFingerprint, own_weights: Weights
    ) -> None:
        """Checks run on the service's worker threads: an idle one must not hold a check's buffers."""
        with ThreadPoolExecutor(max_workers=1) as worker:
            report = worker.submit(check, tmp_path, own_weights, [donor]).result()
            held = worker.submit(lambda: getattr(safetensors_io._THREAD, "buffers", None)).result()
        assert report.verdict is Verdict.ORIGINAL
        assert held is None

    def test_unrelated_layernorm_gains_with_raw_cosine_above_095_are_not_flagged(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
    ) -> None:
        gains = [n for n in own_weights if n.endswith("norm.weight") or "layernorm" in n or "norm1" in n]
        assert all(raw_cosine(own_weights[n], donor_weights[n]) > 0.95 for n in gains)
        report = check(tmp_path, own_weights, [donor])
        for module in ("text.norms", "vision.norms"):
            finding = report.finding(module)
            assert finding.decision is Verdict.ORIGINAL
            assert finding.method is Method.POSITIONAL  # the gains were compared, by Pearson, and cleared
            assert finding.value is not None
            assert abs(finding.value) < 0.2


class TestReusedVisionEncoder:
    def test_a_fine_tuned_copy_of_the_donor_vision_encoder_is_reused_and_named(
        self,
        tmp_path: Path,
        donor: ModelFingerprint,
        donor_weights: Weights,
        own_weights: Weights,
        arch: Architecture,
    ) -> None:
        report = check(tmp_path, vision_copy(donor_weights, own_weights, arch, permuted=False), [donor])
        assert report.verdict is Verdict.REUSED
        assert any(
            c.startswith("vision encoder (from Qwen2.5-VL-sim@rev-a1b2c3)") for c in report.reused_components
        )
        assert set(report.reused_modules) >= VISION_MODULES
        assert not any(m.startswith("text.") for m in report.reused_modules)
        finding = report.finding("vision.layers.0.mlp")
        assert (finding.donor, finding.donor_revision) == ("Qwen2.5-VL-sim", "rev-a1b2c3")
        assert finding.value is not None
        assert finding.baseline_mean is not None
        assert finding.baseline_sd is not None
        assert finding.value > 0.9
        assert abs(finding.baseline_mean) < 0.05
        assert finding.z_score is not None
        assert finding.tensors_covered >= 2
        assert finding.parameter_share > 0
        assert "vision encoder" in report.summary
        assert "Qwen2.5-VL-sim" in report.summary

    def test_the_copy_is_caught_after_permuting_hidden_units_flipping_signs_and_rescaling(
        self,
        tmp_path: Path,
        donor: ModelFingerprint,
        donor_weights: Weights,
        own_weights: Weights,
        arch: Architecture,
    ) -> None:
        copied = vision_copy(donor_weights, own_weights, arch, permuted=True)
        # Position by position the permuted copy looks unrelated: only the alignment can see it.
        assert (
            abs(
                np.corrcoef(
                    copied["visual.blocks.0.mlp.fc1.weight"].ravel(),
                    donor_weights["visual.blocks.0.mlp.fc1.weight"].ravel(),
                )[0, 1]
            )
            < 0.05
        )
        report = check(tmp_path, copied, [donor])
        assert report.verdict is Verdict.REUSED
        assert set(report.reused_modules) >= VISION_MODULES
        finding = report.finding("vision.layers.1.attention")
        assert finding.method is Method.ALIGNED_CKA
        assert finding.value is not None
        assert finding.value > 0.8
        assert report.finding("vision.layers.0.mlp").figures["mlp_rank_test_p"] < 1e-12
        alignment = next(a for a in report.context["alignments"] if a["space"] == "vision")
        assert alignment["mean_abs_correlation"] > 0.9 > 0.5 > alignment["baseline_mean"]
        assert alignment["at_chance"] is False

    def test_no_aligned_statistics_are_taken_under_an_alignment_at_chance(
        self,
        tmp_path: Path,
        donor: ModelFingerprint,
        donor_weights: Weights,
        own_weights: Weights,
        arch: Architecture,
    ) -> None:
        """The own language model's token embedding matches the donor's no better than shuffled
        features: its hidden units are matched at random, so CKA there would be a draw from its null."""
        report = check(tmp_path, vision_copy(donor_weights, own_weights, arch, permuted=True), [donor])
        text = next(a for a in report.context["alignments"] if a["space"] == "text")
        assert text["at_chance"] is True
        assert any("language model: the anchor alignment" in c and "chance" in c for c in report.caveats)
        text_figures = [
            entry
            for finding in report.modules
            if finding.module.startswith("text.")
            for entry in finding.figures.values()
            if isinstance(entry, dict)
        ]
        assert text_figures
        assert not any("cka" in entry for entry in text_figures)
        assert any("anchor_alignment" in entry for entry in text_figures)  # the alignment itself is shown
        vision = report.finding("vision.layers.1.attention").figures
        assert any("cka" in entry for entry in vision.values() if isinstance(entry, dict))

    def test_an_exact_copy_stored_in_bf16_matches_by_canonical_hash(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights
    ) -> None:
        path = synthetic.write_model(
            tmp_path / "bf16.safetensors", synthetic.as_bf16(donor_weights), dtype="BF16"
        )
        report = check_model(path, [donor])
        finding = report.finding("vision.layers.0.attention")
        assert finding.decision is Verdict.REUSED
        assert finding.method is Method.EXACT
        assert "bf16 cast" in finding.statistic

    def test_a_transposed_copy_of_a_matrix_matches_by_hash(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
    ) -> None:
        weights = dict(own_weights)
        for name in ("visual.blocks.0.mlp.fc1.weight", "visual.blocks.0.mlp.fc2.weight"):
            del weights[name]  # stored transposed under another name, as a Conv1D layout would
            weights[name.replace(".weight", "_t.weight")] = np.ascontiguousarray(donor_weights[name].T)
        report = check(tmp_path, weights, [donor])
        finding = report.finding("vision.layers.0.mlp")
        assert finding.method is Method.EXACT
        assert "transpose" in finding.statistic
        assert finding.decision is Verdict.REUSED  # the copy holds most of the module's parameters


class TestOneLayerCopied:
    def test_an_exact_copy_of_one_layer_inside_an_original_model_is_caught_and_named(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
    ) -> None:
        report = check(tmp_path, synthetic.copy_layer(own_weights, donor_weights, "model.layers.1."), [donor])
        assert report.verdict is Verdict.REUSED
        assert {"text.layers.1.attention", "text.layers.1.mlp"} <= set(report.reused_modules)
        assert not any(
            m.startswith(("text.layers.0", "text.layers.2", "vision")) for m in report.reused_modules
        )
        finding = report.finding("text.layers.1.mlp")
        assert finding.method is Method.EXACT
        assert finding.value == 1.0
        assert finding.donor_modules == ["text.layers.1.mlp"]

    def test_a_layer_copied_to_another_depth_is_found_by_its_hashes(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
    ) -> None:
        weights = dict(own_weights)
        for name in [n for n in donor_weights if n.startswith("model.layers.0.")]:
            weights[name.replace("layers.0.", "layers.2.")] = donor_weights[name]
        report = check(tmp_path, weights, [donor])
        finding = report.finding("text.layers.2.attention")
        assert finding.decision is Verdict.REUSED
        assert finding.donor_modules == ["text.layers.0.attention"]


class TestNeedsReview:
    def test_a_weak_but_significant_resemblance_needs_review_rather_than_an_accusation(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
    ) -> None:
        # Heavy "continued training": the donor's vision weights are still there, but faintly.
        faint = synthetic.with_own_language_model(
            synthetic.fine_tune(donor_weights, "visual.", 3.0, seed=5), own_weights
        )
        report = check(tmp_path, faint, [donor])
        assert report.verdict is Verdict.NEEDS_REVIEW
        assert set(report.review_modules) & VISION_MODULES
        assert report.reused_modules == []


class TestReport:
    def test_the_report_is_json_and_explains_each_module(
        self,
        tmp_path: Path,
        donor: ModelFingerprint,
        donor_weights: Weights,
        own_weights: Weights,
        arch: Architecture,
    ) -> None:
        report = check(tmp_path, vision_copy(donor_weights, own_weights, arch, permuted=False), [donor])
        body = json.loads(json.dumps(report.to_json()))
        assert body["verdict"] == "reused"
        modules = {m["module"]: m for m in body["modules"]}
        assert set(modules) >= VISION_MODULES | {"text.lm_head", "projector", "text.norms"}
        entry = modules["vision.layers.0.attention"]
        for field in (
            "parameter_share",
            "donor",
            "donor_revision",
            "statistic",
            "value",
            "baseline_mean",
            "baseline_sd",
            "z_score",
            "p_value",
            "tensors_covered",
            "caveats",
        ):
            assert field in entry
        assert body["context"]["architecture_overlap"]["Qwen2.5-VL-sim@rev-a1b2c3"]["note"].startswith(
            "a shared"
        )
        assert body["thresholds"]["pearson_reused"] == 0.5

    def test_a_model_written_by_the_reference_library_with_float16_tensors_is_checked(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights
    ) -> None:
        save_file(
            {n: v.astype(np.float16) for n, v in donor_weights.items()}, str(tmp_path / "half.safetensors")
        )
        report = check_model(tmp_path / "half.safetensors", [donor])
        assert report.verdict is Verdict.REUSED
        assert report.finding("text.layers.0.mlp").method is Method.POSITIONAL  # f16 rounding breaks hashes


class TestShardedModels:
    def test_a_sharded_model_is_checked_through_its_index(
        self,
        tmp_path: Path,
        donor: ModelFingerprint,
        donor_weights: Weights,
        own_weights: Weights,
        arch: Architecture,
    ) -> None:
        weights = vision_copy(donor_weights, own_weights, arch, permuted=True)
        names = list(weights)
        shards = {
            "model-00001-of-00002.safetensors": names[:20],
            "model-00002-of-00002.safetensors": names[20:],
        }
        for shard, members in shards.items():
            synthetic.write_model(tmp_path / shard, {n: weights[n] for n in members})
        weight_map = {n: shard for shard, members in shards.items() for n in members}
        (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
        report = check_model(tmp_path, [donor])
        assert report.verdict is Verdict.REUSED
        assert set(report.reused_modules) >= VISION_MODULES
        assert report.tensors == len(names)


class TestStreaming:
    def test_memory_stays_bounded_by_the_chunk_not_the_model(
        self, tmp_path: Path, donor: ModelFingerprint
    ) -> None:
        big = Architecture(text_hidden=96, intermediate=256, vocab=120_000)  # ~46 MB of float32 embeddings
        path = synthetic.write_model(tmp_path / "big.safetensors", synthetic.random_model(big, seed=9))
        tracemalloc.start()
        try:
            report = check_model(path, [donor], chunk_bytes=1 << 20)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert report.bytes_checked > 90_000_000
        assert peak < 20_000_000, f"peak traced memory {peak} bytes"

    def test_the_chunk_size_does_not_change_the_report(
        self,
        tmp_path: Path,
        donor: ModelFingerprint,
        donor_weights: Weights,
        own_weights: Weights,
        arch: Architecture,
    ) -> None:
        path = synthetic.write_model(
            tmp_path / "m.safetensors", vision_copy(donor_weights, own_weights, arch, permuted=True)
        )
        small = check_model(path, [donor], chunk_bytes=4096)
        large = check_model(path, [donor], chunk_bytes=1 << 24)
        assert small.verdict is large.verdict is Verdict.REUSED
        for a, b in zip(small.modules, large.modules, strict=True):
            assert (a.module, a.decision, a.method) == (b.module, b.decision, b.method)
            # summation order differs (float32 products summed per chunk), nothing else
            assert a.value == pytest.approx(b.value, abs=1e-6)
