"""The calibration run behind the thresholds: no false positive on 50 independent pairs, every copy caught."""

from __future__ import annotations

from fmc_scoring.originality.calibration import DERIVATIONS, run_calibration
from fmc_scoring.originality.synthetic import Architecture

SMALL = Architecture(
    vision_hidden=48, vision_layers=2, patch=8, text_hidden=64, text_layers=2, intermediate=160, vocab=384
)


def test_fifty_independent_pairs_give_no_false_positive_and_every_derived_copy_is_detected() -> None:
    result = run_calibration(pairs=50, arch=SMALL)
    assert result.false_positives == 0, result.flagged_modules_on_independent
    assert result.max_independent_pearson < 0.2  # module medians stay below the review thresholds
    assert result.max_independent_cka < 0.25
    for name in DERIVATIONS:
        assert result.detection_rate(name) == 1.0, name
