"""Check a candidate model against the reference library: align, stream, compare, decide, report.

1. Inventory from the headers; each hidden space's anchor (token or patch embedding).
2. Alignment: for each donor sharing a hidden space of the same size, a few rows of the candidate's
   anchor are read and its hidden units matched to the donor's (linear assignment, signs included).
3. One streaming pass over every tensor: hashes, the fixed sample, and for tensors with a donor
   counterpart the Gram over the matched hidden units and the MLP units over them.
4. Evidence per tensor, decisions per module, a verdict for the model.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality.blas import single_threaded_blas
from fmc_scoring.originality.evidence import (
    Figure,
    TensorEvidence,
    aligned_cka,
    anchor_strength_baseline,
    exact_kind,
    informative,
    match_units,
    positional,
)
from fmc_scoring.originality.fingerprint import (
    DEFAULT_SKETCH,
    ModelFingerprint,
    SketchConfig,
    SpacePlan,
    TensorFingerprint,
    hidden_axis,
    plan_spaces,
    unit_count,
)
from fmc_scoring.originality.invariants import LayerMatch, best_matches, module_of, structural_modules
from fmc_scoring.originality.modules import COMPONENT_NAMES, Space, classify
from fmc_scoring.originality.outcomes import not_comparable_report, unreadable_report
from fmc_scoring.originality.report import ModuleFinding, Report
from fmc_scoring.originality.safetensors_io import (
    CHUNK_BYTES,
    DEFAULT_LIMITS,
    ChunkBuffers,
    ReaderLimits,
    SafetensorsError,
    TensorInfo,
    file_size,
    inventory,
    open_weights,
    read_rows,
)
from fmc_scoring.originality.scan import (
    F32,
    F64,
    ExactGate,
    GramRequest,
    HiddenSelection,
    Ints,
    Request,
    TensorScan,
    UnitRequest,
    scan_tensor,
)
from fmc_scoring.originality.stats import Baseline, align_units
from fmc_scoring.originality.verdict import (
    DEFAULT_THRESHOLDS,
    Donor,
    Thresholds,
    assess_module,
    model_verdict,
    rank_test_tensors,
)

CONTEXT_FILE_BYTES = 64 * 1024 * 1024  # a tokenizer.json is a few MB
# An anchor alignment this many baseline spreads above its shuffled-feature baseline, or less, matched
# the hidden units no better than chance: sketches taken under it would be draws from their own null.
PROBE_CHANCE_Z = 3.0


@dataclass(frozen=True)
class Probe:
    """The candidate's hidden units matched to one donor's chosen units in one space."""

    donor: ModelFingerprint
    space: Space
    match: Ints
    sign: F64
    strength: float
    baseline: Baseline

    @property
    def at_chance(self) -> bool:
        """Whether the alignment found no correspondence (its strength is within chance of shuffled
        features'): the hidden units are then matched at random, so a Gram or unit matching taken
        over them is a draw from the statistic's own null and is not computed. A permuted copy whose
        anchor was disguised this way is the name-free layer evidence's to find."""
        return not self.baseline.z(self.strength) > PROBE_CHANCE_Z


@dataclass
class _Pending:
    probe: Probe
    donor_tensor: TensorFingerprint
    gram: GramRequest | None
    units: UnitRequest | None


def check_model(
    path: Path,
    donors: list[ModelFingerprint],
    *,
    sketch: SketchConfig = DEFAULT_SKETCH,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    chunk_bytes: int = CHUNK_BYTES,
    seed: int = 0,
    root: Path | None = None,
    limits: ReaderLimits = DEFAULT_LIMITS,
) -> Report:
    """The originality report of the model at ``path`` (a file, a sharded index or a directory).

    Nothing is read outside ``root`` (default: the model's directory). A model the reader refuses
    (hostile or broken files, ``safetensors_io``) is ``unreadable``; one with nothing to compare (no
    tensors, or no finite value in any sample) is ``not-comparable``: neither is ever ``original``.
    """
    single_threaded_blas()  # small products: a BLAS thread pool only waits for busy cores
    try:
        with ChunkBuffers.in_this_thread(chunk_bytes):
            return _check_model(path, donors, sketch, thresholds, chunk_bytes, seed, root, limits)
    except SafetensorsError as exc:
        return unreadable_report(str(exc), exc.rule, donors)


def _check_model(
    path: Path,
    donors: list[ModelFingerprint],
    sketch: SketchConfig,
    thresholds: Thresholds,
    chunk_bytes: int,
    seed: int,
    root: Path | None,
    limits: ReaderLimits,
) -> Report:
    rng = np.random.default_rng(seed)
    tensors = inventory(path, root, limits)
    plans = plan_spaces(tensors, sketch)
    probes = [p for donor in donors for p in _probes(tensors, plans, donor, rng)]
    evidence: dict[str, dict[Donor, list[TensorEvidence]]] = defaultdict(lambda: defaultdict(list))
    members: dict[str, dict[str, int]] = defaultdict(dict)
    by_file: dict[Path, list[TensorInfo]] = defaultdict(list)
    for info in tensors:
        by_file[info.path].append(info)
    structural = structural_modules(tensors)
    gate = ExactGate((t for donor in donors for t in donor.tensors), sketch.sample_size)
    ranked = _rank_test_inputs(tensors, plans, probes, structural)
    finite = 0
    buffers = ChunkBuffers.of_this_thread()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as executor:
        for file, infos in by_file.items():
            with open_weights(file, infos[0].root) as handle:
                for info in infos:
                    module = structural.get(info.name) or classify(info.name).module
                    members[module][info.name] = info.numel
                    found, scanned = _check_tensor(
                        info, handle, plans, probes, donors, sketch, executor, buffers, ranked, gate
                    )
                    finite += int(np.isfinite(scanned.sample).sum())
                    for donor, item in found:
                        evidence[module][donor].append(item)
    total = sum(info.numel for info in tensors)
    if total == 0 or finite == 0:
        return not_comparable_report(tensors, donors, total)
    # Each module's finding from the per-tensor evidence; only modules the layer evidence then
    # covers are assessed again (the rank tests in an assessment are not free).
    first = {
        module: assess_module(
            module, classify(next(iter(names))).component, names, evidence[module], total, thresholds
        )
        for module, names in members.items()
    }
    settled = frozenset(
        name
        for module, names in members.items()
        if first[module].decision is Verdict.REUSED
        for name in names
    )
    layers = _layer_evidence(tensors, donors, structural, settled)
    findings = [
        first[module]
        if not layers.get(module)
        else assess_module(
            module,
            first[module].component,
            names,
            evidence[module],
            total,
            thresholds,
            layers[module],
        )
        for module, names in sorted(members.items())
    ]
    return _report(findings, tensors, donors, probes, plans, path, thresholds)


def _layer_evidence(
    tensors: list[TensorInfo],
    donors: list[ModelFingerprint],
    structural: dict[str, str],
    settled: frozenset[str],
) -> dict[str, dict[Donor, list[tuple[LayerMatch, str]]]]:
    """Name-free evidence: every candidate layer against the donor layers of the same width.

    Layers already found reused by hashes or same-position statistics (``settled``) are not aligned again.
    """
    found: dict[str, dict[Donor, list[tuple[LayerMatch, str]]]] = defaultdict(lambda: defaultdict(list))
    for donor in donors:
        if not donor.layers:
            continue
        for match in best_matches(tensors, donor.layers, settled):
            for half, names in match.tensors.items():
                found[module_of(names, structural)][Donor(donor.name, donor.revision)].append((match, half))
    return found


def _probes(
    tensors: list[TensorInfo],
    plans: dict[Space, SpacePlan],
    donor: ModelFingerprint,
    rng: np.random.Generator,
) -> list[Probe]:
    by_name = {t.name: t for t in tensors}
    found = []
    for space, plan in plans.items():
        theirs = donor.plans.get(space)
        anchor = donor.by_key.get(classify(theirs.anchor).key) if theirs else None
        if theirs is None or anchor is None or anchor.anchor is None:
            continue
        if theirs.hidden != plan.hidden or theirs.anchor_axis != plan.anchor_axis:
            continue
        if plan.anchor_axis == 0 and theirs.feature_count != plan.feature_count:
            continue  # patches of another size: pixel features do not correspond
        valid = theirs.features < plan.feature_count
        if int(valid.sum()) < 8:
            continue
        candidate = _anchor_vectors(by_name[plan.anchor], plan.anchor_axis, theirs.features[valid])
        reference = anchor.anchor[:, valid]
        alignment = align_units(reference, candidate)
        baseline = anchor_strength_baseline(reference, candidate, rng)
        found.append(Probe(donor, space, alignment.match, alignment.sign, alignment.mean_strength, baseline))
    return found


def _anchor_vectors(info: TensorInfo, axis: int, features: Ints) -> F32:
    """Every hidden unit of the candidate's anchor over the given features, reading only what is needed."""
    rows = np.arange(info.shape[0], dtype=np.int64) if axis == 0 else features
    out = read_rows(info, rows)
    return np.ascontiguousarray(out[:, features] if axis == 0 else out.T)


def _check_tensor(
    info: TensorInfo,
    handle: BinaryIO,
    plans: dict[Space, SpacePlan],
    probes: list[Probe],
    donors: list[ModelFingerprint],
    sketch: SketchConfig,
    executor: ThreadPoolExecutor,
    buffers: ChunkBuffers,
    ranked: set[tuple[str, str, str]],
    gate: ExactGate | None = None,
) -> tuple[list[tuple[Donor, TensorEvidence]], TensorScan]:
    ref = classify(info.name)
    pending: list[_Pending] = []
    for probe, theirs, axis in _targets(info, plans, probes):
        if probe.at_chance:
            pending.append(_Pending(probe, theirs, None, None))  # the anchor's figure only
            continue
        selection = HiddenSelection(axis, probe.match, probe.sign)
        gram = GramRequest(selection)
        wanted = (info.name, probe.donor.name, probe.donor.revision) in ranked
        units = UnitRequest(selection, None, shares=gram) if wanted else None
        pending.append(_Pending(probe, theirs, gram, units))
    # Grams first: a unit request over the same hidden columns reuses its Gram's gather of each chunk.
    requests: list[Request] = [p.gram for p in pending if p.gram is not None]
    requests += [p.units for p in pending if p.units is not None]
    scanned = scan_tensor(
        info,
        handle,
        executor,
        sample_size=sketch.sample_size,
        requests=requests,
        chunk_bytes=buffers.size,
        gate=gate,
        buffers=buffers,
    )
    found = []
    for donor in donors:
        item = _evidence(info, ref.key, scanned, donor, [p for p in pending if p.probe.donor is donor])
        if item is not None:
            found.append((Donor(donor.name, donor.revision), item))
    return found, scanned


def _targets(
    info: TensorInfo, plans: dict[Space, SpacePlan], probes: list[Probe]
) -> list[tuple[Probe, TensorFingerprint, int]]:
    """The probes (donor alignments) this tensor gets aligned sketches for: its donor counterpart
    by key, of the same shape and hidden axis, with a Gram; and that hidden axis."""
    ref = classify(info.name)
    axis = hidden_axis(info, plans.get(ref.space))
    found = []
    for probe in probes:
        theirs = probe.donor.by_key.get(ref.key)
        if probe.space is not ref.space or theirs is None or axis is None:
            continue
        if theirs.shape != info.shape or theirs.hidden_axis != axis or theirs.gram is None:
            continue
        found.append((probe, theirs, axis))
    return found


def _rank_test_inputs(
    tensors: list[TensorInfo],
    plans: dict[Space, SpacePlan],
    probes: list[Probe],
    structural: dict[str, str],
) -> set[tuple[str, str, str]]:
    """(tensor, donor name, donor revision) whose MLP unit matching the module's rank test will read.

    A matching (a correlation matrix and a linear assignment over every candidate unit) is the
    costliest per-tensor figure; a module's rank test reads only two per MLP (``rank_test_tensors``),
    so a third projection (a gated MLP's up projection) is not matched at all. Which tensors get a
    matching follows from the shapes alone, so this is known before the scan.
    """
    matched: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for info in tensors:
        for probe, theirs, axis in _targets(info, plans, probes):
            units = theirs.units
            if probe.at_chance:
                continue
            if units is None or probe.match.size != units.shape[1] or unit_count(info, axis) < units.shape[0]:
                continue  # match_units would give no matching
            module = structural.get(info.name) or classify(info.name).module
            matched[(module, probe.donor.name, probe.donor.revision)].append(info.name)
    return {
        (name, donor, revision)
        for (_, donor, revision), names in matched.items()
        for name in rank_test_tensors(names)
    }


def _evidence(
    info: TensorInfo,
    key: str,
    scanned: TensorScan,
    donor: ModelFingerprint,
    pending: list[_Pending],
) -> TensorEvidence | None:
    exact_match = (donor.by_hash.get(scanned.sha256) if scanned.sha256 else None) or (
        donor.by_hash.get(scanned.canonical) if scanned.canonical else None
    )
    keyed = donor.by_key.get(key)
    theirs = exact_match or keyed
    if theirs is None:
        return None
    item = TensorEvidence(info.name, theirs.name, theirs.module, info.numel, informative(theirs))
    if exact_match is not None and scanned.sha256 is not None:
        item.exact = exact_kind(scanned.sha256, scanned.canonical, exact_match)
    positional_ok = exact_match is None or exact_match is keyed
    if (
        positional_ok
        and keyed is not None
        and keyed.numel == info.numel
        and info.is_float
        and keyed.sample.size
    ):
        item.donor_tensor, item.donor_module, item.informative = keyed.name, keyed.module, informative(keyed)
        figures = positional(scanned.sample, keyed)
        if figures is None:
            item.nonfinite = True
        else:
            item.pearson, item.relative_l2, item.bit_equal = figures
    for p in pending:
        if p.donor_tensor.anchor is not None:
            item.anchor_alignment = Figure(p.probe.strength, p.probe.baseline)
        elif p.gram is not None and p.gram.gram is not None:
            item.cka = aligned_cka(p.gram.gram, p.donor_tensor)
        if p.units is not None and p.units.vectors is not None:
            item.unit_match = match_units(p.units.vectors, p.donor_tensor)
    return item


def _report(
    findings: list[ModuleFinding],
    tensors: list[TensorInfo],
    donors: list[ModelFingerprint],
    probes: list[Probe],
    plans: dict[Space, SpacePlan],
    path: Path,
    thresholds: Thresholds,
) -> Report:
    verdict = model_verdict(findings, thresholds)
    reused = [f for f in findings if f.decision is Verdict.REUSED]
    review = [f for f in findings if f.decision is Verdict.NEEDS_REVIEW]
    components = sorted({f"{f.component} (from {f.donor}@{f.donor_revision})" for f in reused})
    caveats = []
    for space in plans.keys() - {p.space for p in probes}:
        caveats.append(
            f"{COMPONENT_NAMES[space]}: no donor with a hidden space of the same size; "
            "permuted copies there can be missed (exact and positional checks still ran)"
        )
    for probe in probes:
        if probe.at_chance:
            caveats.append(
                f"{COMPONENT_NAMES[probe.space]}: the anchor alignment with {probe.donor.name}@"
                f"{probe.donor.revision} is at chance level, so no aligned statistics were taken there "
                "(exact, positional and name-free layer evidence still ran)"
            )
    total = sum(f.parameters for f in findings)
    return Report(
        reused_parameter_share=sum(f.parameters for f in reused) / total if total else 0.0,
        review_parameter_share=sum(f.parameters for f in review) / total if total else 0.0,
        verdict=verdict,
        summary=_summary(verdict, reused, review, donors),
        reused_components=components,
        reused_modules=[f.module for f in reused],
        review_modules=[f.module for f in review],
        donors_compared=[f"{d.name}@{d.revision}" for d in donors],
        parameters=sum(t.numel for t in tensors),
        tensors=len(tensors),
        bytes_checked=sum(t.nbytes for t in tensors),
        modules=findings,
        context=_context(tensors, donors, probes, path),
        caveats=caveats,
        thresholds=thresholds.to_json(),
    )


def _summary(
    verdict: Verdict, reused: list[ModuleFinding], review: list[ModuleFinding], donors: list[ModelFingerprint]
) -> str:
    if verdict is Verdict.ORIGINAL:
        return f"original: no module matches any of the {len(donors)} reference model(s)"
    if verdict is Verdict.NOT_COMPARABLE:
        return "not comparable: most of the model has no value or layer that could be compared"
    share = sum(f.parameter_share for f in reused)
    if verdict is Verdict.NEEDS_REVIEW:
        review_share = sum(f.parameter_share for f in review)
        return (
            f"needs review: weak or partial similarity in {', '.join(f.module for f in review[:5])} "
            f"({100 * review_share:.1f}% of parameters)"
        )
    parts = defaultdict(list)
    for f in reused:
        parts[(f.component, f.donor, f.donor_revision)].append(f)
    described = [
        f"{component} from {donor}@{revision} ({len(items)} module(s), "
        f"{100 * sum(i.parameter_share for i in items):.1f}% of parameters)"
        for (component, donor, revision), items in sorted(parts.items(), key=lambda kv: str(kv[0]))
    ]
    return f"reused ({100 * share:.1f}% of parameters): " + "; ".join(described)


def _context(
    tensors: list[TensorInfo], donors: list[ModelFingerprint], probes: list[Probe], path: Path
) -> dict[str, Any]:
    """Shared architecture, config and tokenizer: reported as context, never counted as evidence."""
    keys = {(classify(t.name).key, t.shape) for t in tensors}
    directory = path if path.is_dir() else path.parent
    context: dict[str, Any] = {"architecture_overlap": {}, "alignments": []}
    for donor in donors:
        shared = sum(1 for t in donor.tensors if (t.key, t.shape) in keys)
        context["architecture_overlap"][f"{donor.name}@{donor.revision}"] = {
            "tensors_with_same_name_and_shape": shared,
            "same_config_file": _same_file(directory / "config.json", donor.config_sha256),
            "same_tokenizer_file": _same_file(directory / "tokenizer.json", donor.tokenizer_sha256),
            "note": "a shared architecture or tokenizer is not evidence of reused weights",
        }
    for probe in probes:
        context["alignments"].append(
            {
                "donor": f"{probe.donor.name}@{probe.donor.revision}",
                "space": str(probe.space),
                "mean_abs_correlation": round(probe.strength, 4),
                "baseline_mean": round(probe.baseline.mean, 4),
                "baseline_sd": round(probe.baseline.sd, 4),
                "at_chance": probe.at_chance,
            }
        )
    return context


def _same_file(path: Path, digest: str | None) -> bool | None:
    """Whether a small context file (config, tokenizer) has the donor's hash: None if there is none, or
    it is not a regular file of at most ``CONTEXT_FILE_BYTES`` reached without a link."""
    if digest is None:
        return None
    try:
        with open_weights(path, path.parent) as handle:
            if file_size(handle, path) > CONTEXT_FILE_BYTES:
                return None
            data = handle.read()
    except SafetensorsError:
        return None
    return hashlib.sha256(data).hexdigest() == digest
