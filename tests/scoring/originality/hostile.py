"""Hostile safetensors files, each written into a folder as ``model.safetensors``.

Every case is what a team could deliver to walk through (or break) the originality check; the
expected verdict is what the check must say of it. ``SECRET`` marks content that must never be echoed.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fmc_scoring.originality import synthetic
from fmc_scoring.originality.synthetic import Weights

SECRET = "SECRET-7f3a"
MODEL = "model.safetensors"


def raw_file(
    path: Path, header: dict[str, Any] | bytes, data: bytes = b"", length: int | None = None
) -> None:
    """A file as given: the 8-byte length (the header's own unless ``length`` lies), header, data."""
    encoded = header if isinstance(header, bytes) else json.dumps(header).encode()
    size = len(encoded) if length is None else length
    path.write_bytes(struct.pack("<Q", size) + encoded + data)


def f32(name: str, start: int, count: int) -> dict[str, Any]:
    return {name: {"dtype": "F32", "shape": [count], "data_offsets": [start, start + 4 * count]}}


def unknown_dtype(directory: Path, own: Weights) -> None:
    header = {"w": {"dtype": "Q3_K", "shape": [4], "data_offsets": [0, 16]}}
    raw_file(directory / MODEL, header, b"\0" * 16)


def nested_header(directory: Path, own: Weights) -> None:
    depth = 200_000
    shape = "[" * depth + "1" + "]" * depth
    header = f'{{"w":{{"dtype":"F32","shape":{shape},"data_offsets":[0,4]}}}}'.encode()
    raw_file(directory / MODEL, header, b"\0" * 4)


def no_tensors(directory: Path, own: Weights) -> None:
    raw_file(directory / MODEL, {"__metadata__": {"format": "pt"}})


def lying_header_length(directory: Path, own: Weights) -> None:
    """The length field claims far more header than the file has: what follows is read as nothing."""
    raw_file(directory / MODEL, b"{}", length=4096)


def lying_tensor_lengths(directory: Path, own: Weights) -> None:
    """The team's own model, then bytes no tensor accounts for (the lengths do not add up to the file)."""
    synthetic.write_model(directory / MODEL, own)
    with (directory / MODEL).open("ab") as handle:
        handle.write(b"\x7f" * 4096)


def all_nan(directory: Path, own: Weights) -> None:
    synthetic.write_model(directory / MODEL, {n: np.full_like(v, np.nan) for n, v in own.items()})


def overlapping_offsets(directory: Path, own: Weights) -> None:
    """Two tensors over the same bytes: what one is compared as, the other hides."""
    header = f32("a", 0, 64) | {"b": {"dtype": "F32", "shape": [64], "data_offsets": [0, 256]}}
    values = np.random.default_rng(0).standard_normal(64).astype(np.float32)
    raw_file(directory / MODEL, header, values.tobytes())


def million_tensors(directory: Path, own: Weights) -> None:
    count = 1_000_000
    entries = ",".join(
        f'"t{i}":{{"dtype":"F32","shape":[1],"data_offsets":[{4 * i},{4 * i + 4}]}}' for i in range(count)
    )
    raw_file(directory / MODEL, ("{" + entries + "}").encode(), b"\0" * (4 * count))


def secret_outside(directory: Path) -> Path:
    """A file outside the submission whose content must never appear in an answer (a malformed entry)."""
    target = directory.parent / f"{directory.name}-outside.safetensors"
    raw_file(target, {SECRET: {"dtype": "F32", "shape": [SECRET], "data_offsets": [0, 4]}}, b"\0" * 4)
    return target


def symlink_out(directory: Path, own: Weights) -> None:
    (directory / MODEL).symlink_to(secret_outside(directory))


def fifo(directory: Path, own: Weights) -> None:
    os.mkfifo(directory / MODEL)


@dataclass(frozen=True)
class Case:
    write: Callable[[Path, Weights], None]
    verdict: str
    rule: str  # the words the refusal must contain (the rule broken), "" for not-comparable
    api_hashable: bool = True  # a manifest can declare it (a FIFO or a link is refused before)


CASES: dict[str, Case] = {
    "unknown-dtype": Case(unknown_dtype, "unreadable", "dtype"),
    "nested-header": Case(nested_header, "unreadable", "nested deeper"),
    "no-tensors": Case(no_tensors, "not-comparable", "no tensors"),
    "lying-header-length": Case(lying_header_length, "unreadable", "past the end"),
    "lying-tensor-lengths": Case(lying_tensor_lengths, "unreadable", "do not add up"),
    "all-nan": Case(all_nan, "not-comparable", "NaN"),
    "overlapping-offsets": Case(overlapping_offsets, "unreadable", "overlap"),
    "million-tensors": Case(million_tensors, "unreadable", "exceeds the cap"),
    "fifo": Case(fifo, "unreadable", "FIFO", api_hashable=False),
    "symlink-out-of-the-root": Case(symlink_out, "unreadable", "symbolic link", api_hashable=False),
}
