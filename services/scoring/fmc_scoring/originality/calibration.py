"""Calibration run: the false-positive rate on independent pairs, the detection rate on derived ones.

Every pair is a freshly drawn donor and candidate (simulated weights, ``synthetic``). Independent
candidates must come out ``original`` with no module flagged; derived candidates (the donor's
vision encoder after continued training, permuted, sign-flipped, rescaled, stored in bf16, or one
layer copied) must come out ``reused`` with the right component named.

    python -m fmc_scoring.originality calibrate --pairs 50
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import fingerprint_model
from fmc_scoring.originality.report import Report
from fmc_scoring.originality.synthetic import Architecture, Weights

Derivation = Callable[[Weights, Architecture, int], Weights]


def _vision_fine_tuned(donor: Weights, arch: Architecture, seed: int) -> Weights:
    tuned = synthetic.fine_tune(donor, "visual.", 0.3, seed)
    return synthetic.with_own_language_model(tuned, synthetic.random_model(arch, seed + 1))


def _vision_permuted(donor: Weights, arch: Architecture, seed: int) -> Weights:
    tuned = synthetic.fine_tune(donor, "visual.", 0.3, seed)
    permuted = synthetic.permute_vision(tuned, arch, seed, flip_signs=True, rescale=True)
    return synthetic.with_own_language_model(permuted, synthetic.random_model(arch, seed + 1))


def _one_layer_copied(donor: Weights, arch: Architecture, seed: int) -> Weights:
    return synthetic.copy_layer(synthetic.random_model(arch, seed + 1), donor, "model.layers.1.")


DERIVATIONS: dict[str, tuple[Derivation, str]] = {
    "vision encoder fine-tuned": (_vision_fine_tuned, "vision encoder"),
    "vision encoder fine-tuned, permuted, signs flipped, rescaled": (_vision_permuted, "vision encoder"),
    "one decoder layer copied exactly": (_one_layer_copied, "language model"),
}


@dataclass
class CalibrationResult:
    pairs: int
    false_positives: int = 0
    flagged_modules_on_independent: list[str] = field(default_factory=list)
    detected: dict[str, int] = field(default_factory=dict)
    max_independent_pearson: float = 0.0
    max_independent_cka: float = 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.pairs if self.pairs else 0.0

    def detection_rate(self, name: str) -> float:
        return self.detected.get(name, 0) / self.pairs if self.pairs else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "independent_pairs": self.pairs,
            "false_positive_rate": self.false_positive_rate,
            "flagged_modules_on_independent": self.flagged_modules_on_independent,
            "max_independent_module_pearson": round(self.max_independent_pearson, 4),
            "max_independent_module_cka": round(self.max_independent_cka, 4),
            "detection_rate": {name: self.detection_rate(name) for name in DERIVATIONS},
        }


def run_calibration(pairs: int = 50, arch: Architecture | None = None, seed: int = 1000) -> CalibrationResult:
    arch = arch or Architecture()
    result = CalibrationResult(pairs=pairs, detected=dict.fromkeys(DERIVATIONS, 0))
    with tempfile.TemporaryDirectory(prefix="fmc-calibration-") as tmp:
        directory = Path(tmp)
        for i in range(pairs):
            base = seed + 100 * i
            donor_weights = synthetic.random_model(arch, base)
            synthetic.write_model(directory / "donor.safetensors", donor_weights)
            donor = fingerprint_model(directory / "donor.safetensors", f"donor-{i}", "calibration")
            independent = synthetic.write_model(
                directory / "own.safetensors", synthetic.random_model(arch, base + 1)
            )
            _record_independent(result, check_model(independent, [donor], seed=i))
            for name, (derive, component) in DERIVATIONS.items():
                path = synthetic.write_model(
                    directory / "derived.safetensors", derive(donor_weights, arch, base + 2)
                )
                report = check_model(path, [donor], seed=i)
                if report.verdict is Verdict.REUSED and any(component in c for c in report.reused_components):
                    result.detected[name] += 1
    return result


def _record_independent(result: CalibrationResult, report: Report) -> None:
    if report.verdict is not Verdict.ORIGINAL:
        result.false_positives += 1
        result.flagged_modules_on_independent.extend(report.reused_modules + report.review_modules)
    for finding in report.modules:
        pearson = _module_mean(finding.figures, "pearson", median=True)
        cka = _module_mean(finding.figures, "cka", median=False)
        result.max_independent_pearson = max(result.max_independent_pearson, pearson)
        result.max_independent_cka = max(result.max_independent_cka, cka)


def _module_mean(figures: dict[str, Any], label: str, *, median: bool) -> float:
    """The module-level statistic the decision rules use, recomputed from the per-tensor figures."""
    values = [
        entry[label]["value"]
        for entry in figures.values()
        if isinstance(entry, dict) and label in entry and entry.get("informative", True)
    ]
    if not values:
        return 0.0
    return float(statistics.median(values) if median else statistics.fmean(values))
