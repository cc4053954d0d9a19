"""From per-tensor evidence to a decision per module and a verdict for the model.

A module is ``reused`` only on strong evidence with a large effect: byte-identical informative
tensors covering most of its parameters, or a same-position Pearson correlation far above its
baseline, or (for permuted copies) an aligned CKA far above its baseline, or an aligned CKA
corroborated by the MLP rank test. Weaker but significant signals give ``needs-review``: a human
looks before anyone is accused. The thresholds are justified by ``calibration`` (docs/originality.md).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality.evidence import TensorEvidence
from fmc_scoring.originality.invariants import LayerMatch
from fmc_scoring.originality.report import Method, ModuleFinding
from fmc_scoring.originality.stats import fisher_combine, spearman_p, stouffer, z_to_p

_SEVERITY = {Verdict.NOT_COMPARABLE: -1, Verdict.ORIGINAL: 0, Verdict.NEEDS_REVIEW: 1, Verdict.REUSED: 2}
_PRIORITY = {Method.EXACT: 4, Method.POSITIONAL: 3, Method.ALIGNED_CKA: 2, Method.LAYER_INVARIANTS: 1}
_EXPERT = re.compile(r"\.experts\.(\d+)\.")


@dataclass(frozen=True)
class Thresholds:
    exact_share: float = 0.5
    pearson_reused: float = 0.5
    pearson_review: float = 0.2
    cka_reused: float = 0.5
    cka_review: float = 0.25
    z_reused: float = 8.0
    z_review: float = 5.0
    rank_p_reused: float = 1e-12
    rank_p_review: float = 1e-6
    # A module is ``reused`` only if the tensors carrying the evidence hold this share of its parameters.
    coverage_reused: float = 0.5
    # Layer invariants (``invariants``): agreement of the two halves' alignments, and held-out CKA.
    layer_agreement_reused: float = 0.15
    layer_agreement_review: float = 0.06
    layer_p_reused: float = 1e-12
    layer_p_review: float = 1e-6
    layer_cka_reused: float = 0.5
    layer_cka_review: float = 0.3
    # A model whose modules without any comparable figure hold more than this share is not comparable.
    not_comparable_share: float = 0.5

    def to_json(self) -> dict[str, float]:
        return asdict(self)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Donor:
    name: str
    revision: str


@dataclass
class Candidate:
    """A decision of one method against one donor, before choosing the strongest."""

    decision: Verdict
    method: Method
    statistic: str
    value: float | None
    baseline_mean: float | None
    baseline_sd: float | None
    z: float | None
    p: float | None
    covered: list[TensorEvidence]
    layer: tuple[LayerMatch, str] | None = None

    @property
    def rank(self) -> tuple[int, int, float]:
        # Same severity: byte-identical evidence explains best, then same-position, then aligned.
        return _SEVERITY[self.decision], _PRIORITY[self.method], self.z or 0.0


def assess_module(
    module: str,
    component: str,
    tensors: dict[str, int],
    evidence: dict[Donor, list[TensorEvidence]],
    model_parameters: int,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    layers: dict[Donor, list[tuple[LayerMatch, str]]] | None = None,
) -> ModuleFinding:
    """The finding for one candidate module: its strongest evidence against any donor.

    ``layers``: per donor, the name-free layer matches covering this module, with the half
    (attention or MLP) the module's tensors are in.
    """
    parameters = sum(tensors.values())
    best: tuple[Donor, Candidate] | None = None
    layers = layers or {}
    for donor in set(evidence) | set(layers):
        found = _candidates(evidence.get(donor, []), tensors, thresholds)
        found += [c for m, half in layers.get(donor, []) if (c := _layer(m, half, tensors, t=thresholds))]
        for candidate in found:
            if best is None or candidate.rank > best[1].rank:
                best = (donor, candidate)
    finding = ModuleFinding(
        module=module,
        component=component,
        parameter_share=parameters / model_parameters if model_parameters else 0.0,
        parameters=parameters,
        decision=Verdict.ORIGINAL,
        method=Method.NONE,
        statistic="none",
        value=None,
        baseline_mean=None,
        baseline_sd=None,
        z_score=None,
        p_value=None,
        tensors_covered=0,
        tensors_total=len(tensors),
    )
    if best is None:
        if _nothing_finite(evidence):
            finding.decision = Verdict.NOT_COMPARABLE
            finding.caveats.append("every value compared is NaN or infinite: nothing could be compared")
        else:
            finding.caveats.append(
                "no donor tensor or layer of a comparable shape: only exact hashes were compared"
            )
        return finding
    donor, chosen = best
    finding.decision, finding.method, finding.statistic = chosen.decision, chosen.method, chosen.statistic
    finding.value, finding.baseline_mean, finding.baseline_sd = (
        chosen.value,
        chosen.baseline_mean,
        chosen.baseline_sd,
    )
    finding.z_score, finding.p_value = chosen.z, chosen.p
    finding.tensors_covered = len(chosen.covered)
    finding.donor, finding.donor_revision = donor.name, donor.revision
    if chosen.layer is not None:
        match, half = chosen.layer
        finding.donor_modules = [f"{match.donor} ({half})"]
        finding.matched_tensors = [f"{a} ~ {match.donor}" for a in match.tensors.get(half, [])[:8]]
        finding.tensors_covered = len(match.tensors.get(half, []))
    else:
        finding.donor_modules = sorted({e.donor_module for e in chosen.covered})
        finding.matched_tensors = [f"{e.name} ~ {e.donor_tensor}" for e in chosen.covered[:8]]
    finding.figures = _figures(evidence.get(donor, []))
    for match, half in layers.get(donor, []):
        finding.figures[f"layer invariants ({half})"] = match.to_json()
    finding.caveats.extend(_caveats(evidence.get(donor, []), len(tensors)))
    return finding


def _nothing_finite(evidence: dict[Donor, list[TensorEvidence]]) -> bool:
    items = [e for found in evidence.values() for e in found]
    return bool(items) and all(e.nonfinite for e in items)


def _layer(match: LayerMatch, half: str, tensors: dict[str, int], t: Thresholds) -> Candidate | None:
    """Name-free evidence: two alignments from disjoint weights agree, and each explains the other half."""
    cka = max(match.cka.values()) if match.cka else 0.0
    if (
        match.agreement >= t.layer_agreement_reused
        and match.agreement_p <= t.layer_p_reused
        and (cka >= t.layer_cka_reused)
    ):
        decision = Verdict.REUSED
    elif (match.agreement >= t.layer_agreement_review and match.agreement_p <= t.layer_p_review) or (
        cka >= t.layer_cka_review
    ):
        decision = Verdict.NEEDS_REVIEW
    else:
        decision = Verdict.ORIGINAL
    covered = sum(tensors.get(n, 0) for n in match.tensors.get(half, []))
    if decision is Verdict.REUSED and covered < t.coverage_reused * sum(tensors.values()):
        decision = Verdict.NEEDS_REVIEW
    candidate = Candidate(
        decision,
        Method.LAYER_INVARIANTS,
        "share of hidden units on which the attention and MLP alignments agree (held-out CKA in figures)",
        match.agreement,
        1.0 / match.hidden,
        None,
        None,
        match.agreement_p,
        [],
    )
    candidate.layer = (match, half)
    return candidate


def _candidates(items: list[TensorEvidence], tensors: dict[str, int], t: Thresholds) -> list[Candidate]:
    parameters = sum(tensors.values())
    found = [_exact(items, parameters, t)]
    found.append(_positional(items, t))
    found.append(_aligned(items, t))
    out = [c for c in found if c is not None]
    for candidate in out:
        # Evidence on a small part of a module (one LayerNorm gain) never makes the whole module reused.
        share = sum(e.numel for e in candidate.covered) / parameters if parameters else 0.0
        if candidate.decision is Verdict.REUSED and share < t.coverage_reused:
            candidate.decision = Verdict.NEEDS_REVIEW
    return out


def _exact(items: list[TensorEvidence], parameters: int, t: Thresholds) -> Candidate | None:
    covered = [e for e in items if e.exact is not None and e.informative]
    if not covered:
        return None
    share = sum(e.numel for e in covered) / parameters if parameters else 0.0
    decision = Verdict.REUSED if share >= t.exact_share else Verdict.NEEDS_REVIEW
    statistic = (
        "share of parameters byte-identical (" + ", ".join(sorted({str(e.exact) for e in covered})) + ")"
    )
    return Candidate(decision, Method.EXACT, statistic, share, 0.0, 0.0, None, None, covered)


def _positional(items: list[TensorEvidence], t: Thresholds) -> Candidate | None:
    covered = [e for e in items if e.pearson is not None and e.informative]
    if not covered:
        return None
    figures = [e.pearson for e in covered if e.pearson is not None]
    value = weighted_median([f.value for f in figures], [e.numel for e in covered])
    z = stouffer([f.z for f in figures])
    decision = _decide(value, z, t.pearson_reused, t.pearson_review, t)
    mean = statistics.median(f.baseline.mean for f in figures)
    sd = statistics.median(f.baseline.sd for f in figures)
    return Candidate(
        decision,
        Method.POSITIONAL,
        "median Pearson r, tensors weighted by parameters (same positions)",
        value,
        mean,
        sd,
        z,
        z_to_p(z),
        covered,
    )


def _aligned(items: list[TensorEvidence], t: Thresholds) -> Candidate | None:
    # The anchor (the embedding the alignment was chosen on) counts by its alignment strength
    # against a re-run alignment on shuffled features: its CKA would be inflated by the selection.
    covered = [e for e in items if e.cka is not None or e.anchor_alignment is not None]
    rank_p = _rank_test(items)
    if not covered:
        return None
    figures = [f for e in covered for f in [e.anchor_alignment or e.cka] if f is not None]
    value = statistics.fmean(f.value for f in figures)
    z = stouffer([f.z for f in figures])
    decision = _decide(value, z, t.cka_reused, t.cka_review, t)
    if rank_p is not None and decision is not Verdict.REUSED:
        if rank_p <= t.rank_p_reused and value >= t.cka_review:
            decision = Verdict.REUSED
        elif rank_p <= t.rank_p_review:
            decision = Verdict.NEEDS_REVIEW
    mean = statistics.median(f.baseline.mean for f in figures)
    sd = statistics.median(f.baseline.sd for f in figures)
    p = z_to_p(z) if rank_p is None else min(z_to_p(z), rank_p)
    return Candidate(
        decision,
        Method.ALIGNED_CKA,
        "mean unbiased CKA after hidden-unit alignment (anchor: matched |r|)",
        value,
        mean,
        sd,
        z,
        p,
        covered,
    )


def _decide(value: float, z: float, reused: float, review: float, t: Thresholds) -> Verdict:
    if value >= reused and z >= t.z_reused:
        return Verdict.REUSED
    if value >= review and z >= t.z_review:
        return Verdict.NEEDS_REVIEW
    return Verdict.ORIGINAL


def _rank_test(items: list[TensorEvidence]) -> float | None:
    """Fisher-combined p-value of Spearman agreement between two projections' unit matchings, per MLP."""
    groups: dict[str, list[TensorEvidence]] = {}
    for e in sorted(items, key=lambda e: e.name):
        if e.unit_match is not None:
            groups.setdefault(rank_test_group(e.name), []).append(e)
    p_values = []
    for group in groups.values():
        if len(group) >= 2 and group[0].unit_match is not None and group[1].unit_match is not None:
            p_values.append(spearman_p(group[0].unit_match, group[1].unit_match)[1])
    return fisher_combine(p_values) if p_values else None


def rank_test_group(name: str) -> str:
    """The rank test pairs matchings within an MLP: a mixture's expert, or the module's one MLP."""
    found = _EXPERT.search(name)
    return found.group(1) if found else ""


def rank_test_tensors(names: Iterable[str]) -> set[str]:
    """Of a module's tensors with an MLP unit matching, those the rank test reads (the first two by
    name in each group): the check matches only these, the other projections' matchings would be unused."""
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(rank_test_group(name), []).append(name)
    return {name for group in groups.values() for name in group[:2]}


def rank_test_p(items: list[TensorEvidence]) -> float | None:
    return _rank_test(items)


def _figures(items: list[TensorEvidence]) -> dict[str, object]:
    """Every tensor's figures against this donor, for the reader who wants to check the decision."""
    out: dict[str, object] = {}
    for e in items:
        entry: dict[str, object] = {"donor_tensor": e.donor_tensor, "informative": e.informative}
        if e.exact is not None:
            entry["exact"] = e.exact
        for label in ("pearson", "relative_l2", "bit_equal", "cka", "anchor_alignment"):
            figure = getattr(e, label)
            if figure is not None:
                entry[label] = {
                    "value": round(figure.value, 6),
                    "baseline_mean": round(figure.baseline.mean, 6),
                    "baseline_sd": round(figure.baseline.sd, 6),
                    "z": round(figure.z, 2),
                }
        out[e.name] = entry
    rank_p = _rank_test(items)
    if rank_p is not None:
        out["mlp_rank_test_p"] = rank_p
    return out


def _caveats(items: list[TensorEvidence], total: int) -> list[str]:
    caveats = []
    uninformative = [e.name for e in items if not e.informative]
    if uninformative:
        caveats.append(f"{len(uninformative)} tensor(s) nearly constant or tiny: reported, not counted")
    if len({e.name for e in items}) < total:
        caveats.append(f"{total - len({e.name for e in items})} tensor(s) have no donor counterpart")
    return caveats


def weighted_median(values: list[float], weights: list[int]) -> float:
    """The value below and above which half of the weight lies (tensors weighted by parameters)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    half = sum(weights) / 2.0
    running = 0.0
    for i in order:
        running += weights[i]
        if running >= half:
            return values[i]
    return values[order[-1]] if order else 0.0


def model_verdict(findings: list[ModuleFinding], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Verdict:
    """``reused`` > ``needs-review`` > ``not-comparable`` (most parameters not comparable) > ``original``.

    A model with no module at all is not comparable; NaN or infinite figures never count as original.
    """
    if any(f.decision is Verdict.REUSED for f in findings):
        return Verdict.REUSED
    if any(f.decision is Verdict.NEEDS_REVIEW for f in findings):
        return Verdict.NEEDS_REVIEW
    total = sum(f.parameters for f in findings)
    blank = sum(f.parameters for f in findings if f.decision is Verdict.NOT_COMPARABLE)
    if not findings or total == 0 or blank > thresholds.not_comparable_share * total:
        return Verdict.NOT_COMPARABLE
    return Verdict.ORIGINAL
