"""One streaming pass over a tensor: hashes, a fixed sample, and the sketches the checks ask for.

A tensor is read a few megabytes at a time (``iter_row_chunks``) and seen as 2-D: rows by the
flattened rest. Requests say what to keep from each chunk: a Gram matrix over chosen hidden units,
the rows (units) of an MLP projection restricted to chosen hidden units, or an anchor's columns.
Nothing else of the tensor survives the chunk, so memory stays bounded whatever the model's size.
The raw-byte hash runs on a worker thread (hashlib releases the GIL) while this thread does the rest.

A check passes an ``ExactGate`` (its donors' samples by element count): a candidate tensor is then
hashed only if its fixed sample agrees bit for bit (as bf16, truncated, or rounded, or in the
transposed layout) with a donor tensor's sample at the same positions. A tensor that differs from every
donor tensor in a sampled element cannot hash like one, so skipping the hash loses no exact match; a
suspect is hashed in a second pass (rare: only copies). This keeps the per-byte path of a check to one
read, the sample and the requests' gathers, with room for per-layer evidence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO, Protocol

import numpy as np
from numpy.typing import NDArray

from fmc_scoring.originality.safetensors_io import (
    CHUNK_BYTES,
    ChunkBuffers,
    Dequantiser,
    TensorInfo,
    bf16_bits,
    iter_row_chunks,
    to_float32,
)

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
Ints = NDArray[np.int64]

SAMPLE_SEED = 0x0F1C_5EED


@lru_cache(maxsize=256)
def sample_positions(numel: int, size: int) -> Ints:
    """Fixed flat positions to sample, a function of the element count only (same for donor and candidate).

    Kept for the last few hundred element counts (a model has a handful of shapes), read-only.
    """
    if numel <= size:
        positions: Ints = np.arange(numel, dtype=np.int64)
    else:
        rng = np.random.default_rng([SAMPLE_SEED, numel])
        positions = np.unique(rng.integers(0, numel, size=size, dtype=np.int64))
    positions.flags.writeable = False
    return positions


def subset(count: int, size: int, salt: int) -> Ints:
    """A fixed sorted subset of ``range(count)`` (hidden units, MLP units, anchor features)."""
    if count <= size:
        return np.arange(count, dtype=np.int64)
    rng = np.random.default_rng([SAMPLE_SEED, salt, count])
    return np.sort(rng.choice(count, size=size, replace=False)).astype(np.int64)


@dataclass(frozen=True)
class HiddenSelection:
    """Hidden units to keep along ``axis`` (0: rows, 1: columns), each multiplied by its sign."""

    axis: int
    index: Ints
    sign: F64


@dataclass
class GramRequest:
    """Accumulates the linear Gram matrix of the selected hidden units (their vectors over the other axis)."""

    hidden: HiddenSelection
    gram: F64 | None = None
    _rows: list[F32] = field(default_factory=list)

    # The last chunk's hidden columns (unsigned), for a UnitRequest over the same columns to reuse.
    last_part: F32 | None = None

    def take(self, first: int, block: F32) -> None:
        h = self.hidden
        if h.axis == 1:
            # float32 products summed in float64 per chunk; the signs are applied once, in finish()
            part = np.take(block, h.index, axis=1)
            self.last_part = part
            contribution = (part.T @ part).astype(np.float64)
            self.gram = contribution if self.gram is None else self.gram + contribution
        else:
            self._rows.append(_rows_in(first, block, np.sort(h.index)))

    def finish(self) -> None:
        if self.hidden.axis == 1 and self.gram is not None:
            self.gram = self.gram * np.outer(self.hidden.sign, self.hidden.sign)
        self.last_part = None
        if self.hidden.axis == 0:
            rows = _ordered(self._rows, self.hidden.index)
            gram = (rows @ rows.T).astype(np.float64)
            self.gram = gram * np.outer(self.hidden.sign, self.hidden.sign)
            self._rows = []


@dataclass
class UnitRequest:
    """The vectors of MLP units (the axis that is not hidden) over the selected hidden units.

    ``units`` picks some units (a donor's fixed subset) or all of them (None, a candidate).
    ``shares``: a GramRequest over the same selection, fed each chunk before this one: its gather of
    the hidden columns is reused (all units, columns as the hidden axis) instead of gathered again.
    """

    hidden: HiddenSelection
    units: Ints | None
    vectors: F32 | None = None
    shares: GramRequest | None = None
    _parts: list[F32] = field(default_factory=list)

    def take(self, first: int, block: F32) -> None:
        h = self.hidden
        if h.axis == 1:
            shared = self.shares.last_part if self.shares is not None and self.units is None else None
            if shared is not None and shared.shape[0] == block.shape[0]:
                self._parts.append(shared * h.sign.astype(np.float32))
                return
            rows = block if self.units is None else _rows_in(first, block, self.units)
            self._parts.append(np.take(rows, h.index, axis=1) * h.sign.astype(np.float32))
        else:
            self._parts.append(_rows_in(first, block, np.sort(h.index)))

    def finish(self) -> None:
        h = self.hidden
        if h.axis == 1:
            self.vectors = (
                np.concatenate(self._parts) if self._parts else np.zeros((0, h.index.size), np.float32)
            )
        else:
            rows = _ordered(self._parts, h.index) * h.sign[:, None].astype(np.float32)
            cols = rows if self.units is None else rows[:, self.units]
            self.vectors = np.ascontiguousarray(cols.T)
        self._parts = []


@dataclass
class AnchorRequest:
    """Hidden units of an embedding as vectors over fixed features (pixels of a patch, token ids).

    ``units`` restricts the hidden units kept (a donor keeps its chosen ones; a candidate keeps all).
    """

    axis: int
    features: Ints
    units: Ints | None
    vectors: F32 | None = None
    _parts: list[F32] = field(default_factory=list)

    def take(self, first: int, block: F32) -> None:
        if self.axis == 0:
            rows = block if self.units is None else _rows_in(first, block, self.units)
            self._parts.append(rows[:, self.features].astype(np.float32))
        else:
            rows = _rows_in(first, block, self.features)
            self._parts.append(rows if self.units is None else rows[:, self.units])

    def finish(self) -> None:
        joined = np.concatenate(self._parts) if self._parts else np.zeros((0, 0), np.float32)
        self.vectors = np.ascontiguousarray(joined if self.axis == 0 else joined.T)
        self._parts = []


Request = GramRequest | UnitRequest | AnchorRequest


@dataclass
class TensorScan:
    """What one pass over a tensor produced (``sha256`` None: not hashed, its sample matched no donor's)."""

    sha256: str | None
    canonical: str | None
    canonical_rounded: str | None
    sample: F32
    requests: list[Request]

    @property
    def digest(self) -> str:
        """The raw sha256 of a tensor that was hashed (every tensor of a scan without a gate)."""
        if self.sha256 is None:
            raise ValueError("this tensor was not hashed (its sample matched no donor's)")
        return self.sha256


class SampleDonor(Protocol):
    """What the gate needs of a donor tensor's fingerprint."""

    @property
    def numel(self) -> int: ...

    @property
    def sample(self) -> F32: ...


class ExactGate:
    """Donor tensors' samples by element count, as bf16 bits (truncated and rounded).

    ``suspect`` says whether a candidate tensor could hash like a donor tensor: only a tensor with the
    same element count, whose sample (or, for a matrix, the sample of its transpose) has the same bf16
    bits as a donor sample, truncated or rounded. Tensors that are not floats are always hashed.
    """

    def __init__(self, tensors: Iterable[SampleDonor], sample_size: int) -> None:
        by_numel: dict[int, list[NDArray[np.uint16]]] = {}
        self.unsure: set[int] = set()
        for tensor in tensors:
            if tensor.sample.size != sample_positions(tensor.numel, sample_size).size:
                self.unsure.add(tensor.numel)  # sampled otherwise: cannot rule a copy out, hash
                continue
            bits = by_numel.setdefault(tensor.numel, [])
            bits.append(bf16_bits(tensor.sample, round_nearest=False))
            bits.append(bf16_bits(tensor.sample, round_nearest=True))
        self.bits = {numel: np.stack(found) for numel, found in by_numel.items()}

    def wants_transposed(self, info: TensorInfo) -> bool:
        return info.is_float and len(info.shape) == 2 and info.numel in self.bits

    def suspect(self, info: TensorInfo, sample: F32, transposed: F32 | None) -> bool:
        if not info.is_float or info.numel in self.unsure:
            return True
        donors = self.bits.get(info.numel)
        if donors is None:
            return False
        for candidate in (sample, transposed):
            if candidate is not None and candidate.size == donors.shape[1]:
                bits = bf16_bits(candidate, round_nearest=False)
                if bool((donors == bits).all(axis=1).any()):
                    return True
        return False


def transposed_positions(info: TensorInfo, sample_size: int) -> Ints:
    """Where the sample positions of the transposed matrix (cols x rows) lie in this (rows x cols) one."""
    rows, cols = info.shape
    positions = sample_positions(info.numel, sample_size)
    i, j = np.divmod(positions, rows)  # (i, j) of the transpose is (j, i) here
    flipped: Ints = j * cols + i
    return flipped


def scan_tensor(
    info: TensorInfo,
    handle: BinaryIO,
    executor: Executor,
    *,
    sample_size: int,
    requests: list[Request],
    rounded_canonical: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
    gate: ExactGate | None = None,
    buffers: ChunkBuffers | None = None,
) -> TensorScan:
    """Read ``info`` once; sample it, feed every request, and hash it (always, or if ``gate`` suspects it).

    ``handle`` is its open file. Without a gate (a donor's fingerprint) every tensor is hashed in the
    same pass; with one, only suspects are, in a second pass. ``buffers``: the caller's chunk buffers,
    reused from tensor to tensor (requests copy what they keep; a chunk's hash is awaited before its
    buffer comes round again).
    """
    sample = _Sampler(info, sample_size, info.is_float)
    transposed = _Sampler(info, sample_size, gate is not None and gate.wants_transposed(info), flip=True)
    always = gate is None or not info.is_float  # integers are hashed in the one pass, like donors
    hashes = _Hashes(info, rounded_canonical, executor) if always else None
    chunks = iter_row_chunks(info, handle, chunk_bytes, buffers)
    if info.is_float:
        _read_values(info, chunks, buffers, hashes, (sample, transposed), requests)
    else:
        for _, raw in chunks:
            if hashes is not None:
                hashes.update(raw)
    for request in requests:
        request.finish()
    if (
        hashes is None
        and gate is not None
        and gate.suspect(info, sample.values, transposed.values if transposed.on else None)
    ):
        hashes = _Hashes(info, rounded_canonical, executor)
        convert = Dequantiser(info)
        for first, raw in iter_row_chunks(info, handle, chunk_bytes, buffers):
            hashes.update(raw)
            if info.is_float:
                hashes.update_canonical(raw, convert(first, raw))
    digests = (None, None, None) if hashes is None else hashes.finish()
    return TensorScan(
        sha256=digests[0],
        canonical=digests[1],
        canonical_rounded=digests[2],
        sample=sample.values,
        requests=requests,
    )


def _read_values(
    info: TensorInfo,
    chunks: Iterable[tuple[int, NDArray[np.generic]]],
    buffers: ChunkBuffers | None,
    hashes: _Hashes | None,
    samplers: tuple[_Sampler, _Sampler],
    requests: list[Request],
) -> None:
    """The pass over a float tensor: hashes (if any), samples and requests from each chunk's values."""
    convert = Dequantiser(info)
    # Only the samples read the values (no request, no hash of a widened form): an unquantised
    # tensor stored narrower than float32 then widens its sampled elements only, not every chunk.
    narrow = info.dtype != "F32" and info.quant is None
    sampled_only = narrow and not requests and (hashes is None or info.dtype == "BF16")
    widen_into = buffers if narrow else None
    for first, raw in chunks:
        if hashes is not None:
            hashes.update(raw)
        if sampled_only:
            if hashes is not None:
                hashes.update_canonical(raw, None)
            for sampler in samplers:
                sampler.take(first, raw, info.dtype)
            continue
        values = convert(first, raw, None if widen_into is None else widen_into.floats(raw.shape))
        if hashes is not None:
            hashes.update_canonical(raw, values)
        for sampler in samplers:
            sampler.take(first, values)
        for request in requests:
            request.take(first, values)


class _Sampler:
    """The fixed sample of a tensor (or, ``flip``, of its transpose) gathered chunk by chunk."""

    def __init__(self, info: TensorInfo, size: int, on: bool, *, flip: bool = False) -> None:
        self.on = on
        self.order: Ints | None = None
        self.sorted = np.zeros(0, np.int64)
        if on and flip:
            wanted = transposed_positions(info, size)
            self.order = np.argsort(wanted, kind="stable")
            self.sorted = wanted[self.order]
        elif on:
            self.sorted = sample_positions(info.numel, size)  # already sorted
        self.values = np.zeros(self.sorted.size, dtype=np.float32)
        self.row = info.row_size

    def take(self, first: int, values: NDArray[np.generic], stored_as: str | None = None) -> None:
        """Sample a block of float32 values, or (``stored_as`` its dtype) of unquantised raw values,
        widening only the sampled elements."""
        if not self.on:
            return
        start = first * self.row
        flat = values.reshape(-1)
        if flat.size == self.sorted.size and start == 0:  # the whole tensor in one chunk, all sampled
            lo, hi, where = 0, flat.size, self.order if self.order is not None else slice(None)
        else:
            lo, hi = np.searchsorted(self.sorted, [start, start + flat.size])
            where = self.order[lo:hi] if self.order is not None else slice(lo, hi)
        picked = flat[self.sorted[lo:hi] - start]
        self.values[where] = picked if stored_as is None else to_float32(picked, stored_as)


class _Hashes:
    """The raw sha256 (on the worker thread) and the bf16 forms' (here) of one tensor."""

    def __init__(self, info: TensorInfo, rounded: bool, executor: Executor) -> None:
        self.dtype = info.dtype if info.quant is None else "quantised"
        self.raw = hashlib.sha256()
        self.canonical = hashlib.sha256() if info.is_float else None
        self.rounded = hashlib.sha256() if info.is_float and rounded else None
        self.executor = executor
        self.pending: Future[None] | None = None

    def update(self, raw: NDArray[np.generic]) -> None:
        if self.pending is not None:
            self.pending.result()  # also frees the previous chunk's buffer for the next read
        self.pending = self.executor.submit(self.raw.update, raw.data)

    def update_canonical(self, raw: NDArray[np.generic], values: F32 | None) -> None:
        """The bf16 forms' hashes; ``values`` (float32) may be None only for BF16 and F32 tensors."""
        if self.canonical is not None:
            _update_canonical(self.canonical, self.rounded, raw, values, self.dtype)

    def finish(self) -> tuple[str, str | None, str | None]:
        if self.pending is not None:
            self.pending.result()
        return (
            self.raw.hexdigest(),
            None if self.canonical is None else self.canonical.hexdigest(),
            None if self.rounded is None else self.rounded.hexdigest(),
        )


def _update_canonical(
    canonical: hashlib._Hash,
    rounded: hashlib._Hash | None,
    raw: NDArray[np.generic],
    values: F32 | None,
    dtype: str,
) -> None:
    if dtype == "BF16":
        canonical.update(raw.data)
        if rounded is not None:
            rounded.update(raw.data)
        return
    if values is None:
        raise ValueError(f"the bf16 forms of a tensor stored as {dtype} need its float32 values")
    if dtype == "F32":
        # The high half of each little-endian float32 is its bf16 truncation: no arithmetic needed.
        canonical.update(np.ascontiguousarray(raw.view(np.uint16)[:, 1::2]).data)
    else:
        canonical.update(bf16_bits(values, round_nearest=False).data)
    if rounded is not None:
        rounded.update(bf16_bits(values, round_nearest=True).data)


def _rows_in(first: int, block: F32, wanted: Ints) -> F32:
    """The rows of ``block`` (which starts at row ``first``) whose indices are in sorted ``wanted``."""
    lo, hi = np.searchsorted(wanted, [first, first + block.shape[0]])
    return np.asarray(block[wanted[lo:hi] - first], dtype=np.float32)


def _ordered(parts: list[F32], index: Ints) -> F32:
    """Rows gathered in ascending index order, put back in the order of ``index`` (which may be unsorted)."""
    joined = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    order = np.argsort(np.argsort(index, kind="stable"), kind="stable")
    return np.asarray(joined[order], dtype=np.float32)
