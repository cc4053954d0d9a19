"""A donor's compact fingerprint: per tensor its hashes and small statistics, never its weights.

Per tensor: sha256 of the raw bytes; sha256 of its bf16 form (truncated and rounded, and of the
transpose for matrices), so a copy stored in another dtype or orientation is still an exact match;
a fixed sample of elements (for Pearson, relative L2 and bit-equality); for matrices with a hidden
axis, the cosine Gram matrix of a fixed subset of hidden units (for CKA); for MLP projections, a
fixed subset of units over those hidden units (for the rank test); for the embedding that anchors
a hidden space, those hidden units over fixed features (to align a permuted copy).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fmc_scoring.originality.invariants import LayerSketch, sketch_model
from fmc_scoring.originality.modules import (
    Kind,
    Space,
    classify,
    is_patch_embedding,
    is_token_embedding,
    writes_hidden,
)
from fmc_scoring.originality.safetensors_io import (
    RAW_DTYPES,
    TensorInfo,
    bf16_bits,
    inventory,
    iter_row_chunks,
    open_weights,
    to_float32,
)
from fmc_scoring.originality.scan import (
    F32,
    AnchorRequest,
    GramRequest,
    HiddenSelection,
    Ints,
    Request,
    UnitRequest,
    scan_tensor,
    subset,
)
from fmc_scoring.originality.stats import normalise_gram

FINGERPRINT_VERSION = 1
TRANSPOSE_BLOCK_ELEMENTS = 8 * 1024 * 1024


@dataclass(frozen=True)
class SketchConfig:
    """Sizes of the compact statistics; bigger is more sensitive, slower and larger to store."""

    sample_size: int = 4096
    hidden_units: int = 128
    mlp_units: int = 128
    anchor_features: int = 256


DEFAULT_SKETCH = SketchConfig()


@dataclass(frozen=True)
class SpacePlan:
    """A hidden space (vision, audio, text): its size, the embedding anchoring it, the units kept."""

    space: Space
    hidden: int
    anchor: str
    anchor_axis: int
    feature_count: int
    units: Ints
    features: Ints

    def to_json(self) -> dict[str, Any]:
        return {
            "hidden": self.hidden,
            "anchor": self.anchor,
            "anchor_axis": self.anchor_axis,
            "feature_count": self.feature_count,
        }

    @classmethod
    def build(
        cls, space: Space, hidden: int, anchor: str, axis: int, feature_count: int, sketch: SketchConfig
    ) -> SpacePlan:
        return cls(
            space,
            hidden,
            anchor,
            axis,
            feature_count,
            subset(hidden, sketch.hidden_units, salt=1),
            subset(feature_count, sketch.anchor_features, salt=2),
        )


def plan_spaces(tensors: list[TensorInfo], sketch: SketchConfig = DEFAULT_SKETCH) -> dict[Space, SpacePlan]:
    """The anchor of each hidden space: the token embedding (text), a patch embedding (vision, audio)."""
    plans: dict[Space, SpacePlan] = {}
    for info in tensors:
        if not info.is_float or len(info.shape) < 2:
            continue
        space = classify(info.name).space
        if space in plans or space is Space.PROJECTOR:
            continue
        if space is Space.TEXT and is_token_embedding(info.name) and len(info.shape) == 2:
            vocab, hidden = info.shape
            plans[space] = SpacePlan.build(space, hidden, info.name, 1, vocab, sketch)
        elif space is not Space.TEXT and is_patch_embedding(info.name):
            plans[space] = SpacePlan.build(space, info.shape[0], info.name, 0, info.row_size, sketch)
    return plans


def hidden_axis(info: TensorInfo, plan: SpacePlan | None) -> int | None:
    """Which axis of the tensor (seen as 2-D) is its space's hidden dimension, if any."""
    if plan is None or not info.is_float or len(info.shape) < 2:
        return None
    if info.name == plan.anchor:
        return plan.anchor_axis
    rows, cols = info.shape[0], info.row_size
    if rows == plan.hidden and cols == plan.hidden:
        return 0 if writes_hidden(info.name) else 1
    if cols == plan.hidden:
        return 1
    if rows == plan.hidden:
        return 0
    return None


def unit_count(info: TensorInfo, axis: int) -> int:
    return info.row_size if axis == 0 else info.shape[0]


@dataclass
class TensorFingerprint:
    name: str
    key: str
    module: str
    dtype: str
    shape: tuple[int, ...]
    sha256: str
    # bf16 forms: (truncated, rounded) and, for matrices, the same two of the transpose.
    canonical: tuple[str, ...]
    sample: F32
    hidden_axis: int | None = None
    gram: F32 | None = None
    units: F32 | None = None
    unit_ids: Ints | None = None
    anchor: F32 | None = None
    # The name-free sketch of the layer this tensor opens (``invariants``), serialised.
    layer_sketch: bytes | None = None

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def distinct(self) -> int:
        return int(np.unique(self.sample).size)

    def blob(self) -> bytes:
        """The arrays, as one compressed ``.npz`` (stored beside the scalar fields)."""
        arrays = {"sample": self.sample}
        for name in ("gram", "units", "unit_ids", "anchor"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        if self.layer_sketch is not None:
            arrays["layer_sketch"] = np.frombuffer(self.layer_sketch, dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_blob(cls, fields: dict[str, Any], blob: bytes) -> TensorFingerprint:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            loaded = {name: arrays[name] for name in arrays.files}
        return cls(
            name=fields["name"],
            key=fields["key"],
            module=fields["module"],
            dtype=fields["dtype"],
            shape=tuple(fields["shape"]),
            sha256=fields["sha256"],
            canonical=tuple(fields["canonical"]),
            hidden_axis=fields.get("hidden_axis"),
            sample=loaded["sample"],
            gram=loaded.get("gram"),
            units=loaded.get("units"),
            unit_ids=loaded.get("unit_ids"),
            anchor=loaded.get("anchor"),
            layer_sketch=loaded["layer_sketch"].tobytes() if "layer_sketch" in loaded else None,
        )


@dataclass
class ModelFingerprint:
    """Everything the reference library keeps about one donor model (at one revision)."""

    name: str
    revision: str
    tensors: list[TensorFingerprint]
    plans: dict[Space, SpacePlan]
    sketch: SketchConfig = DEFAULT_SKETCH
    config_sha256: str | None = None
    tokenizer_sha256: str | None = None
    by_hash: dict[str, TensorFingerprint] = field(default_factory=dict, repr=False)
    by_key: dict[str, TensorFingerprint] = field(default_factory=dict, repr=False)
    layers: list[LayerSketch] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.index()

    def index(self) -> None:
        self.layers = [LayerSketch.from_bytes(t.layer_sketch) for t in self.tensors if t.layer_sketch]
        self.by_hash = {}
        self.by_key = {t.key: t for t in self.tensors}
        for tensor in self.tensors:
            for digest in (tensor.sha256, *tensor.canonical):
                self.by_hash.setdefault(digest, tensor)

    @property
    def parameter_count(self) -> int:
        return sum(t.numel for t in self.tensors)

    def plans_json(self) -> str:
        return json.dumps({str(space): plan.to_json() for space, plan in self.plans.items()}, sort_keys=True)

    @staticmethod
    def plans_from_json(text: str, sketch: SketchConfig = DEFAULT_SKETCH) -> dict[Space, SpacePlan]:
        raw = json.loads(text)
        return {
            Space(space): SpacePlan.build(
                Space(space), p["hidden"], p["anchor"], p["anchor_axis"], p["feature_count"], sketch
            )
            for space, p in raw.items()
        }


def fingerprint_model(
    path: Path, name: str, revision: str, sketch: SketchConfig = DEFAULT_SKETCH
) -> ModelFingerprint:
    """Fingerprint a donor model (file, index or directory), streaming one tensor at a time."""
    tensors = inventory(path)
    plans = plan_spaces(tensors, sketch)
    fingerprints: list[TensorFingerprint] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as executor:
        for info in tensors:
            fingerprints.append(_fingerprint_tensor(info, plans, sketch, executor))
    by_name = {f.name: f for f in fingerprints}
    for layer in sketch_model(tensors):
        opening = next(iter(layer.halves.values())).tensors[0]
        by_name[opening].layer_sketch = layer.to_bytes()
    directory = path if path.is_dir() else path.parent
    return ModelFingerprint(
        name,
        revision,
        fingerprints,
        plans,
        sketch,
        config_sha256=_file_sha256(directory / "config.json"),
        tokenizer_sha256=_file_sha256(directory / "tokenizer.json"),
    )


def _fingerprint_tensor(
    info: TensorInfo, plans: dict[Space, SpacePlan], sketch: SketchConfig, executor: ThreadPoolExecutor
) -> TensorFingerprint:
    ref = classify(info.name)
    plan = plans.get(ref.space)
    axis = hidden_axis(info, plan)
    requests: list[Request] = []
    unit_ids: Ints | None = None
    if plan is not None and axis is not None:
        selection = HiddenSelection(axis, plan.units, np.ones(plan.units.size))
        requests.append(GramRequest(selection))
        if ref.kind in (Kind.MLP, Kind.EXPERTS):
            unit_ids = subset(unit_count(info, axis), sketch.mlp_units, salt=3)
            requests.append(UnitRequest(selection, unit_ids))
        if info.name == plan.anchor:
            requests.append(AnchorRequest(axis, plan.features, plan.units))
    with open_weights(info.path, info.root) as handle:
        scanned = scan_tensor(
            info, handle, executor, sample_size=sketch.sample_size, requests=requests, rounded_canonical=True
        )
    canonical = [h for h in (scanned.canonical, scanned.canonical_rounded) if h is not None]
    if info.is_float and info.quant is None and len(info.shape) == 2 and min(info.shape) > 1:
        canonical.extend(transposed_hashes(info))
    fingerprint = TensorFingerprint(
        info.name,
        ref.key,
        ref.module,
        info.dtype,
        info.shape,
        scanned.digest,
        tuple(canonical),
        scanned.sample,
        hidden_axis=axis,
        unit_ids=unit_ids,
    )
    for request in requests:
        if isinstance(request, GramRequest) and request.gram is not None:
            fingerprint.gram = normalise_gram(request.gram).astype(np.float32)
        elif isinstance(request, UnitRequest):
            fingerprint.units = request.vectors
        elif isinstance(request, AnchorRequest):
            fingerprint.anchor = request.vectors
    return fingerprint


def transposed_hashes(info: TensorInfo) -> list[str]:
    """sha256 of the bf16 form (truncated, rounded) of the transposed matrix, read in column blocks."""
    truncated, rounded = hashlib.sha256(), hashlib.sha256()
    for columns in _column_blocks(info, max(1, TRANSPOSE_BLOCK_ELEMENTS // info.shape[0])):
        block = to_float32(np.ascontiguousarray(columns.T), info.dtype)
        truncated.update(bf16_bits(block, round_nearest=False).data)
        rounded.update(bf16_bits(block, round_nearest=True).data)
    return [truncated.hexdigest(), rounded.hexdigest()]


def _column_blocks(info: TensorInfo, width: int) -> Iterator[NDArray[np.generic]]:
    """The matrix ``width`` columns at a time: mapped from a local file, else (an artefact store's
    ranged reads) one streamed pass over the rows per block, so memory stays one block."""
    rows, cols = info.shape
    dtype = RAW_DTYPES[info.dtype]
    with open_weights(info.path, info.root) as handle:
        if isinstance(info.path, Path):  # a local regular file below the root, opened without links
            matrix = np.memmap(handle, dtype=dtype, mode="r", offset=info.start, shape=(rows, cols))
            try:
                for start in range(0, cols, width):
                    yield matrix[:, start : start + width]
            finally:
                del matrix
            return
        for start in range(0, cols, width):
            block = np.empty((rows, min(width, cols - start)), dtype=dtype)
            for first, raw in iter_row_chunks(info, handle):
                block[first : first + raw.shape[0]] = raw[:, start : start + width]
            yield block


def _file_sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def save_library(path: Path, donors: list[ModelFingerprint]) -> None:
    """Write fingerprints to one ``.npz`` file (JSON metadata and the per-tensor blobs; no pickles)."""
    meta = []
    arrays: dict[str, np.ndarray[Any, np.dtype[np.uint8]]] = {}
    for d, donor in enumerate(donors):
        tensors = []
        for t, tensor in enumerate(donor.tensors):
            fields = {
                "name": tensor.name,
                "key": tensor.key,
                "module": tensor.module,
                "dtype": tensor.dtype,
                "shape": list(tensor.shape),
                "sha256": tensor.sha256,
                "canonical": list(tensor.canonical),
                "hidden_axis": tensor.hidden_axis,
            }
            arrays[f"blob_{d}_{t}"] = np.frombuffer(tensor.blob(), dtype=np.uint8)
            tensors.append(fields)
        meta.append(
            {
                "name": donor.name,
                "revision": donor.revision,
                "plans": donor.plans_json(),
                "config_sha256": donor.config_sha256,
                "tokenizer_sha256": donor.tokenizer_sha256,
                "tensors": tensors,
            }
        )
    arrays["meta"] = np.frombuffer(
        json.dumps({"version": FINGERPRINT_VERSION, "donors": meta}).encode(), np.uint8
    )
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


def load_library(path: Path) -> list[ModelFingerprint]:
    with np.load(path, allow_pickle=False) as arrays:
        meta = json.loads(arrays["meta"].tobytes())
        if meta.get("version") != FINGERPRINT_VERSION:
            raise ValueError(
                f"{path.name}: fingerprints of version {meta.get('version')}, expected {FINGERPRINT_VERSION}"
            )
        return [
            ModelFingerprint(
                donor["name"],
                donor["revision"],
                [
                    TensorFingerprint.from_blob(fields, arrays[f"blob_{d}_{t}"].tobytes())
                    for t, fields in enumerate(donor["tensors"])
                ],
                ModelFingerprint.plans_from_json(donor["plans"]),
                config_sha256=donor["config_sha256"],
                tokenizer_sha256=donor["tokenizer_sha256"],
            )
            for d, donor in enumerate(meta["donors"])
        ]
