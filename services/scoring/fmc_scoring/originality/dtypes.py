"""Safetensors dtypes as float32, without a deep-learning framework, and quantised weights dequantised.

Floating point: F64, F32, F16 by numpy; BF16 widened bit by bit (exact); F8_E4M3 (the "FN" variant:
no infinity, NaN at ``S.1111.111``) and F8_E5M2 (IEEE-like, with infinities) through a 256-entry
table (exact). Integers (I8 … I64, U8 … U64, BOOL) convert to their values as float32.

Quantised weights (see ``Quantisation``): a weight stored as integers or fp8 with a companion scale
tensor is dequantised before any comparison, ``w = (q - zero) * scale``, the scale broadcast over
blocks of the weight (per tensor, per output channel, per group of input columns, or 2-D blocks):
the block size is what divides the weight's shape into the scale's shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]


def _fp8_table(exponent_bits: int, mantissa_bits: int, bias: int, *, ieee: bool) -> F32:
    codes = np.arange(256, dtype=np.int64)
    sign = np.where(codes & 0x80, -1.0, 1.0)
    exponent = (codes >> mantissa_bits) & ((1 << exponent_bits) - 1)
    mantissa = codes & ((1 << mantissa_bits) - 1)
    fraction = mantissa / float(1 << mantissa_bits)
    normal = (1.0 + fraction) * np.exp2(exponent - bias)
    subnormal = fraction * np.exp2(1 - bias)
    values = sign * np.where(exponent == 0, subnormal, normal)
    top = exponent == (1 << exponent_bits) - 1
    if ieee:
        values[top & (mantissa == 0)] = sign[top & (mantissa == 0)] * np.inf
        values[top & (mantissa != 0)] = np.nan
    else:  # E4M3FN: only the all-ones pattern is NaN; there is no infinity
        values[top & (mantissa == (1 << mantissa_bits) - 1)] = np.nan
    table: F32 = values.astype(np.float32)
    return table


FP8_E4M3 = _fp8_table(4, 3, 7, ieee=False)
FP8_E5M2 = _fp8_table(5, 2, 15, ieee=True)

# How each safetensors dtype is stored: numpy dtype of the raw elements (BF16 and FP8 as their bits).
RAW_DTYPES: Mapping[str, np.dtype[np.generic]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "F8_E4M3": np.dtype("u1"),
    "F8_E5M2": np.dtype("u1"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
FLOAT_DTYPES = frozenset({"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"})
# Dtypes a weight may be quantised to (with a scale companion); U8 with a scale is packed int4.
QUANTISED_DTYPES = frozenset({"I8", "U8", "F8_E4M3", "F8_E5M2"})


def to_float32(raw: NDArray[np.generic], dtype: str, out: F32 | None = None) -> F32:
    """Exact float32 values of a tensor given in its raw dtype (BF16/FP8 from their bits).

    ``out`` (float32, the raw block's shape): where to write the values of a dtype that must be
    widened (BF16, FP8, F16, F64), instead of a fresh array; F32 is returned as it is (no copy).
    """
    if dtype == "F32":
        return raw.astype(np.float32, copy=False)
    if dtype == "BF16":  # one pass: the shift widens each element as it goes
        bits = None if out is None else out.view(np.uint32)
        widened = np.left_shift(raw.view(np.uint16), np.uint32(16), out=bits, dtype=np.uint32)
        return cast(F32, widened.view(np.float32))
    if dtype in ("F8_E4M3", "F8_E5M2"):
        table = FP8_E4M3 if dtype == "F8_E4M3" else FP8_E5M2
        return table[raw.view(np.uint8)] if out is None else np.take(table, raw.view(np.uint8), out=out)
    if out is None:
        return raw.astype(np.float32)
    np.copyto(out, raw, casting="unsafe")
    return out


def bf16_bits(values: F32, *, round_nearest: bool) -> NDArray[np.uint16]:
    """The bfloat16 bit patterns of float32 values, truncated or rounded to nearest even.

    Truncation is exact for values that came from bf16 (an upcast copy); rounding is what
    frameworks do when they downcast, so a donor is hashed both ways (see ``fingerprint``).
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    if round_nearest:
        bits = bits + (np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    return (bits >> np.uint32(16)).astype(np.uint16)


def unpack_int4(packed: NDArray[np.uint8]) -> NDArray[np.int8]:
    """Two signed 4-bit values per byte, low nibble first (element 2k), stored plus 8 (0..15 is -8..7)."""
    low = (packed & np.uint8(0x0F)).astype(np.int8) - np.int8(8)
    high = (packed >> np.uint8(4)).astype(np.int8) - np.int8(8)
    out = np.empty((*packed.shape[:-1], packed.shape[-1] * 2), dtype=np.int8)
    out[..., 0::2] = low
    out[..., 1::2] = high
    return out


@dataclass(frozen=True)
class Blocks:
    """How a scale of shape (R, C) covers a weight (rows, cols): blocks of ``row_block`` x ``col_block``."""

    rows: int
    cols: int
    row_block: int
    col_block: int

    @classmethod
    def fit(cls, weight: tuple[int, int], scale: tuple[int, ...]) -> Blocks | None:
        """The blocking, if the scale's shape divides the weight's (per tensor/channel/group/2-D block)."""
        if len(scale) > 2 or math.prod(scale) == 0:
            return None
        r, c = (1, 1) if not scale else (scale[0], 1) if len(scale) == 1 else (scale[0], scale[1])
        rows, cols = weight
        if r > rows or c > cols or rows == 0 or cols == 0:
            return None
        row_block, col_block = -(-rows // r), -(-cols // c)
        if -(-rows // row_block) != r or -(-cols // col_block) != c:
            return None
        return cls(rows, cols, row_block, col_block)

    def expand(self, scale: F32, first: int, count: int) -> F32:
        """The scale of every element of rows ``first`` … ``first + count`` (count x cols)."""
        rows: F32 = scale[np.arange(first, first + count) // self.row_block]
        if self.col_block == 1:
            return rows
        expanded: F32 = np.repeat(rows, self.col_block, axis=1)[:, : self.cols]
        return expanded
