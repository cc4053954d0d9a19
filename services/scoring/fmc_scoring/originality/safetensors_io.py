"""Safetensors without loading a model, and without trusting the files: headers, indexes, streamed tensors.

The format is an 8-byte little-endian header length, a JSON header (name -> dtype, shape, byte
offsets) and the raw bytes. Reading the headers alone gives the inventory; tensors are then read a
few megabytes at a time, so checking a model of any size needs a bounded amount of memory. Our own
reader (rather than ``safetensors.safe_open``) reads BF16 and FP8 without a deep-learning framework,
dequantises int8/int4/fp8 weights with their scales (``dtypes``), and refuses hostile files:

* only regular files below the submission's root, opened without following any link, and never a
  FIFO or a device (``files.open_regular``);
* caps (``ReaderLimits``, settings ``FMC_SCORING_ORIGINALITY_MAX_*``): header bytes, header nesting
  depth, tensors per model, bytes per model;
* the header must be the safetensors schema exactly: known dtypes, shapes of non-negative integers,
  byte lengths equal to shape x dtype size, tensors that tile the data area exactly (no overlap, no
  gap, nothing past the end, nothing left after the last tensor), no name twice;
* a sharded model's index must map every tensor to the shard that holds it, and only to shards
  below the root.

Every refusal is a ``SafetensorsError`` naming the file and the rule, never the file's content
(tensor names are content: a refusal says "tensor #12", not its name).
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np
from numpy.typing import NDArray

from fmc_scoring.originality.dtypes import (
    FLOAT_DTYPES,
    QUANTISED_DTYPES,
    RAW_DTYPES,
    Blocks,
    bf16_bits,
    to_float32,
    unpack_int4,
)
from fmc_scoring.originality.files import RefusedFile, open_regular, relative_parts

__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_LIMITS",
    "FLOAT_DTYPES",
    "INDEX_SUFFIX",
    "RAW_DTYPES",
    "ChunkBuffers",
    "Quantisation",
    "ReaderLimits",
    "SafetensorsError",
    "SafetensorsWriter",
    "TensorInfo",
    "bf16_bits",
    "file_size",
    "inventory",
    "iter_float_chunks",
    "iter_row_chunks",
    "iter_tensors",
    "open_weights",
    "read_header",
    "read_rows",
    "read_tensor",
    "to_float32",
    "weight_files",
]

CHUNK_BYTES = 4 * 1024 * 1024
_THREAD = threading.local()
INDEX_SUFFIX = ".safetensors.index.json"
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


@dataclass(frozen=True)
class ReaderLimits:
    """What the reader accepts before it refuses a model as unreadable (see docs/originality.md)."""

    max_header_bytes: int = 16 * 1024 * 1024  # one file's JSON header (100k tensors take ~10 MB)
    max_index_bytes: int = 64 * 1024 * 1024  # a sharded model's index file
    max_header_depth: int = 3  # header object > tensor entry > shape list
    max_tensors: int = 250_000  # per model, all shards together (a 671B MoE has ~92k)
    max_total_bytes: int = 4 * 1024**4  # per model: 4 TiB (a 2T-parameter model in bf16)
    max_files: int = 10_000  # shards per model


DEFAULT_LIMITS = ReaderLimits()


class SafetensorsError(ValueError):
    """The model is not a readable safetensors model: the message names the file and the rule broken."""

    def __init__(self, message: str, rule: str = "unreadable") -> None:
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True)
class Quantisation:
    """A weight stored quantised, dequantised as ``(q - zero) * scale``; ``scheme`` says how q is stored."""

    scheme: str  # int8 | int4-packed | fp8 (the weight's dtype says which fp8)
    scale: TensorInfo
    blocks: Blocks
    zero: TensorInfo | None = None
    divisor: float = 1.0  # bitsandbytes' SCB holds 127 x the scale

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "scale": self.scale.name,
            "block": [self.blocks.row_block, self.blocks.col_block],
            "zero_point": None if self.zero is None else self.zero.name,
        }


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it; ``start``/``end`` are absolute byte offsets in ``path``.

    ``shape`` is the logical shape (a packed int4 weight has twice the columns its bytes hold);
    ``root`` is the folder the file was found under (opened again through ``open_weights``).
    """

    name: str
    dtype: str
    shape: tuple[int, ...]
    path: Path
    start: int
    end: int
    root: Path | None = None
    quant: Quantisation | None = field(default=None, compare=False)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.end - self.start

    @property
    def is_float(self) -> bool:
        """Compared as real values: float dtypes, and quantised weights (dequantised)."""
        return self.dtype in FLOAT_DTYPES or self.quant is not None

    @property
    def row_size(self) -> int:
        """Elements per row of the tensor seen as 2-D (first axis by the rest); 1 for a vector."""
        return math.prod(self.shape[1:]) if len(self.shape) > 1 else 1

    @property
    def rows(self) -> int:
        return self.shape[0] if len(self.shape) > 1 else self.numel

    @property
    def raw_row_bytes(self) -> int:
        """Bytes of one row as stored (half the elements of a packed int4 row)."""
        return self.nbytes // self.rows if self.rows else 0


def _refuse(shown: str, rule: str, code: str = "unreadable") -> SafetensorsError:
    return SafetensorsError(f"{shown}: {rule}", code)


def _shown(path: Path, root: Path) -> str:
    try:
        return "/".join(relative_parts(path, root))
    except RefusedFile:
        return path.name


def open_weights(path: Path, root: Path | None = None) -> BinaryIO:
    """A weights file opened for reading: a regular file below ``root`` (default: its folder), no link."""
    try:
        return open_regular(path, path.parent if root is None else root)
    except RefusedFile as exc:
        raise SafetensorsError(str(exc), "file") from None


def file_size(handle: BinaryIO, path: Path) -> int:
    """The size of an opened weights file (``fstat`` locally; the object's size in an artefact store)."""
    if isinstance(path, Path):
        return os.fstat(handle.fileno()).st_size
    return int(path.stat().st_size)


def _read_exactly(handle: BinaryIO, count: int, shown: str) -> bytes:
    data = handle.read(count)
    if len(data) != count:
        raise _refuse(shown, "is shorter than its header says (truncated)")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def _parse_json(raw: bytes, shown: str, what: str, max_depth: int) -> Any:
    """JSON whose nesting is at most ``max_depth`` (measured outside strings, before parsing)."""
    structure = np.frombuffer(_STRINGS.sub(b'""', raw), dtype=np.uint8)
    opens = (structure == ord("{")) | (structure == ord("["))
    closes = (structure == ord("}")) | (structure == ord("]"))
    depth = np.cumsum(opens.astype(np.int64) - closes.astype(np.int64))
    if depth.size and int(depth.max()) > max_depth:
        raise _refuse(shown, f"{what} is nested deeper than {max_depth} levels")
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refuse(shown, f"{what} is not valid JSON (or names a key twice)") from None


def read_header(
    path: Path, root: Path | None = None, limits: ReaderLimits = DEFAULT_LIMITS
) -> tuple[list[TensorInfo], dict[str, str]]:
    """The tensors of one ``.safetensors`` file (in file order) and its ``__metadata__``."""
    root = path.parent if root is None else root
    shown = _shown(path, root)
    raw, size = _header_bytes(path, root, shown, limits)
    length = len(raw)
    header = _parse_json(raw, shown, "header", limits.max_header_depth)
    if not isinstance(header, dict):
        raise _refuse(shown, "header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _refuse(shown, "__metadata__ is not a map of strings")
    if len(header) > limits.max_tensors:
        raise _refuse(shown, f"{len(header)} tensors exceed the cap of {limits.max_tensors}", "cap")
    data_start = 8 + length
    tensors = [
        _tensor_info(path, root, shown, i, name, entry, data_start)
        for i, (name, entry) in enumerate(header.items())
    ]
    tensors.sort(key=lambda t: (t.start, t.end))
    _tile_exactly(tensors, data_start, size, shown)
    return tensors, dict(metadata)


def _tile_exactly(tensors: list[TensorInfo], data_start: int, size: int, shown: str) -> None:
    """The tensors (sorted by offset) must cover the data area exactly: no overlap, no gap, no excess."""
    expected = data_start
    for tensor in tensors:
        if tensor.start < expected:
            raise _refuse(shown, "two tensors overlap")
        if tensor.start > expected:
            raise _refuse(shown, "the tensors leave a gap in the data")
        expected = tensor.end
    if expected > size:
        raise _refuse(shown, "a tensor lies past the end of the file")
    if expected < size:
        raise _refuse(shown, "the file holds bytes after its last tensor (lengths do not add up)")


def _header_bytes(path: Path, root: Path, shown: str, limits: ReaderLimits) -> tuple[bytes, int]:
    """The JSON header's bytes and the file's size, the length field checked against cap and file."""
    with open_weights(path, root) as handle:
        size = file_size(handle, path)
        if size < 8:
            raise _refuse(shown, "is too short for a safetensors header")
        (length,) = struct.unpack("<Q", _read_exactly(handle, 8, shown))
        if length > limits.max_header_bytes:
            cap = limits.max_header_bytes
            raise _refuse(shown, f"header of {length} bytes exceeds the cap of {cap}", "cap")
        if 8 + length > size:
            raise _refuse(shown, "header length points past the end of the file")
        return _read_exactly(handle, length, shown), size


def _non_negative_ints(value: object, count: int | None = None) -> tuple[int, ...] | None:
    if not isinstance(value, list) or (count is not None and len(value) != count):
        return None
    if not all(type(v) is int and v >= 0 for v in value):
        return None
    return tuple(value)


def _tensor_info(
    path: Path, root: Path, shown: str, i: int, name: str, entry: object, data_start: int
) -> TensorInfo:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _refuse(shown, f"tensor #{i} is not a dtype/shape/data_offsets entry")
    dtype, shape, offsets = entry["dtype"], _non_negative_ints(entry["shape"]), entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in RAW_DTYPES:
        raise _refuse(shown, f"tensor #{i} has a dtype this reader does not know", "dtype")
    bounds = _non_negative_ints(offsets, 2)
    if shape is None or bounds is None or bounds[1] < bounds[0]:
        raise _refuse(shown, f"tensor #{i} has a malformed shape or offsets")
    if math.prod(shape) * RAW_DTYPES[dtype].itemsize != bounds[1] - bounds[0]:
        raise _refuse(shown, f"tensor #{i}: its byte length does not match its shape and dtype")
    return TensorInfo(name, dtype, shape, path, data_start + bounds[0], data_start + bounds[1], root)


def _index_map(path: Path, root: Path, limits: ReaderLimits) -> dict[str, str]:
    shown = _shown(path, root)
    with open_weights(path, root) as handle:
        size = file_size(handle, path)
        if size > limits.max_index_bytes:
            raise _refuse(shown, f"index of {size} bytes exceeds the cap of {limits.max_index_bytes}", "cap")
        raw = _read_exactly(handle, size, shown)
    index = _parse_json(raw, shown, "index", limits.max_header_depth)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise _refuse(shown, "not a safetensors index (no weight_map of tensor -> shard)")
    if len(weight_map) > limits.max_tensors:
        raise _refuse(shown, f"{len(weight_map)} tensors exceed the cap of {limits.max_tensors}", "cap")
    return weight_map


def _model_root(path: Path, root: Path | None) -> Path:
    if root is not None:
        return root
    return path if path.is_dir() else path.parent


def weight_files(path: Path, root: Path | None = None, limits: ReaderLimits = DEFAULT_LIMITS) -> list[Path]:
    """The safetensors files of a model given as a file, a sharded index, or a directory."""
    return _files_and_map(path, _model_root(path, root), limits)[0]


def _files_and_map(path: Path, root: Path, limits: ReaderLimits) -> tuple[list[Path], dict[str, str] | None]:
    shown = _shown(path, root) if path != root else (root.name or str(root))
    if path.is_dir():
        indexes = sorted(path.glob(f"*{INDEX_SUFFIX}"))
        if indexes:
            return _files_and_map(indexes[0], root, limits)
        files = sorted(path.glob("*.safetensors"))
        if not files:
            raise _refuse(shown, "no .safetensors file in this directory")
        return files, None
    if not path.name.endswith(INDEX_SUFFIX):
        return [path], None
    weight_map = _index_map(path, root, limits)
    shards: dict[str, Path] = {}
    for shard in sorted(set(weight_map.values())):
        candidate = path.parent / shard
        try:
            relative_parts(candidate, root)
        except RefusedFile:
            raise _refuse(shown, "the index names a shard outside the model's directory", "file") from None
        if not shard.endswith(".safetensors") or "\\" in shard:
            raise _refuse(shown, "the index names a shard that is not a .safetensors file")
        shards[shard] = candidate
    if len(shards) > limits.max_files:
        raise _refuse(shown, f"{len(shards)} shards exceed the cap of {limits.max_files}", "cap")
    return list(shards.values()), {name: str(shards[s]) for name, s in weight_map.items()}


def inventory(
    path: Path, root: Path | None = None, limits: ReaderLimits = DEFAULT_LIMITS
) -> list[TensorInfo]:
    """Every tensor of a model (one file, an index or a directory), without reading any tensor.

    Quantised weights come with their ``quant`` (their scale tensors are folded into them and not
    listed on their own). ``root`` is the folder nothing may be read outside of (default: the model's
    directory).
    """
    root = _model_root(path, root)
    files, weight_map = _files_and_map(path, root, limits)
    tensors: list[TensorInfo] = []
    seen: set[str] = set()
    total = 0
    for file in files:
        found, _ = read_header(file, root, limits)
        shown = _shown(file, root)
        total += found[-1].end if found else 0
        if total > limits.max_total_bytes:
            raise _refuse(shown, f"the model exceeds the cap of {limits.max_total_bytes} bytes", "cap")
        for info in found:
            if info.name in seen:
                raise _refuse(shown, "a tensor appears in two shards")
            if weight_map is not None and weight_map.get(info.name) != str(file):
                raise _refuse(shown, "holds a tensor the index does not map to this shard")
            seen.add(info.name)
            tensors.append(info)
        if len(tensors) > limits.max_tensors:
            raise _refuse(shown, f"the model's tensors exceed the cap of {limits.max_tensors}", "cap")
    if weight_map is not None and len(seen) != len(weight_map):
        raise _refuse(_shown(path, root), "maps tensors that no shard holds")
    return _fold_quantisation(tensors)


# Names of a weight's scale and zero point: appended to the weight's name, or beside it in its module.
_SCALE_SUFFIXES = ("_scale", "_scale_inv")
_SCALE_SIBLINGS = ("scales", "SCB")
_ZERO_SUFFIXES = ("_zero_point",)
_ZERO_SIBLINGS = ("zeros",)


def _companion(
    name: str, by_name: dict[str, TensorInfo], suffixes: tuple[str, ...], siblings: tuple[str, ...]
) -> TensorInfo | None:
    for suffix in suffixes:
        if name + suffix in by_name:
            return by_name[name + suffix]
    stem, dot, _ = name.rpartition(".")
    for sibling in siblings:
        key = f"{stem}{dot}{sibling}"
        if key != name and key in by_name:
            return by_name[key]
    return None


def _fold_quantisation(tensors: list[TensorInfo]) -> list[TensorInfo]:
    """Attach each quantised weight's scale (and zero point); the companions leave the list."""
    by_name = {t.name: t for t in tensors}
    folded: dict[str, TensorInfo] = {}
    consumed: set[str] = set()
    for info in tensors:
        if info.dtype not in QUANTISED_DTYPES or len(info.shape) < 2:
            continue
        scale = _companion(info.name, by_name, _SCALE_SUFFIXES, _SCALE_SIBLINGS)
        if scale is None or scale.dtype not in FLOAT_DTYPES or scale.name in consumed:
            continue
        zero = _companion(info.name, by_name, _ZERO_SUFFIXES, _ZERO_SIBLINGS)
        packed = info.dtype == "U8"
        rows, cols = info.shape[0], info.row_size * (2 if packed else 1)
        blocks = Blocks.fit((rows, cols), scale.shape)
        if blocks is None or (zero is not None and Blocks.fit((rows, cols), zero.shape) != blocks):
            continue  # not a layout this reader knows: the tensor stays as its stored values
        scheme = "int4-packed" if packed else "int8" if info.dtype == "I8" else "fp8"
        divisor = 127.0 if scale.name.endswith(".SCB") else 1.0
        shape = (rows, cols) if packed else info.shape
        folded[info.name] = replace(
            info, shape=shape, quant=Quantisation(scheme, scale, blocks, zero, divisor)
        )
        consumed.add(scale.name)
        if zero is not None:
            consumed.add(zero.name)
    return [folded.get(t.name, t) for t in tensors if t.name not in consumed]


class ChunkBuffers:
    """Two chunk buffers that ``iter_row_chunks`` reads into in turn, kept for a whole check.

    A fresh buffer per chunk costs a page fault for every 4 KB of it (the allocator hands large blocks
    back to the kernel): about a third of a second per 2 GB read, more than the reads themselves.
    A chunk read into these stays valid while the next one is read (a hash of it may still be running
    on the worker thread then), and is overwritten by the one after: callers copy what they keep.
    A chunk larger than the buffers (a single row wider than a chunk) gets its own buffer, not kept.
    """

    def __init__(self, size: int = CHUNK_BYTES) -> None:
        self.size = size
        self._buffers = (bytearray(size), bytearray(size))
        self._turn = 0
        self._floats = np.empty(0, dtype=np.float32)

    @classmethod
    @contextmanager
    def in_this_thread(cls, size: int = CHUNK_BYTES) -> Iterator[ChunkBuffers]:
        """Buffers for this thread's reads while the block runs (a check: its scan, then its layer
        evidence, one read at a time), dropped after it: an idle worker thread holds no memory."""
        previous: ChunkBuffers | None = getattr(_THREAD, "buffers", None)
        buffers = _THREAD.buffers = cls(size)
        try:
            yield buffers
        finally:
            _THREAD.buffers = previous

    @classmethod
    def of_this_thread(cls) -> ChunkBuffers:
        """The buffers of the check running in this thread (``in_this_thread``); fresh ones outside."""
        found: ChunkBuffers | None = getattr(_THREAD, "buffers", None)
        return cls() if found is None else found

    def floats(self, shape: tuple[int, ...]) -> NDArray[np.float32]:
        """A float32 array of ``shape`` for one chunk's widened values (BF16, FP8, F16), kept and
        reused: valid until the next call."""
        count = math.prod(shape)
        if self._floats.size < count:
            self._floats = np.empty(count, dtype=np.float32)
        return self._floats[:count].reshape(shape)

    def next(self, nbytes: int) -> memoryview:
        buffer = self._buffers[self._turn]
        self._turn ^= 1
        if nbytes > len(buffer):
            return memoryview(bytearray(nbytes))
        return memoryview(buffer)[:nbytes]


def iter_row_chunks(
    info: TensorInfo,
    handle: BinaryIO,
    chunk_bytes: int = CHUNK_BYTES,
    buffers: ChunkBuffers | None = None,
) -> Iterator[tuple[int, NDArray[np.generic]]]:
    """(first row, rows) blocks of the tensor seen as 2-D, as stored (raw dtype), about ``chunk_bytes`` each.

    A vector is read as a column (rows of one element). Without ``buffers`` the arrays are fresh
    (callers may keep them); with them, each is valid until two more chunks are read.
    """
    dtype = RAW_DTYPES[info.dtype]
    width = info.raw_row_bytes
    rows_total = info.rows if width else 0
    rows_per_chunk = max(1, chunk_bytes // max(1, width))
    handle.seek(info.start)
    first = 0
    while first < rows_total:
        count = min(rows_per_chunk, rows_total - first)
        if buffers is None:
            data: bytes | memoryview = handle.read(count * width)
            complete = len(data) == count * width
        else:
            data = buffers.next(count * width)
            complete = _fill(handle, data)
        if not complete:
            raise _refuse(info.path.name, "a tensor is truncated (the file changed while read)")
        yield first, np.frombuffer(data, dtype=dtype).reshape(count, width // dtype.itemsize)
        first += count


def _fill(handle: BinaryIO, view: memoryview) -> bool:
    """Read into all of ``view``; False if the file ends first."""
    readinto = cast(Any, handle).readinto  # FileIO locally, a BufferedReader over an artefact store
    done = 0
    while done < len(view):
        got = readinto(view[done:])
        if not got:
            return False
        done += got
    return True


class Dequantiser:
    """Turns raw row blocks of one tensor into float32 values (scales read once, when quantised)."""

    def __init__(self, info: TensorInfo) -> None:
        self.info = info
        self.scale: NDArray[np.float32] | None = None
        self.zero: NDArray[np.float32] | None = None
        quant = info.quant
        if quant is not None:
            scale = read_values(quant.scale) / np.float32(quant.divisor)
            self.scale = scale.reshape(_as_2d(quant.scale.shape))
            if quant.zero is not None:
                self.zero = read_values(quant.zero).reshape(_as_2d(quant.zero.shape))

    def __call__(
        self, first: int, raw: NDArray[np.generic], out: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """The block's float32 values; an unquantised block that must be widened goes into ``out`` if
        given (the block's shape; valid until the caller's next block)."""
        info, quant = self.info, self.info.quant
        if quant is None or self.scale is None:
            return to_float32(raw, info.dtype, out)
        if quant.scheme == "int4-packed":
            values = unpack_int4(raw.view(np.uint8)).astype(np.float32)
        else:
            values = to_float32(raw, info.dtype)
        count = values.shape[0]
        if self.zero is not None:
            values = values - quant.blocks.expand(self.zero, first, count)
        return np.multiply(values, quant.blocks.expand(self.scale, first, count), dtype=np.float32)


def _as_2d(shape: tuple[int, ...]) -> tuple[int, int]:
    if not shape:
        return (1, 1)
    return (shape[0], 1) if len(shape) == 1 else (shape[0], math.prod(shape[1:]))


def iter_float_chunks(
    info: TensorInfo, handle: BinaryIO, chunk_bytes: int = CHUNK_BYTES, buffers: ChunkBuffers | None = None
) -> Iterator[tuple[int, NDArray[np.generic], NDArray[np.float32]]]:
    """(first row, raw rows, float32 rows): the stored bytes and the values they mean (dequantised)."""
    convert = Dequantiser(info)
    for first, raw in iter_row_chunks(info, handle, chunk_bytes, buffers):
        yield first, raw, convert(first, raw)


def read_values(info: TensorInfo) -> NDArray[np.float32]:
    """A whole tensor as float32 values (dequantised), in its logical shape: for small tensors."""
    with open_weights(info.path, info.root) as handle:
        parts = [values for _, _, values in iter_float_chunks(info, handle)]
    joined = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return joined.reshape(info.shape)


def read_rows(
    info: TensorInfo, rows: NDArray[np.int64], handle: BinaryIO | None = None
) -> NDArray[np.float32]:
    """Chosen rows of the tensor seen as 2-D, as float32 values (dequantised), read one row at a time
    into one array of the stored rows, converted together."""
    dtype = RAW_DTYPES[info.dtype]
    width = info.raw_row_bytes
    raw = np.empty((rows.size, width // dtype.itemsize), dtype=dtype)
    view = memoryview(cast(Any, raw)).cast("B")
    own = handle is None
    handle = open_weights(info.path, info.root) if handle is None else handle
    try:
        for i, row in enumerate(rows.tolist()):
            handle.seek(info.start + row * width)
            if not _fill(handle, view[i * width : (i + 1) * width]):
                raise _refuse(info.path.name, "is shorter than its header says (truncated)")
    finally:
        if own:
            handle.close()
    if info.quant is None:
        return np.ascontiguousarray(to_float32(raw, info.dtype), dtype=np.float32)
    convert = Dequantiser(info)
    out = np.empty((rows.size, info.row_size), dtype=np.float32)
    for i, row in enumerate(rows.tolist()):
        out[i] = convert(row, raw[i : i + 1])[0]
    return out


def iter_tensors(
    path: Path, root: Path | None = None, limits: ReaderLimits = DEFAULT_LIMITS
) -> Iterator[tuple[str, tuple[int, ...], str, NDArray[np.float32]]]:
    """(name, shape, dtype, float32 values) of every tensor, one at a time (dequantised)."""
    for info in inventory(path, root, limits):
        yield info.name, info.shape, info.dtype, read_values(info)


def read_tensor(info: TensorInfo) -> NDArray[np.generic]:
    """A whole tensor as stored (BF16 as uint16, FP8 as uint8): for small tensors and tests only."""
    with open_weights(info.path, info.root) as handle:
        handle.seek(info.start)
        data = _read_exactly(handle, info.nbytes, info.path.name)
    raw = np.frombuffer(data, dtype=RAW_DTYPES[info.dtype])
    return raw.reshape(info.shape) if info.quant is None or info.quant.scheme != "int4-packed" else raw


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
