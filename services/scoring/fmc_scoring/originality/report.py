"""The report of a check: a verdict for the model and, per module, the evidence that explains it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from fmc_common.events.vocabulary import Verdict


class Method(StrEnum):
    EXACT = "exact-hash"
    POSITIONAL = "pearson"
    ALIGNED_CKA = "aligned-cka"
    RANK_TEST = "mlp-rank-test"
    LAYER_INVARIANTS = "layer-invariants"
    NONE = "none"


@dataclass
class ModuleFinding:
    """One module of the candidate against its closest donor."""

    module: str
    component: str
    parameter_share: float
    parameters: int
    decision: Verdict
    method: Method
    statistic: str
    value: float | None
    baseline_mean: float | None
    baseline_sd: float | None
    z_score: float | None
    p_value: float | None
    tensors_covered: int
    tensors_total: int
    donor: str | None = None
    donor_revision: str | None = None
    donor_modules: list[str] = field(default_factory=list)
    matched_tensors: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)


@dataclass
class Report:
    verdict: Verdict
    summary: str
    reused_components: list[str]
    reused_modules: list[str]
    review_modules: list[str]
    donors_compared: list[str]
    parameters: int
    tensors: int
    bytes_checked: int
    modules: list[ModuleFinding]
    context: dict[str, Any] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    # Share of the model's parameters in modules found reused (and in modules sent to review).
    reused_parameter_share: float = 0.0
    review_parameter_share: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def finding(self, module: str) -> ModuleFinding:
        for found in self.modules:
            if found.module == module:
                return found
        raise KeyError(module)
