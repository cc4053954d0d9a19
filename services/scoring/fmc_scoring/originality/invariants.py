"""Name-free, anchor-free evidence: each layer aligned from its own weights, then tested on the rest.

A copier can keep a model's function while changing everything a name- or anchor-based check
looks at: rename tensors, move or drop layers, fuse or split q/k/v, permute the hidden units of the
residual stream, flip their signs, rescale attention heads, swap the embedding rows the alignment
would use. What survives is the layer's *operators on the residual stream*:

* attention: ``W_Q^T W_K`` and ``W_O W_V`` (d x d; sums over heads of the per-head products, so
  unchanged by permuting heads or by any invertible transform inside a head, which covers per-head
  rescaling), or the residual-side Gram of each projection when q/k/v/o cannot be told apart;
* MLP: the residual-side Gram ``W_in^T W_in`` and ``W_out W_out^T`` (unchanged by permuting or
  rotating the MLP's units).

A hidden-unit permutation P with signs S turns each operator M into P S M S P^T. So:

1. **Pairing without names.** Layers are found from structure (numbered prefixes, else the order of
   the matrices), each split into its attention and MLP halves by shape. Every submitted layer is
   compared with every donor layer of the same hidden size (moved, dropped or duplicated layers),
   keeping the few whose permutation-invariant profile (quantiles of the unit features, and the
   singular values of the operators: HuRef-style invariants) is closest.
2. **Alignment from the layer's own weights.** Per hidden unit, features unchanged by P and S
   (operator diagonals, norms, quantiles of its row); a linear assignment
   (``scipy.optimize.linear_sum_assignment``) matches the donor's sampled units to the candidate's,
   refined by a few rounds of seeded graph matching on the operators' rows (absolute values:
   sign flips do not matter).
3. **Test on held-out weights.** The alignment found on the attention half is tested on the MLP
   half (unbiased CKA of the squared operators, invariant to signs) and vice versa, and the two
   alignments must agree: for independent models they are two unrelated matchings that agree on
   about 1/d of the units; for a copy, on most of them (after Zhu et al., "Independence tests for
   language models": two matchings found from different weights agree only when the weights share
   an origin).

Computation per layer is bounded: ``SAMPLE_ROWS`` rows of each matrix's other axis, ``UNITS``
donor units, a fixed number of refinement rounds, and at most ``PAIRS_PER_LAYER`` donor layers.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats as scipy_stats  # type: ignore[import-untyped]
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from fmc_scoring.originality.modules import Kind, classify
from fmc_scoring.originality.safetensors_io import (
    RAW_DTYPES,
    ChunkBuffers,
    TensorInfo,
    iter_float_chunks,
    open_weights,
    read_rows,
)
from fmc_scoring.originality.scan import F32, F64, Ints, subset
from fmc_scoring.originality.stats import P_FLOOR, unbiased_cka

SAMPLE_ROWS = 128  # rows of a matrix's other axis kept to form its residual-side operator
UNITS = 64  # donor hidden units kept (the landmarks)
REFINE_ROUNDS = 2
PAIRS_PER_LAYER = 1
STRONG_AGREEMENT = 0.5
PROFILE_QUANTILES = np.linspace(0.05, 0.95, 10)
SPECTRUM = 8
HALVES = ("attention", "mlp")

_NUMBER = re.compile(r"(?:^|[._])(\d+)(?=[._])")
_Q = ("q_proj", "query", ".wq.", "q_lin", "to_q", "attn.q.")
_K = ("k_proj", ".key.", ".wk.", "k_lin", "to_k", "attn.k.")
_V = ("v_proj", "value", ".wv.", "v_lin", "to_v", "attn.v.")
_O = ("o_proj", "out_proj", "attention.output.dense", ".wo.", "out_lin", "to_out", "attn.proj", "c_proj")
_FUSED = ("qkv", "in_proj_weight", "c_attn")


@dataclass
class Operator:
    """A residual-side operator ``A^T B`` (d x d) kept as its two factors (rows x d each)."""

    kind: str
    a: F32
    b: F32
    a_t: F32 = field(init=False, repr=False)
    b_t: F32 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.a_t = np.ascontiguousarray(self.a.T)
        self.b_t = self.a_t if self.a is self.b else np.ascontiguousarray(self.b.T)

    @property
    def symmetric(self) -> bool:
        return self.a is self.b

    def columns(self, units: Ints) -> F32:
        """The operator's columns for the given units (d x len(units))."""
        return np.asarray(self.a_t @ self.b_t[units].T, dtype=np.float32)

    def rows(self, units: Ints) -> F32:
        """The operator's rows for the given units, transposed (d x len(units)): M[units, :].T."""
        return np.asarray(self.b_t @ self.a_t[units].T, dtype=np.float32)


@dataclass
class Half:
    """One half (attention or MLP) of a layer: its tensors and residual-side operators."""

    name: str
    tensors: list[str]
    parameters: int
    operators: list[Operator] = field(default_factory=list)


@dataclass
class Layer:
    """A layer found from structure: its label (hint), hidden size and halves."""

    label: str
    ordinal: int
    hidden: int
    halves: dict[str, Half]
    number: int = 0  # the layer's number in its names, or its place among unnamed layers


@dataclass
class HalfSketch:
    """What a donor keeps of a half: its landmark units' features and operators among them."""

    kinds: list[str]
    features: F32  # UNITS x f (standardised over all the layer's units)
    blocks: F32  # operators x UNITS x UNITS (scaled, absolute values)
    profile: F32  # permutation-invariant: quantiles of every feature and operator spectra
    parameters: int
    tensors: list[str]


@dataclass
class LayerSketch:
    label: str
    ordinal: int
    hidden: int
    units: Ints
    halves: dict[str, HalfSketch]

    def to_bytes(self) -> bytes:
        meta = {
            "label": self.label,
            "ordinal": self.ordinal,
            "hidden": self.hidden,
            "halves": {
                name: {"kinds": h.kinds, "parameters": h.parameters, "tensors": h.tensors}
                for name, h in self.halves.items()
            },
        }
        arrays: dict[str, Any] = {
            "meta": np.frombuffer(json.dumps(meta).encode(), np.uint8),
            "units": self.units,
        }
        for name, h in self.halves.items():
            arrays[f"{name}_features"] = h.features
            arrays[f"{name}_blocks"] = h.blocks.astype(np.float16)
            arrays[f"{name}_profile"] = h.profile
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LayerSketch:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            meta = json.loads(arrays["meta"].tobytes())
            halves = {
                name: HalfSketch(
                    list(h["kinds"]),
                    arrays[f"{name}_features"],
                    arrays[f"{name}_blocks"].astype(np.float32),
                    arrays[f"{name}_profile"],
                    int(h["parameters"]),
                    list(h["tensors"]),
                )
                for name, h in meta["halves"].items()
            }
            return cls(meta["label"], int(meta["ordinal"]), int(meta["hidden"]), arrays["units"], halves)


# ----------------------------------------------------------------------------------------------
# Finding layers and their operators from structure


def find_layers(tensors: list[TensorInfo]) -> list[Layer]:
    """Layers from structure: numbered name prefixes if any, else runs of matrices in file order.

    A layer is a group of matrices sharing one hidden size ``d`` (the size most of them have on
    one axis); its attention half holds square (or fused 3d x d) matrices, its MLP half the
    matrices between d and a wider size.
    """
    matrices = [t for t in tensors if len(t.shape) == 2 and min(t.shape) > 1 and t.numel > 0]
    groups: dict[str, list[TensorInfo]] = {}
    anonymous: list[TensorInfo] = []
    for info in matrices:
        numbers = list(_NUMBER.finditer(info.name))
        match = numbers[-1] if numbers else None
        if match is None:
            if classify(info.name).kind is Kind.OTHER:  # not an embedding, head or norm by its name
                anonymous.append(info)
        else:
            groups.setdefault(info.name[: match.end()], []).append(info)
    layers = [layer for label, infos in groups.items() if (layer := _layer(label, infos)) is not None]
    for layer in layers:
        layer.number = int(re.findall(r"\d+", layer.label)[-1])
    unnamed = [layer for layer in _segment(anonymous) if layer is not None]
    for number, layer in enumerate(unnamed):
        layer.number = number
    layers += unnamed
    for ordinal, layer in enumerate(layers):
        layer.ordinal = ordinal
    return layers


def _segment(infos: list[TensorInfo]) -> Iterator[Layer | None]:
    """Unnamed matrices in file order: a layer is its attention's square matrices, then its MLP's.

    The MLP's matrices share one wider size; a matrix of another wide size, or one before any
    attention matrix (an embedding, a head, a projector), belongs to no layer.
    """
    current: list[TensorInfo] = []
    wide: int | None = None
    for info in sorted(infos, key=lambda t: (str(t.path), t.start)):
        rows, cols = info.shape
        if rows == cols or rows == 3 * cols or cols == 3 * rows:
            if wide is not None:
                yield _layer(f"#{len(current)}@{current[0].name}", current)
                current, wide = [], None
            current.append(info)
        elif current and (wide is None or max(rows, cols) == wide):
            wide = max(rows, cols)
            current.append(info)
        elif current:
            yield _layer(f"#{len(current)}@{current[0].name}", current)
            current, wide = [], None
    if current:
        yield _layer(f"#{len(current)}@{current[0].name}", current)


def _hidden_size(infos: list[TensorInfo]) -> int | None:
    counts: dict[int, int] = {}
    for info in infos:
        for dim in set(info.shape):
            counts[dim] = counts.get(dim, 0) + 1
    if not counts:
        return None
    best = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
    return best[0] if best[1] >= 2 else None


def _layer(label: str, infos: list[TensorInfo]) -> Layer | None:
    d = _hidden_size(infos)
    if d is None:
        return None
    attention, mlp = [], []
    for info in infos:
        rows, cols = info.shape
        if d not in (rows, cols):
            continue
        if rows == cols or max(rows, cols) == 3 * d or _role(info.name) is not None:
            attention.append(info)
        else:
            mlp.append(info)
    halves = {}
    if attention:
        halves["attention"] = Half("attention", [t.name for t in attention], sum(t.numel for t in attention))
    if mlp:
        halves["mlp"] = Half("mlp", [t.name for t in mlp], sum(t.numel for t in mlp))
    if not halves:
        return None
    return Layer(label, 0, d, halves)


def _role(name: str) -> str | None:
    lowered = name.lower()
    for role, markers in (("o", _O), ("q", _Q), ("k", _K), ("v", _V)):
        if any(m in lowered for m in markers):
            return role
    return None


def transposed_layout(layer: Layer, by_name: dict[str, TensorInfo]) -> bool:
    """Whether matrices are stored (in, out) rather than (out, in): the MLP's first matrix tells."""
    mlp = layer.halves.get("mlp")
    if mlp is None:
        return False
    first = by_name[mlp.tensors[0]]
    return first.shape[0] == layer.hidden and first.shape[1] > layer.hidden


def operators(layer: Layer, by_name: dict[str, TensorInfo], rows: int = SAMPLE_ROWS) -> Layer:
    """Fill each half's operators, reading ``rows`` rows of every matrix's other axis."""
    flip = transposed_layout(layer, by_name)
    d = layer.hidden
    attention = layer.halves.get("attention")
    if attention is not None:
        attention.operators = _attention_operators(attention, by_name, d, flip, rows)
    mlp = layer.halves.get("mlp")
    if mlp is not None:
        mlp.operators = []
        for name in mlp.tensors:
            x = _residual_rows(by_name[name], d, None, rows, flip)
            if x is not None:
                mlp.operators.append(Operator("gram", x, x))
    return layer


def _attention_operators(
    half: Half, by_name: dict[str, TensorInfo], d: int, flip: bool, rows: int
) -> list[Operator]:
    """``W_Q^T W_K`` and ``W_O W_V`` if the roles can be told (names, a fused qkv, or file order)."""
    infos = [by_name[n] for n in half.tensors]
    roles: dict[str, tuple[TensorInfo, int]] = {}  # role -> (tensor, row offset of a fused part)
    for info in infos:
        other = info.shape[1] if flip else info.shape[0]
        if other == 3 * d:
            for i, role in enumerate("qkv"):
                roles.setdefault(role, (info, i * d))
    named = {r: i for i in infos if (r := _role(i.name)) is not None and i.shape == (d, d)}
    for role, info in named.items():
        roles.setdefault(role, (info, 0))
    squares = [i for i in infos if i.shape == (d, d)]
    if not named and len(squares) == 4 and not roles:
        roles = {role: (info, 0) for role, info in zip("qkvo", squares, strict=True)}
    if len(roles) == 4:
        heads = subset(d, rows, salt=11)
        q = _residual_rows(roles["q"][0], d, heads + roles["q"][1], None, flip)
        k = _residual_rows(roles["k"][0], d, heads + roles["k"][1], None, flip)
        v = _residual_rows(roles["v"][0], d, heads + roles["v"][1], None, flip)
        o = _residual_rows(roles["o"][0], d, heads, None, not flip)  # o writes: its rows are residual
        if q is not None and k is not None and v is not None and o is not None:
            return [Operator("qk", q, k), Operator("vo", o, v)]
    found = []
    for info in infos:
        x = _residual_rows(info, d, None, rows, flip)
        if x is not None:
            found.append(Operator("gram", x, x))
    return found


def _residual_rows(
    info: TensorInfo, d: int, picked: Ints | None, count: int | None, flip: bool
) -> F32 | None:
    """Rows of the matrix's non-residual axis (``picked`` ones, or ``count`` spread ones) over its d units.

    The residual axis is the one of size d; for a square matrix, the input axis (columns in the
    (out, in) layout, rows when ``flip``), unless it is fused (3d).
    """
    rows, cols = info.shape
    if info.dtype not in RAW_DTYPES:
        return None
    residual_cols = cols == d and (rows != d or not flip)
    if not residual_cols and rows != d:
        return None
    other = rows if residual_cols else cols
    chosen = picked if picked is not None else subset(other, count or other, salt=12)
    chosen = chosen[chosen < other]
    values = _picked(info, chosen, residual_cols)
    finite = np.isfinite(values)
    if finite.mean() < 0.5:
        return None  # mostly NaN or infinite: nothing to compare, never evidence either way
    values = np.where(finite, values, np.float32(0.0))
    if float(values.max()) == float(values.min()):
        return None  # constant: identical in unrelated models by construction
    return values


def _picked(info: TensorInfo, chosen: Ints, rows_wanted: bool) -> F32:
    """Rows ``chosen`` (or, else, those columns transposed) as float32 values, opened through the reader
    (a regular file below the root, no link; or an artefact store's ranged reads). Columns are gathered
    from one streamed pass over the matrix (dequantised), never from a mapping: a file cut short
    while mapped would kill the process (``SIGBUS``); streamed, it is refused as truncated."""
    if rows_wanted:
        return read_rows(info, chosen.astype(np.int64))
    rows, _ = info.shape
    out = np.empty((chosen.size, rows), dtype=np.float32)
    buffers = ChunkBuffers.of_this_thread()
    with open_weights(info.path, info.root) as handle:
        for first, _, values in iter_float_chunks(info, handle, buffers.size, buffers):
            out[:, first : first + values.shape[0]] = values[:, chosen].T
    return out


# ----------------------------------------------------------------------------------------------
# Features, profiles, sketches


def _unit_features(op: Operator, d: int) -> tuple[F32, float]:
    """Per hidden unit, exact features unchanged by permutations and sign flips; and the operator's scale.

    For M = A^T B: the unit's squared norms in A and B, M's diagonal, and the energy of its row and
    column (sum of squares, from the small r x r Grams: a_i^T (B B^T) a_i), all of every unit.
    """
    a64, b64 = op.a.astype(np.float64), op.b.astype(np.float64)
    gram_b = b64 @ b64.T
    row_energy = np.einsum("ij,ij->j", a64, gram_b @ a64)
    scale = math.sqrt(max(float(row_energy.mean()), 0.0) / d) or 1.0
    norms_a = np.einsum("ij,ij->j", a64, a64)
    parts = [np.log1p(row_energy / (row_energy.mean() or 1.0)), np.log1p(norms_a / (norms_a.mean() or 1.0))]
    if not op.symmetric:
        gram_a = a64 @ a64.T
        column_energy = np.einsum("ij,ij->j", b64, gram_a @ b64)
        norms_b = np.einsum("ij,ij->j", b64, b64)
        parts += [
            np.log1p(column_energy / (column_energy.mean() or 1.0)),
            np.log1p(norms_b / (norms_b.mean() or 1.0)),
            np.einsum("ij,ij->j", a64, b64) / scale,
        ]
    return np.stack(parts, axis=1).astype(np.float32), scale


def _singular_values(op: Operator, count: int = SPECTRUM, rounds: int = 2) -> F64:
    """The largest singular values of A^T B without forming it (randomised subspace iteration)."""
    d = op.a.shape[1]
    k = min(count, d, op.a.shape[0])
    basis = np.random.default_rng(15).standard_normal((d, k)).astype(np.float32)
    for _ in range(rounds):
        image = op.a_t @ (op.b @ basis)  # M basis
        basis = np.linalg.qr(op.b_t @ (op.a @ image))[0]  # M^T M basis, orthonormalised
    projected = op.a_t @ (op.b @ basis)
    return np.asarray(np.linalg.svd(projected, compute_uv=False), dtype=np.float64)


def _standardise(features: F32) -> F32:
    centred = features - features.mean(axis=0, keepdims=True)
    spread = centred.std(axis=0, keepdims=True)
    return np.asarray(np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0), np.float32)


@dataclass
class HalfView:
    """A half ready to compare: all of its units' features, its operators and their scales.

    Its ``profile`` (feature quantiles and operator spectra) only ranks several donor layers of one
    width; it is computed on first use, so a layer with a single donor layer to compare skips the
    spectra (a randomised subspace iteration per operator).
    """

    kinds: list[str]
    features: F32  # d x f, standardised
    operators: list[Operator]
    scales: list[float]
    quantiles: F32
    parameters: int
    tensors: list[str]

    @cached_property
    def profile(self) -> F32:
        profile = [self.quantiles]
        for op in self.operators:
            singular = _singular_values(op)
            top = singular[:SPECTRUM] / (singular[0] or 1.0)
            profile.append(np.pad(top, (0, SPECTRUM - top.size)))
        return np.concatenate(profile).astype(np.float32)


def view(half: Half, d: int) -> HalfView | None:
    if not half.operators:
        return None
    features, scales = [], []
    for op in half.operators:
        f, s = _unit_features(op, d)
        features.append(f)
        scales.append(s)
    joined = np.concatenate(features, axis=1)
    if not np.any(joined.std(axis=0) > 0):
        return None  # every unit alike: any matching would be arbitrary
    return HalfView(
        [op.kind for op in half.operators],
        _standardise(joined),
        half.operators,
        scales,
        np.quantile(joined, PROFILE_QUANTILES, axis=0).ravel(),
        half.parameters,
        half.tensors,
    )


def sketch_layer(layer: Layer) -> LayerSketch | None:
    """What a donor keeps of one layer (its landmark units' features and operator blocks)."""
    units = subset(layer.hidden, UNITS, salt=14)
    halves = {}
    for name, half in layer.halves.items():
        v = view(half, layer.hidden)
        if v is None:
            continue
        blocks = np.stack(
            [np.abs(op.columns(units)[units]) / s for op, s in zip(v.operators, v.scales, strict=True)]
        )
        halves[name] = HalfSketch(v.kinds, v.features[units], blocks, v.profile, v.parameters, v.tensors)
    if not halves:
        return None
    return LayerSketch(layer.label, layer.ordinal, layer.hidden, units, halves)


def sketch_model(tensors: list[TensorInfo]) -> list[LayerSketch]:
    by_name = {t.name: t for t in tensors}
    found = []
    for layer in find_layers(tensors):
        sketch = sketch_layer(operators(layer, by_name))
        if sketch is not None:
            found.append(sketch)
    return found


# ----------------------------------------------------------------------------------------------
# Comparing a candidate layer with a donor layer


@dataclass(frozen=True)
class Alignment:
    match: Ints  # candidate unit of each donor landmark
    strength: float


def align(donor: HalfSketch, candidate: HalfView, seed: int = 0) -> Alignment | None:
    """Match the donor's landmark units to the candidate's units from one half's weights alone.

    Candidate units are visited in a random order (``seed``): units that tie are matched by
    chance, so two alignments never agree merely because both fell back on the same order.
    """
    if donor.kinds != candidate.kinds or donor.features.shape[1] != candidate.features.shape[1]:
        return None
    d = candidate.features.shape[0]
    if d < donor.features.shape[0]:
        return None
    order = np.random.default_rng(seed).permutation(d)
    features = candidate.features[order]
    distance = (
        (donor.features**2).sum(axis=1)[:, None]
        - 2.0 * donor.features @ features.T
        + (features**2).sum(axis=1)[None, :]
    )
    rows, match = linear_sum_assignment(distance)
    match = order[match[np.argsort(rows)]]
    # The donor's side of every round, standardised once: its blocks' columns and (if not symmetric) rows.
    reference = [_standardise_rows(b) for b in donor.blocks]
    reference_t = [
        None if op.symmetric else _standardise_rows(np.ascontiguousarray(b.T))
        for b, op in zip(donor.blocks, candidate.operators, strict=True)
    ]
    similarity = np.zeros((donor.features.shape[0], d))
    for _ in range(REFINE_ROUNDS):
        similarity = np.zeros((donor.features.shape[0], d))
        for ref, ref_t, op, scale in zip(
            reference, reference_t, candidate.operators, candidate.scales, strict=True
        ):
            seen = _standardise_rows(np.abs(op.columns(match)) / scale)  # d x UNITS
            similarity += ref @ seen.T
            if ref_t is not None:
                seen_rows = _standardise_rows(np.abs(op.rows(match)) / scale)  # row j: M[match, j]
                similarity += ref_t @ seen_rows.T
        rows, match = linear_sum_assignment(-similarity[:, order])
        match = order[match[np.argsort(rows)]]
    strength = float(similarity[np.arange(match.size), match].mean()) / max(1, len(reference))
    return Alignment(np.asarray(match, dtype=np.int64), strength)


def _standardise_rows(rows: F32 | F64) -> F64:
    a = np.asarray(rows, dtype=np.float64)
    a = a - a.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.asarray(np.divide(a, norms, out=np.zeros_like(a), where=norms > 0), np.float64)


def held_out_cka(donor: HalfSketch, candidate: HalfView, match: Ints) -> float | None:
    """Mean unbiased CKA of the half's squared (sign-free) operators under an alignment found elsewhere."""
    if donor.kinds != candidate.kinds:
        return None
    values = []
    for block, op, scale in zip(donor.blocks, candidate.operators, candidate.scales, strict=True):
        seen = np.abs(op.columns(match)[match]) / scale
        k = _symmetric_square(block)
        ell = _symmetric_square(seen)
        if not (np.all(np.isfinite(k)) and np.all(np.isfinite(ell))):
            continue
        values.append(unbiased_cka(k, ell))
    return float(np.mean(values)) if values else None


def _symmetric_square(block: F32) -> F64:
    b = np.asarray(block, dtype=np.float64)
    return (b * b + (b * b).T) / 2.0


@dataclass
class LayerMatch:
    """A candidate layer against one donor layer: alignments from each half, tested on the other."""

    candidate: str
    donor: str
    donor_ordinal: int
    agreement: float  # share of landmarks both halves' alignments send to the same unit
    agreement_p: float
    cka: dict[str, float]  # half -> CKA of that half under the other half's alignment
    strength: dict[str, float]
    units: int
    hidden: int
    tensors: dict[str, list[str]]
    donor_tensors: dict[str, list[str]]

    @property
    def score(self) -> float:
        return self.agreement + (min(self.cka.values()) if self.cka else 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "donor_layer": self.donor,
            "agreement": round(self.agreement, 4),
            "agreement_p": self.agreement_p,
            "held_out_cka": {k: round(v, 4) for k, v in self.cka.items()},
            "alignment_strength": {k: round(v, 4) for k, v in self.strength.items()},
            "landmark_units": self.units,
        }


def compare(layer: Layer, views: dict[str, HalfView], donor: LayerSketch) -> LayerMatch | None:
    """Cross-validated evidence: both halves needed on both sides."""
    if donor.hidden != layer.hidden or set(HALVES) - set(views) or set(HALVES) - set(donor.halves):
        return None
    alignments = {}
    for seed, name in enumerate(HALVES):
        found = align(donor.halves[name], views[name], seed=seed)
        if found is None:
            return None
        alignments[name] = found
    cka = {}
    for name, other in (("attention", "mlp"), ("mlp", "attention")):
        value = held_out_cka(donor.halves[name], views[name], alignments[other].match)
        if value is not None and math.isfinite(value):
            cka[name] = value
    agree = int(np.sum(alignments["attention"].match == alignments["mlp"].match))
    n = int(alignments["attention"].match.size)
    p = float(scipy_stats.binom.sf(agree - 1, n, 1.0 / layer.hidden)) if agree else 1.0
    return LayerMatch(
        layer.label,
        donor.label,
        donor.ordinal,
        agree / n if n else 0.0,
        max(P_FLOOR, p),
        cka,
        {k: a.strength for k, a in alignments.items()},
        n,
        layer.hidden,
        {k: v.tensors for k, v in views.items()},
        {k: h.tensors for k, h in donor.halves.items()},
    )


def _profile_distance(a: HalfSketch | HalfView, b: HalfSketch | HalfView) -> float:
    if a.profile.shape != b.profile.shape:
        return math.inf
    return float(np.linalg.norm(a.profile - b.profile))


def candidates_for(layer: Layer, views: dict[str, HalfView], donors: list[LayerSketch]) -> list[LayerSketch]:
    """The donor layers worth aligning: same hidden size and halves, closest invariant profiles."""
    fitting = [
        s
        for s in donors
        if s.hidden == layer.hidden and set(HALVES) <= set(s.halves) and set(HALVES) <= set(views)
    ]
    if len(fitting) <= 1:
        return fitting  # nothing to rank: the candidate's spectra are not computed
    ranked = sorted(fitting, key=lambda s: sum(_profile_distance(s.halves[h], views[h]) for h in HALVES))
    return ranked[:PAIRS_PER_LAYER]


def best_matches(
    tensors: list[TensorInfo], donors: list[LayerSketch], settled: frozenset[str] = frozenset()
) -> Iterator[LayerMatch]:
    """For every candidate layer, its strongest match among the donor's layers (any depth).

    Layers whose matrices are all in ``settled`` (already found reused by other evidence) are skipped.
    """
    by_name = {t.name: t for t in tensors}
    for layer in find_layers(tensors):
        if not any(s.hidden == layer.hidden for s in donors):
            continue
        if all(n in settled for half in layer.halves.values() for n in half.tensors):
            continue
        operators(layer, by_name)
        views = {
            name: v for name, half in layer.halves.items() if (v := view(half, layer.hidden)) is not None
        }
        found: list[LayerMatch] = []
        for sketch in candidates_for(layer, views, donors):
            match = compare(layer, views, sketch)
            if match is not None:
                found.append(match)
                if match.agreement >= STRONG_AGREEMENT:
                    break  # the nearest donor layer already explains it: no need to look further
        for half in layer.halves.values():
            half.operators = []  # release the factors before the next layer
        if found:
            yield max(found, key=lambda m: m.score)


def structural_modules(tensors: list[TensorInfo]) -> dict[str, str]:
    """Modules of matrices whose names give no layer or role (``val_49``): from the layers found."""
    out = {}
    for layer in find_layers(tensors):
        for half in layer.halves.values():
            for name in half.tensors:
                ref = classify(name)
                if ref.layer is None or ref.kind not in (Kind.ATTENTION, Kind.MLP, Kind.EXPERTS):
                    out[name] = f"{ref.space}.layers.{layer.number}.{half.name}"
    return out


def module_of(tensor_names: list[str], modules: dict[str, str]) -> str:
    """The module most of a half's tensors belong to."""
    named = [modules.get(n) or classify(n).module for n in tensor_names]
    return max(sorted(set(named)), key=named.count)
