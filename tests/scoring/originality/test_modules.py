"""Grouping tensor names of common model families into modules."""

from __future__ import annotations

import pytest

from fmc_scoring.originality.modules import Kind, Space, classify


@pytest.mark.parametrize(
    ("name", "module", "kind"),
    [
        # Qwen2.5-VL
        ("visual.patch_embed.proj.weight", "vision.embeddings", Kind.EMBEDDINGS),
        ("visual.blocks.7.attn.qkv.weight", "vision.layers.7.attention", Kind.ATTENTION),
        ("visual.blocks.7.mlp.gate_proj.weight", "vision.layers.7.mlp", Kind.MLP),
        ("visual.blocks.7.norm1.weight", "vision.norms", Kind.NORMS),
        ("visual.merger.mlp.0.weight", "projector", Kind.OTHER),
        ("model.embed_tokens.weight", "text.embeddings", Kind.EMBEDDINGS),
        ("model.layers.12.self_attn.o_proj.weight", "text.layers.12.attention", Kind.ATTENTION),
        ("model.layers.12.mlp.down_proj.weight", "text.layers.12.mlp", Kind.MLP),
        ("model.layers.12.post_attention_layernorm.weight", "text.norms", Kind.NORMS),
        ("model.norm.weight", "text.norms", Kind.NORMS),
        ("lm_head.weight", "text.lm_head", Kind.LM_HEAD),
        # LLaVA / CLIP / SigLIP towers
        (
            "vision_tower.vision_model.encoder.layers.3.self_attn.k_proj.weight",
            "vision.layers.3.attention",
            Kind.ATTENTION,
        ),
        ("vision_tower.vision_model.embeddings.patch_embedding.weight", "vision.embeddings", Kind.EMBEDDINGS),
        ("multi_modal_projector.linear_1.weight", "projector", Kind.OTHER),
        # Mixture of experts
        ("model.layers.2.mlp.experts.5.up_proj.weight", "text.layers.2.experts", Kind.EXPERTS),
        # Audio tower
        ("audio_tower.layers.0.fc1.weight", "audio.layers.0.mlp", Kind.MLP),
        # BERT (MiniLM)
        ("encoder.layer.4.attention.self.query.weight", "text.layers.4.attention", Kind.ATTENTION),
        ("encoder.layer.4.intermediate.dense.weight", "text.layers.4.mlp", Kind.MLP),
        ("embeddings.word_embeddings.weight", "text.embeddings", Kind.EMBEDDINGS),
    ],
)
def test_tensor_names_are_grouped_into_modules(name: str, module: str, kind: Kind) -> None:
    ref = classify(name)
    assert (ref.module, ref.kind) == (module, kind)


def test_renamed_prefixes_keep_the_same_key() -> None:
    assert (
        classify("visual.blocks.3.attn.qkv.weight").key
        == classify("model.visual.blocks.3.attn.qkv.weight").key
    )
    assert (
        classify("model.layers.1.mlp.up_proj.weight").key
        == classify("language_model.model.layers.1.mlp.up_proj.weight").key
    )


def test_components_are_named_for_the_report() -> None:
    assert classify("visual.blocks.0.attn.qkv.weight").component == "vision encoder"
    assert classify("model.layers.0.mlp.up_proj.weight").space is Space.TEXT
