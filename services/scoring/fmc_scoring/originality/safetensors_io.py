"""Safetensors without loading a model: headers, sharded indexes, tensors streamed in bounded chunks.

The format is an 8-byte little-endian header length, a JSON header (name -> dtype, shape, byte
offsets) and the raw bytes. Reading the header alone gives the inventory; tensors are then read a
few megabytes at a time, so checking a model of any size needs a bounded amount of memory. Our own
reader (rather than ``safetensors.safe_open``) also handles BF16 without a deep-learning framework.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

MAX_HEADER_BYTES = 100 * 1024 * 1024
CHUNK_BYTES = 4 * 1024 * 1024
INDEX_SUFFIX = ".safetensors.index.json"

# numpy dtype of each safetensors dtype; BF16 is read as its raw 16-bit pattern.
RAW_DTYPES: Mapping[str, np.dtype[np.generic]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
FLOAT_DTYPES = frozenset({"F64", "F32", "F16", "BF16"})


class SafetensorsError(ValueError):
    """The file is not a readable safetensors file (or index)."""


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it; ``start``/``end`` are absolute byte offsets in ``path``."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    path: Path
    start: int
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.end - self.start

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_DTYPES

    @property
    def row_size(self) -> int:
        """Elements per row of the tensor seen as 2-D (first axis by the rest); 1 for a vector."""
        return math.prod(self.shape[1:]) if len(self.shape) > 1 else 1


def read_header(path: Path) -> tuple[list[TensorInfo], dict[str, str]]:
    """The tensors of one ``.safetensors`` file (in file order) and its ``__metadata__``."""
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) != 8:
            raise SafetensorsError(f"{path.name}: too short for a safetensors header")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise SafetensorsError(f"{path.name}: header of {length} bytes is implausible")
        raw = handle.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SafetensorsError(f"{path.name}: header is not JSON") from exc
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path.name}: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    data_start = 8 + length
    size = path.stat().st_size
    tensors = [_tensor_info(path, name, entry, data_start, size) for name, entry in header.items()]
    tensors.sort(key=lambda t: t.start)
    return tensors, {str(k): str(v) for k, v in dict(metadata).items()}


def _tensor_info(path: Path, name: str, entry: object, data_start: int, size: int) -> TensorInfo:
    if not isinstance(entry, dict):
        raise SafetensorsError(f"{path.name}: entry {name!r} is not an object")
    try:
        dtype = str(entry["dtype"])
        shape = tuple(int(d) for d in entry["shape"])
        begin, end = (int(o) for o in entry["data_offsets"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SafetensorsError(f"{path.name}: entry {name!r} is malformed") from exc
    info = TensorInfo(name, dtype, shape, path, data_start + begin, data_start + end)
    if begin < 0 or info.end > size or end < begin or any(d < 0 for d in shape):
        raise SafetensorsError(f"{path.name}: tensor {name!r} lies outside the file")
    width = RAW_DTYPES[dtype].itemsize if dtype in RAW_DTYPES else None
    if width is not None and info.nbytes != info.numel * width:
        raise SafetensorsError(f"{path.name}: tensor {name!r} size does not match its shape")
    return info


def weight_files(path: Path) -> list[Path]:
    """The safetensors files of a model given as a file, a sharded index, or a directory."""
    if path.is_dir():
        indexes = sorted(path.glob(f"*{INDEX_SUFFIX}"))
        if indexes:
            return weight_files(indexes[0])
        files = sorted(path.glob("*.safetensors"))
        if not files:
            raise SafetensorsError(f"{path}: no .safetensors file in this directory")
        return files
    if path.name.endswith(INDEX_SUFFIX):
        try:
            weight_map = json.loads(path.read_text())["weight_map"]
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise SafetensorsError(f"{path.name}: not a safetensors index (no weight_map)") from exc
        names = sorted({str(v) for v in dict(weight_map).values()})
        shards = [(path.parent / n).resolve() for n in names]
        if any(not s.is_relative_to(path.parent.resolve()) for s in shards):
            raise SafetensorsError(f"{path.name}: a shard lies outside the model's directory")
        return shards
    return [path]


def inventory(path: Path) -> list[TensorInfo]:
    """Every tensor of a model (one file, an index or a directory), without reading any tensor."""
    tensors: list[TensorInfo] = []
    seen: set[str] = set()
    for file in weight_files(path):
        for info in read_header(file)[0]:
            if info.name in seen:
                raise SafetensorsError(f"tensor {info.name!r} appears in two shards")
            seen.add(info.name)
            tensors.append(info)
    return tensors


def iter_row_chunks(
    info: TensorInfo, handle: BinaryIO, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[int, NDArray[np.generic]]]:
    """(first row, rows) blocks of the tensor seen as 2-D, in its raw dtype, about ``chunk_bytes`` each.

    A vector is read as a column (rows of one element). The arrays are fresh: callers may keep them.
    """
    dtype = RAW_DTYPES[info.dtype]
    row = info.row_size
    rows_total = info.numel // row if row else 0
    rows_per_chunk = max(1, chunk_bytes // max(1, row * dtype.itemsize))
    handle.seek(info.start)
    first = 0
    while first < rows_total:
        count = min(rows_per_chunk, rows_total - first)
        buffer = handle.read(count * row * dtype.itemsize)
        if len(buffer) != count * row * dtype.itemsize:
            raise SafetensorsError(f"{info.path.name}: tensor {info.name!r} is truncated")
        yield first, np.frombuffer(buffer, dtype=dtype).reshape(count, row)
        first += count


def read_tensor(info: TensorInfo) -> NDArray[np.generic]:
    """A whole tensor in its raw dtype (BF16 as uint16): for small tensors and tests only."""
    with info.path.open("rb") as handle:
        handle.seek(info.start)
        data = handle.read(info.nbytes)
    return np.frombuffer(data, dtype=RAW_DTYPES[info.dtype]).reshape(info.shape)


def to_float32(raw: NDArray[np.generic], dtype: str) -> NDArray[np.float32]:
    """Exact float32 values of a float tensor given in its raw dtype (BF16 widened bit by bit)."""
    if dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    return raw.astype(np.float32, copy=False)


def bf16_bits(values: NDArray[np.float32], *, round_nearest: bool) -> NDArray[np.uint16]:
    """The bfloat16 bit patterns of float32 values, truncated or rounded to nearest even.

    Truncation is exact for values that came from bf16 (an upcast copy); rounding is what
    frameworks do when they downcast, so a donor is hashed both ways (see ``fingerprint``).
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    if round_nearest:
        bits = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    return (bits >> np.uint32(16)).astype(np.uint16)


class SafetensorsWriter:
    """Writes a safetensors file one tensor at a time, so a large test model never sits in memory.

    The header is written first (shapes and dtypes are declared up front), then each tensor's bytes
    in declaration order. The files are readable by the reference ``safetensors`` library.
    """

    def __init__(self, path: Path, layout: Iterable[tuple[str, str, tuple[int, ...]]]) -> None:
        self._expected: list[tuple[str, int]] = []
        header: dict[str, object] = {}
        offset = 0
        for name, dtype, shape in layout:
            nbytes = math.prod(shape) * RAW_DTYPES[dtype].itemsize
            header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
            self._expected.append((name, nbytes))
            offset += nbytes
        encoded = json.dumps(header, separators=(",", ":")).encode()
        encoded += b" " * (-len(encoded) % 8)  # the reference library aligns the data to 8 bytes
        self._handle = path.open("wb")
        self._handle.write(struct.pack("<Q", len(encoded)) + encoded)
        self._next = 0

    def write(self, name: str, array: NDArray[np.generic]) -> None:
        expected_name, nbytes = self._expected[self._next]
        if name != expected_name or array.nbytes != nbytes:
            raise ValueError(f"expected {expected_name!r} ({nbytes} bytes), got {name!r}")
        self._handle.write(np.ascontiguousarray(array).tobytes())
        self._next += 1

    def close(self) -> None:
        self._handle.close()
        if self._next != len(self._expected):
            raise ValueError(f"{len(self._expected) - self._next} declared tensors were never written")

    def __enter__(self) -> SafetensorsWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self._handle.close()  # keep the original error rather than a "never written" one
            return
        self.close()
