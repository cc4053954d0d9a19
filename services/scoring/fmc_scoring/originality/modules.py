"""Grouping tensors into modules by name: towers, projector, embeddings, each layer's attention and MLP.

Names differ between model families (``visual.blocks.3.attn.qkv``, ``vision_tower.encoder.layers.3``,
``model.layers.3.self_attn.q_proj``); what matters is the *space* a tensor lives in (the vision,
audio or text hidden space, which fixes the hidden dimension to align), its layer and its role. A
canonical key (space, layer, leaf) lets a donor's tensor be found in a submission that renamed
its prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Space(StrEnum):
    VISION = "vision"
    AUDIO = "audio"
    PROJECTOR = "projector"
    TEXT = "text"


class Kind(StrEnum):
    EMBEDDINGS = "embeddings"
    ATTENTION = "attention"
    MLP = "mlp"
    EXPERTS = "experts"
    NORMS = "norms"
    LM_HEAD = "lm_head"
    OTHER = "other"


COMPONENT_NAMES = {
    Space.VISION: "vision encoder",
    Space.AUDIO: "audio encoder",
    Space.PROJECTOR: "multimodal projector",
    Space.TEXT: "language model",
}

# Checked in order: the projector of Qwen-VL lives under ``visual.merger``, so it comes first.
_SPACE_MARKERS: tuple[tuple[Space, tuple[str, ...]], ...] = (
    (Space.PROJECTOR, ("merger", "multi_modal_projector", "mm_projector", "projector", "connector")),
    (Space.VISION, ("visual", "vision_tower", "vision_model", "vision_encoder", "vision", "vit", "image")),
    (Space.AUDIO, ("audio_tower", "audio_encoder", "audio_model", "audio", "speech", "whisper")),
)
_NOISE_PREFIXES = {"model", "module", "language_model", "transformer", "encoder", "decoder", "base_model"}
_LAYER = re.compile(r"(?:^|\.)(?:layers|layer|blocks|block|h|resblocks)\.(\d+)\.")
_EXPERT = re.compile(r"\.experts\.(\d+)\.")
_EMBEDDING_MARKERS = (
    "embed_tokens",
    "wte",
    "word_embeddings",
    "tok_embeddings",
    "patch_embed",
    "patch_embedding",
    "position_embedding",
    "pos_embed",
    "wpe",
    "class_embedding",
    "embeddings",
    "embed_positions",
)
_HEAD_MARKERS = ("lm_head", "embed_out", "output_layer")
_NORM = re.compile(r"(?:^|[._])(?:\w*norm\w*|ln_?\w*|layer_?norm\w*)(?:\.|$)")
_ATTENTION_MARKERS = ("attn", "attention", "q_proj", "k_proj", "v_proj", "o_proj", "qkv", "wq", "wk", "wv")
_MLP_MARKERS = (
    "mlp",
    "ffn",
    "feed_forward",
    "fc1",
    "fc2",
    "intermediate",
    "gate_proj",
    "up_proj",
    "down_proj",
    "w1",
    "w2",
    "w3",
    "output.dense",  # BERT/ViT: the feed-forward output (``attention.output.dense`` is attention's)
    "dense_h_to_4h",
    "dense_4h_to_h",
)
# Matrices whose *output* axis is the hidden dimension (they write into the residual stream).
_OUTPUT_PROJECTIONS = (
    "o_proj",
    "out_proj",
    "down_proj",
    "fc2",
    "dense_4h_to_h",
    "wo",
    "w2",
    "c_proj",
    "attn.proj",
    "output.dense",
)
_TOKEN_EMBEDDINGS = ("embed_tokens", "wte", "word_embeddings", "tok_embeddings")
_PATCH_EMBEDDINGS = ("patch_embed", "patch_embedding")


@dataclass(frozen=True)
class ModuleRef:
    """Where a tensor belongs: ``module`` is a stable id such as ``vision.layers.3.mlp``."""

    space: Space
    kind: Kind
    layer: int | None
    module: str
    key: str

    @property
    def component(self) -> str:
        return COMPONENT_NAMES[self.space]


@lru_cache(maxsize=1 << 16)
def classify(name: str) -> ModuleRef:
    """The module of a tensor, from its name alone (a pure function of the name: kept for the last
    65,536 names, as a check asks it several times per tensor)."""
    parts = name.split(".")
    space = _space(parts)
    layer_match = _LAYER.search(name)
    layer = int(layer_match.group(1)) if layer_match else None
    leaf = name[layer_match.end() :] if layer_match else _strip_prefixes(parts, space)
    kind = _kind(name, leaf, layer)
    if layer is not None and kind is Kind.EXPERTS:
        module = f"{space}.layers.{layer}.experts"
    elif layer is not None and kind in (Kind.ATTENTION, Kind.MLP):
        module = f"{space}.layers.{layer}.{kind}"
    elif space is Space.PROJECTOR:
        module = "projector"
    else:
        module = f"{space}.{kind}"
    key = f"{space}:{'' if layer is None else f'L{layer}:'}{leaf}"
    return ModuleRef(space, kind, layer, module, key)


def _space(parts: list[str]) -> Space:
    lowered = [p.lower() for p in parts[:-1]]
    for space, markers in _SPACE_MARKERS:
        if any(p == m or p.startswith(m + "_") or p.endswith("_" + m) for p in lowered for m in markers):
            return space
    return Space.TEXT


def _strip_prefixes(parts: list[str], space: Space) -> str:
    markers = {m for s, ms in _SPACE_MARKERS if s is space for m in ms}
    rest = list(parts)
    while len(rest) > 1 and (rest[0] in _NOISE_PREFIXES or rest[0] in markers):
        rest.pop(0)
    return ".".join(rest)


def _kind(name: str, leaf: str, layer: int | None) -> Kind:
    lowered = name.lower()
    if _EXPERT.search(lowered) or ".experts." in lowered or lowered.endswith(".router.weight"):
        return Kind.EXPERTS if layer is not None else Kind.OTHER
    if _NORM.search(leaf.lower()):
        return Kind.NORMS
    if layer is None:
        if any(m in lowered for m in _HEAD_MARKERS):
            return Kind.LM_HEAD
        if any(m in lowered for m in _EMBEDDING_MARKERS):
            return Kind.EMBEDDINGS
        return Kind.OTHER
    if any(m in leaf.lower() for m in _ATTENTION_MARKERS):
        return Kind.ATTENTION
    if any(m in leaf.lower() for m in _MLP_MARKERS):
        return Kind.MLP
    return Kind.OTHER


def is_token_embedding(name: str) -> bool:
    return any(m in name for m in _TOKEN_EMBEDDINGS) and classify(name).space is Space.TEXT


def is_patch_embedding(name: str) -> bool:
    return any(m in name for m in _PATCH_EMBEDDINGS) and name.endswith("weight")


def writes_hidden(name: str) -> bool:
    """Whether a square matrix writes into the residual stream (its rows are the hidden axis)."""
    return any(m in name for m in _OUTPUT_PROJECTIONS)
