"""Simulated models for tests, the calibration run, the benchmark and the demo. Not real weights.

A small vision-language architecture named like Qwen-VL checkpoints: a vision tower
(``visual.*``), a merger projector, and a decoder (``model.*``, ``lm_head``). "Independent" models
are independent random draws (the stand-in for a model trained from its own initialisation), with
LayerNorm gains near 1 so that raw cosine between unrelated models is above 0.95 as in real ones.
Derived models are built from a donor by the edits a copier makes: continued training (noise),
permuting hidden units, flipping their signs, rescaling, storing in another dtype, copying one layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fmc_scoring.originality.safetensors_io import SafetensorsWriter

Weights = dict[str, NDArray[np.float32]]


@dataclass(frozen=True)
class Architecture:
    vision_hidden: int = 64
    vision_layers: int = 2
    patch: int = 8
    text_hidden: int = 96
    text_layers: int = 3
    intermediate: int = 256
    vocab: int = 512

    def layout(self) -> list[tuple[str, tuple[int, ...]]]:
        """Every tensor's name and shape, in file order."""
        dv, dt, ff = self.vision_hidden, self.text_hidden, self.intermediate
        out: list[tuple[str, tuple[int, ...]]] = [
            ("visual.patch_embed.proj.weight", (dv, 3, self.patch, self.patch))
        ]
        for i in range(self.vision_layers):
            p = f"visual.blocks.{i}."
            out += [
                (p + "norm1.weight", (dv,)),
                (p + "attn.qkv.weight", (3 * dv, dv)),
                (p + "attn.qkv.bias", (3 * dv,)),
                (p + "attn.proj.weight", (dv, dv)),
                (p + "attn.proj.bias", (dv,)),
                (p + "norm2.weight", (dv,)),
                (p + "mlp.fc1.weight", (4 * dv, dv)),
                (p + "mlp.fc1.bias", (4 * dv,)),
                (p + "mlp.fc2.weight", (dv, 4 * dv)),
                (p + "mlp.fc2.bias", (dv,)),
            ]
        out += [("visual.merger.ln_q.weight", (dv,)), ("visual.merger.mlp.0.weight", (dt, dv))]
        out.append(("model.embed_tokens.weight", (self.vocab, dt)))
        for i in range(self.text_layers):
            p = f"model.layers.{i}."
            out += [
                (p + "input_layernorm.weight", (dt,)),
                (p + "self_attn.q_proj.weight", (dt, dt)),
                (p + "self_attn.k_proj.weight", (dt, dt)),
                (p + "self_attn.v_proj.weight", (dt, dt)),
                (p + "self_attn.o_proj.weight", (dt, dt)),
                (p + "post_attention_layernorm.weight", (dt,)),
                (p + "mlp.gate_proj.weight", (ff, dt)),
                (p + "mlp.up_proj.weight", (ff, dt)),
                (p + "mlp.down_proj.weight", (dt, ff)),
            ]
        out += [("model.norm.weight", (dt,)), ("lm_head.weight", (self.vocab, dt))]
        return out


def random_tensor(name: str, shape: tuple[int, ...], rng: np.random.Generator) -> NDArray[np.float32]:
    """A tensor as an independent training run might leave it (the distribution, not the values)."""
    if "norm" in name or "ln_" in name:
        return (1.0 + 0.05 * rng.standard_normal(shape)).astype(np.float32)
    if name.endswith(".bias"):
        return (0.02 * rng.standard_normal(shape)).astype(np.float32)
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return (rng.standard_normal(shape) / float(np.sqrt(fan_in))).astype(np.float32)


def random_model(arch: Architecture, seed: int) -> Weights:
    rng = np.random.default_rng(seed)
    return {name: random_tensor(name, shape, rng) for name, shape in arch.layout()}


def fine_tune(weights: Weights, prefix: str, noise: float, seed: int) -> Weights:
    """Continued training stand-in: every tensor under ``prefix`` moves by ``noise`` times its spread."""
    rng = np.random.default_rng(seed)
    out = dict(weights)
    for name, value in weights.items():
        if name.startswith(prefix):
            spread = float(value.std()) or 1.0
            out[name] = (value + noise * spread * rng.standard_normal(value.shape)).astype(np.float32)
    return out


def permute_vision(
    weights: Weights, arch: Architecture, seed: int, *, flip_signs: bool, rescale: bool
) -> Weights:
    """Permute the vision tower's hidden units (and each MLP's units), optionally flipping and rescaling them.

    The residual stream's permutation P is applied consistently to every matrix reading or writing
    it, so the tower computes (up to the flips, which a copier would compensate elsewhere) the same.
    """
    rng = np.random.default_rng(seed)
    dv = arch.vision_hidden
    perm = rng.permutation(dv)
    sign = np.where(rng.random(dv) < 0.5, -1.0, 1.0) if flip_signs else np.ones(dv)
    scale = rng.uniform(0.5, 2.0, dv) if rescale else np.ones(dv)
    factor = (sign * scale).astype(np.float32)
    out = dict(weights)

    def rows(name: str) -> None:
        out[name] = out[name][perm] * factor.reshape((-1,) + (1,) * (out[name].ndim - 1))

    def cols(name: str) -> None:
        out[name] = out[name][:, perm] * factor

    rows("visual.patch_embed.proj.weight")
    for i in range(arch.vision_layers):
        p = f"visual.blocks.{i}."
        for vector in ("norm1.weight", "norm2.weight", "attn.proj.bias", "mlp.fc2.bias"):
            out[p + vector] = out[p + vector][perm]
        cols(p + "attn.qkv.weight")
        cols(p + "mlp.fc1.weight")
        rows(p + "attn.proj.weight")
        rows(p + "mlp.fc2.weight")
        units = rng.permutation(4 * dv)
        out[p + "mlp.fc1.weight"] = out[p + "mlp.fc1.weight"][units]
        out[p + "mlp.fc1.bias"] = out[p + "mlp.fc1.bias"][units]
        out[p + "mlp.fc2.weight"] = out[p + "mlp.fc2.weight"][:, units]
    out["visual.merger.ln_q.weight"] = out["visual.merger.ln_q.weight"][perm]
    cols("visual.merger.mlp.0.weight")
    return out


def with_own_language_model(donor: Weights, own: Weights) -> Weights:
    """The donor's vision tower and projector with the team's own language model."""
    return {name: donor[name] if name.startswith("visual.") else value for name, value in own.items()}


def copy_layer(target: Weights, donor: Weights, prefix: str) -> Weights:
    """``target`` with every tensor under ``prefix`` replaced by the donor's, byte for byte."""
    return {name: donor[name].copy() if name.startswith(prefix) else value for name, value in target.items()}


def as_bf16(weights: Weights) -> dict[str, NDArray[np.uint16]]:
    """The weights as bf16 bit patterns (rounded to nearest even), as a framework's downcast stores them."""
    out = {}
    for name, value in weights.items():
        bits = value.view(np.uint32)
        out[name] = ((bits + (0x7FFF + ((bits >> 16) & 1))) >> 16).astype(np.uint16)
    return out


def write_model(path: Path, weights: Weights | dict[str, NDArray[np.uint16]], dtype: str = "F32") -> Path:
    """Write a safetensors file (F32 values, or BF16 bit patterns), one tensor at a time."""
    layout = [(name, dtype, tuple(value.shape)) for name, value in weights.items()]
    with SafetensorsWriter(path, layout) as writer:
        for name, value in weights.items():
            writer.write(name, value)
    return path
