"""Layers found from structure, whatever the names; the donor's layer sketches survive storage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fmc_scoring.originality import synthetic
from fmc_scoring.originality.fingerprint import ModelFingerprint, load_library, save_library
from fmc_scoring.originality.invariants import (
    best_matches,
    candidates_for,
    find_layers,
    operators,
    structural_modules,
    transposed_layout,
    view,
)
from fmc_scoring.originality.safetensors_io import SafetensorsError, inventory
from fmc_scoring.originality.synthetic import Architecture, Weights


def anonymous(weights: Weights, *, transpose: bool) -> Weights:
    """Every tensor renamed ``val_<i>`` in file order, matrices optionally stored (in, out) as ONNX does."""
    out = {}
    for i, (name, value) in enumerate(weights.items()):
        keep = value.ndim == 2 and transpose and not name.startswith(("model.embed", "lm_head"))
        out[f"val_{i}"] = np.ascontiguousarray(value.T) if keep else value
    return out


def test_named_layers_are_found_with_their_attention_and_mlp_halves(
    donor_dir: Path, arch: Architecture
) -> None:
    layers = find_layers(inventory(donor_dir / "model.safetensors"))
    assert len(layers) == arch.vision_layers + arch.text_layers
    text = [layer for layer in layers if layer.hidden == arch.text_hidden]
    assert [layer.number for layer in text] == list(range(arch.text_layers))
    assert all(set(layer.halves) == {"attention", "mlp"} for layer in layers)
    assert len(text[0].halves["attention"].tensors) == 4  # q, k, v, o
    assert len(text[0].halves["mlp"].tensors) == 3  # gate, up, down


def test_unnamed_matrices_are_split_into_layers_by_file_order_even_stored_in_out(
    tmp_path: Path, donor_weights: Weights, arch: Architecture
) -> None:
    text_only = {n: v for n, v in donor_weights.items() if not n.startswith("visual.")}
    path = synthetic.write_model(tmp_path / "anon.safetensors", anonymous(text_only, transpose=True))
    tensors = inventory(path)
    layers = find_layers(tensors)
    assert len(layers) == arch.text_layers
    by_name = {t.name: t for t in tensors}
    assert all(transposed_layout(layer, by_name) for layer in layers)
    modules = structural_modules(tensors)
    assert set(modules.values()) == {
        f"text.layers.{i}.{half}" for i in range(arch.text_layers) for half in ("attention", "mlp")
    }


def test_an_anonymous_transposed_copy_matches_the_donor_layer_by_layer(
    tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, arch: Architecture
) -> None:
    text_only = {n: v for n, v in donor_weights.items() if not n.startswith("visual.")}
    path = synthetic.write_model(tmp_path / "anon.safetensors", anonymous(text_only, transpose=True))
    matches = list(best_matches(inventory(path), donor.layers))
    assert len(matches) == arch.text_layers
    assert [m.donor for m in matches] == [f"model.layers.{i}" for i in range(arch.text_layers)]
    assert all(m.agreement > 0.9 for m in matches)


def test_a_layer_with_one_donor_layer_to_compare_skips_its_spectra_and_several_are_ranked_by_them(
    tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights
) -> None:
    path = synthetic.write_model(tmp_path / "copy.safetensors", donor_weights)
    tensors = inventory(path)
    layer = next(found for found in find_layers(tensors) if found.label.startswith("model.layers."))
    operators(layer, {t.name: t for t in tensors})
    views = {name: v for name, half in layer.halves.items() if (v := view(half, layer.hidden)) is not None}
    same_width = [s for s in donor.layers if s.hidden == layer.hidden]
    other = next(s for s in same_width if s.label != layer.label)
    assert candidates_for(layer, views, [other]) == [other]
    assert all("profile" not in v.__dict__ for v in views.values())  # nothing to rank: no spectra
    ranked = candidates_for(layer, views, same_width)
    assert all("profile" in v.__dict__ for v in views.values())
    assert [s.label for s in ranked] == [layer.label]  # its own copy has the nearest profile


def test_constant_or_nan_layers_give_no_layer_evidence(
    tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights
) -> None:
    blank = {n: np.ones_like(v) if n.startswith("model.layers.0.") else v for n, v in donor_weights.items()}
    blank = {n: np.full_like(v, np.nan) if n.startswith("model.layers.1.") else v for n, v in blank.items()}
    path = synthetic.write_model(tmp_path / "blank.safetensors", blank)
    matched = {m.candidate for m in best_matches(inventory(path), donor.layers)}
    assert "model.layers.0" not in matched
    assert "model.layers.1" not in matched


def test_the_layer_sketches_survive_a_library_file(tmp_path: Path, donor: ModelFingerprint) -> None:
    assert donor.layers
    save_library(tmp_path / "library.npz", [donor])
    (loaded,) = load_library(tmp_path / "library.npz")
    assert [s.label for s in loaded.layers] == [s.label for s in donor.layers]
    for before, after in zip(donor.layers, loaded.layers, strict=True):
        assert np.array_equal(before.units, after.units)
        for half in before.halves:
            np.testing.assert_allclose(after.halves[half].blocks, before.halves[half].blocks, rtol=1e-3)


def test_a_file_cut_short_after_its_inventory_is_refused_not_mapped(
    tmp_path: Path, donor_weights: Weights
) -> None:
    """The layer evidence reads columns (an MLP's down projection) in a streamed pass: a file cut
    short under it is refused as truncated (``unreadable``), where a mapping would fail or, cut while
    mapped, kill the process."""
    text_only = {n: v for n, v in donor_weights.items() if not n.startswith("visual.")}
    path = synthetic.write_model(tmp_path / "model.safetensors", text_only)
    tensors = inventory(path)
    layer = find_layers(tensors)[-1]
    by_name = {t.name: t for t in tensors}
    assert operators(layer, by_name).halves["mlp"].operators  # the whole file: read
    down = by_name[next(n for n in layer.halves["mlp"].tensors if "down_proj" in n)]
    with path.open("r+b") as handle:
        handle.truncate(down.start + down.nbytes // 2)
    with pytest.raises(SafetensorsError, match="truncated"):
        operators(layer, by_name)
