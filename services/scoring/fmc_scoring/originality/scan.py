"""One streaming pass over a tensor: hashes, a fixed sample, and the sketches the checks ask for.

A tensor is read a few megabytes at a time (``iter_row_chunks``) and seen as 2-D: rows by the
flattened rest. Requests say what to keep from each chunk: a Gram matrix over chosen hidden units,
the rows (units) of an MLP projection restricted to chosen hidden units, or an anchor's columns.
Nothing else of the tensor survives the chunk, so memory stays bounded whatever the model's size.
The raw-byte hash runs on a worker thread (hashlib releases the GIL) while this thread does the rest.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from fmc_scoring.originality.safetensors_io import (
    CHUNK_BYTES,
    TensorInfo,
    bf16_bits,
    iter_row_chunks,
    to_float32,
)

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
Ints = NDArray[np.int64]

SAMPLE_SEED = 0x0F1C_5EED


def sample_positions(numel: int, size: int) -> Ints:
    """Fixed flat positions to sample, a function of the element count only (same for donor and candidate)."""
    if numel <= size:
        return np.arange(numel, dtype=np.int64)
    rng = np.random.default_rng([SAMPLE_SEED, numel])
    positions: Ints = np.unique(rng.integers(0, numel, size=size, dtype=np.int64))
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

    def take(self, first: int, block: F32) -> None:
        h = self.hidden
        if h.axis == 1:
            part = block[:, h.index].astype(np.float64) * h.sign
            contribution = part.T @ part
            self.gram = contribution if self.gram is None else self.gram + contribution
        else:
            self._rows.append(_rows_in(first, block, np.sort(h.index)))

    def finish(self) -> None:
        if self.hidden.axis == 0:
            rows = _ordered(self._rows, self.hidden.index).astype(np.float64) * self.hidden.sign[:, None]
            self.gram = np.asarray(rows @ rows.T, dtype=np.float64)
            self._rows = []


@dataclass
class UnitRequest:
    """The vectors of MLP units (the axis that is not hidden) over the selected hidden units.

    ``units`` picks some units (a donor's fixed subset) or all of them (None, a candidate).
    """

    hidden: HiddenSelection
    units: Ints | None
    vectors: F32 | None = None
    _parts: list[F32] = field(default_factory=list)

    def take(self, first: int, block: F32) -> None:
        h = self.hidden
        if h.axis == 1:
            rows = block if self.units is None else _rows_in(first, block, self.units)
            self._parts.append((rows[:, h.index] * h.sign).astype(np.float32))
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
    """What one pass over a tensor produced."""

    sha256: str
    canonical: str | None
    canonical_rounded: str | None
    sample: F32
    requests: list[Request]


def scan_tensor(
    info: TensorInfo,
    handle: BinaryIO,
    executor: Executor,
    *,
    sample_size: int,
    requests: list[Request],
    rounded_canonical: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
) -> TensorScan:
    """Read ``info`` once; hash it, sample it, and feed every request. ``handle`` is its open file."""
    raw_hash = hashlib.sha256()
    canonical = hashlib.sha256() if info.is_float else None
    rounded = hashlib.sha256() if info.is_float and rounded_canonical else None
    positions = sample_positions(info.numel, sample_size) if info.is_float else np.zeros(0, np.int64)
    sample = np.zeros(positions.size, dtype=np.float32)
    pending: Future[None] | None = None
    row = info.row_size
    for first, raw in iter_row_chunks(info, handle, chunk_bytes):
        if pending is not None:
            pending.result()
        pending = executor.submit(raw_hash.update, raw.data)
        if canonical is None:
            continue
        values = to_float32(raw, info.dtype)
        _update_canonical(canonical, rounded, raw, values, info.dtype)
        lo, hi = np.searchsorted(positions, [first * row, (first + raw.shape[0]) * row])
        sample[lo:hi] = values.ravel()[positions[lo:hi] - first * row]
        for request in requests:
            request.take(first, values)
    if pending is not None:
        pending.result()
    for request in requests:
        request.finish()
    return TensorScan(
        sha256=raw_hash.hexdigest(),
        canonical=None if canonical is None else canonical.hexdigest(),
        canonical_rounded=None if rounded is None else rounded.hexdigest(),
        sample=sample,
        requests=requests,
    )


def _update_canonical(
    canonical: hashlib._Hash, rounded: hashlib._Hash | None, raw: NDArray[np.generic], values: F32, dtype: str
) -> None:
    if dtype == "BF16":
        canonical.update(raw.data)
        if rounded is not None:
            rounded.update(raw.data)
        return
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
