"""The reader beyond float32: bf16/fp16/fp8 read natively, int8/int4/fp8 weights dequantised with their
scales, sharded checkpoints through a consistent index, tensors streamed one at a time."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.dtypes import FP8_E4M3, FP8_E5M2, Blocks, bf16_bits
from fmc_scoring.originality.fingerprint import DEFAULT_SKETCH, ModelFingerprint
from fmc_scoring.originality.safetensors_io import (
    ChunkBuffers,
    SafetensorsError,
    SafetensorsWriter,
    inventory,
    iter_tensors,
    open_weights,
    read_values,
)
from fmc_scoring.originality.scan import AnchorRequest, ExactGate, sample_positions, scan_tensor
from fmc_scoring.originality.synthetic import Weights


def write(path: Path, tensors: dict[str, tuple[str, NDArray[np.generic]]]) -> Path:
    with SafetensorsWriter(path, [(n, dt, v.shape) for n, (dt, v) in tensors.items()]) as writer:
        for name, (_, value) in tensors.items():
            writer.write(name, value)
    return path


def to_fp8_e4m3(values: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Nearest E4M3 code of each value (the table's finite entries), as a quantiser would store it."""
    finite = np.flatnonzero(np.isfinite(FP8_E4M3))
    nearest = np.abs(values.reshape(-1, 1) - FP8_E4M3[finite][None, :]).argmin(axis=1)
    codes: NDArray[np.uint8] = finite[nearest].astype(np.uint8).reshape(values.shape)
    return codes


def int8_per_channel(value: NDArray[np.float32]) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    scale = (np.abs(value).max(axis=1, keepdims=True) / 127).astype(np.float32)
    return np.clip(np.round(value / scale), -127, 127).astype(np.int8), scale


class TestLowPrecision:
    def test_fp8_codes_decode_to_their_values(self) -> None:
        e4m3 = {0x00: 0.0, 0x38: 1.0, 0xB8: -1.0, 0x7E: 448.0, 0x01: 2.0**-9, 0x08: 2.0**-6, 0x3C: 1.5}
        for code, value in e4m3.items():
            assert FP8_E4M3[code] == value, hex(code)
        assert np.isnan(FP8_E4M3[[0x7F, 0xFF]]).all()
        assert np.isfinite(np.delete(FP8_E4M3, [0x7F, 0xFF])).all()  # E4M3FN has no infinity
        e5m2 = {0x3C: 1.0, 0x7B: 57344.0, 0x01: 2.0**-16, 0x04: 2.0**-14, 0xBE: -1.5}
        for code, value in e5m2.items():
            assert FP8_E5M2[code] == value, hex(code)
        assert FP8_E5M2[0x7C] == np.inf
        assert FP8_E5M2[0xFC] == -np.inf
        assert np.isnan(FP8_E5M2[[0x7D, 0x7E, 0x7F]]).all()

    @pytest.mark.parametrize("dtype", ["F16", "BF16", "F8_E4M3", "F8_E5M2"])
    def test_each_float_dtype_is_read_as_its_exact_values(self, tmp_path: Path, dtype: str) -> None:
        table = {"F8_E4M3": FP8_E4M3, "F8_E5M2": FP8_E5M2}
        if dtype in table:
            codes = np.arange(256, dtype=np.uint8).reshape(16, 16)
            stored: NDArray[np.generic] = codes
            expected = table[dtype][codes]
        else:
            values = np.random.default_rng(0).standard_normal((16, 16)).astype(np.float32)
            stored = values.astype(np.float16) if dtype == "F16" else bf16_bits(values, round_nearest=True)
            expected = (
                stored.astype(np.float32)
                if dtype == "F16"
                else (stored.astype(np.uint32) << 16).view(np.float32)
            )
        write(tmp_path / "m.safetensors", {"w": (dtype, stored)})
        [(name, shape, found_dtype, values_read)] = list(iter_tensors(tmp_path / "m.safetensors"))
        assert (name, shape, found_dtype) == ("w", (16, 16), dtype)
        assert np.array_equal(values_read, expected, equal_nan=True)

    @pytest.mark.parametrize("dtype", ["F16", "BF16", "F8_E4M3", "F8_E5M2", "F64"])
    def test_a_scan_widening_only_its_samples_sees_the_same_values_as_one_widening_every_chunk(
        self, tmp_path: Path, dtype: str
    ) -> None:
        """Without requests a check widens only the sampled elements of a narrow tensor; with one, every
        chunk, into reused buffers. Both samples equal the tensor's values."""
        value = np.random.default_rng(5).standard_normal((300, 200)).astype(np.float32)
        stored: NDArray[np.generic]
        if dtype == "F16":
            stored = value.astype(np.float16)
        elif dtype == "BF16":
            stored = bf16_bits(value, round_nearest=True)
        elif dtype == "F8_E4M3":
            stored = to_fp8_e4m3(value)
        elif dtype == "F8_E5M2":
            stored = np.random.default_rng(6).integers(0, 256, value.shape, dtype=np.uint8)
        else:
            stored = value.astype(np.float64)
        write(tmp_path / "m.safetensors", {"w": (dtype, stored)})
        [info] = inventory(tmp_path / "m.safetensors")
        expected = read_values(info).reshape(-1)
        gate = ExactGate([], 4096)
        gate.bits[info.numel] = np.zeros((1, 4096), np.uint16)  # asks for the transposed sample too
        samples = []
        for requests in ([], [AnchorRequest(0, np.arange(8, dtype=np.int64), None)]):
            with ThreadPoolExecutor(max_workers=1) as executor, open_weights(info.path) as handle:
                scanned = scan_tensor(
                    info,
                    handle,
                    executor,
                    sample_size=4096,
                    requests=list(requests),
                    chunk_bytes=20_000,
                    gate=gate,
                    buffers=ChunkBuffers(20_000),
                )
            samples.append(scanned.sample)
        positions = sample_positions(info.numel, 4096)
        for sample in samples:
            assert np.array_equal(sample, expected[positions], equal_nan=True)


class TestQuantised:
    def test_int8_with_a_per_channel_weight_scale_is_dequantised_and_the_scale_folded_in(
        self, tmp_path: Path
    ) -> None:
        value = np.random.default_rng(1).standard_normal((32, 16)).astype(np.float32)
        q, scale = int8_per_channel(value)
        path = write(
            tmp_path / "m.safetensors",
            {"l.weight": ("I8", q), "l.weight_scale": ("F32", scale), "l.bias": ("F32", value[0])},
        )
        found = {t.name: t for t in inventory(path)}
        assert set(found) == {"l.weight", "l.bias"}
        weight = found["l.weight"]
        assert weight.is_float
        assert weight.quant is not None
        assert weight.quant.scheme == "int8"
        assert np.array_equal(read_values(weight), q.astype(np.float32) * scale)
        assert np.abs(read_values(weight) - value).max() <= scale.max() / 2 + 1e-6

    def test_fp8_with_block_scales_is_dequantised_block_by_block(self, tmp_path: Path) -> None:
        """DeepSeek-V3's layout: F8_E4M3 weights, ``weight_scale_inv`` per 128 x 128 block (here 4 x 4)."""
        rng = np.random.default_rng(2)
        scale = rng.uniform(0.5, 2.0, (3, 2)).astype(np.float32)  # a 10 x 7 weight in 4 x 4 blocks
        codes = rng.integers(0, 0x7E, (10, 7)).astype(np.uint8)
        path = write(
            tmp_path / "m.safetensors",
            {"l.weight": ("F8_E4M3", codes), "l.weight_scale_inv": ("F32", scale)},
        )
        [weight] = inventory(path)
        assert weight.quant is not None
        assert (
            weight.quant.blocks.row_block,
            weight.quant.blocks.col_block,
        ) == (4, 4)
        expanded = np.repeat(np.repeat(scale, 4, axis=0), 4, axis=1)[:10, :7]
        assert np.array_equal(read_values(weight), FP8_E4M3[codes] * expanded)

    def test_packed_int4_with_group_scales_and_zero_points(self, tmp_path: Path) -> None:
        rng = np.random.default_rng(3)
        q = rng.integers(-8, 8, (6, 16)).astype(np.int8)  # 6 x 16 weight, groups of 8 columns
        packed = ((q[:, 0::2] + 8) | ((q[:, 1::2] + 8) << 4)).astype(np.uint8)
        scales = rng.uniform(0.1, 1.0, (6, 2)).astype(np.float16)
        zeros = rng.integers(-2, 3, (6, 2)).astype(np.float16)
        path = write(
            tmp_path / "m.safetensors",
            {"l.weight": ("U8", packed), "l.scales": ("F16", scales), "l.zeros": ("F16", zeros)},
        )
        [weight] = inventory(path)
        assert weight.shape == (6, 16)
        assert weight.quant is not None
        assert weight.quant.scheme == "int4-packed"
        expected = (q - np.repeat(zeros, 8, axis=1)).astype(np.float32) * np.repeat(scales, 8, axis=1)
        assert np.allclose(read_values(weight), expected, atol=0)

    def test_bitsandbytes_int8_is_scaled_by_scb_over_127(self, tmp_path: Path) -> None:
        value = np.random.default_rng(4).standard_normal((8, 4)).astype(np.float32)
        q, scale = int8_per_channel(value)
        path = write(
            tmp_path / "m.safetensors", {"l.weight": ("I8", q), "l.SCB": ("F32", (scale * 127).ravel())}
        )
        [weight] = inventory(path)
        assert np.allclose(read_values(weight), q * scale, rtol=1e-6)

    def test_a_scale_that_fits_no_blocking_leaves_the_integers_as_they_are(self, tmp_path: Path) -> None:
        q = np.ones((6, 4), np.int8)
        path = write(
            tmp_path / "m.safetensors",
            {"l.weight": ("I8", q), "l.weight_scale": ("F32", np.ones(5, np.float32))},
        )
        assert {t.name: t.quant for t in inventory(path)} == {"l.weight": None, "l.weight_scale": None}
        assert Blocks.fit((6, 4), (5,)) is None
        assert Blocks.fit((6, 4), (2, 2)) == Blocks(6, 4, 3, 2)

    def test_an_int8_copy_of_the_donors_vision_tower_is_reused(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
    ) -> None:
        """The issue's case: integer tensors were never compared, so an int8 copy with its own float
        tensors was ``original``."""
        copy = synthetic.with_own_language_model(donor_weights, own_weights)
        tensors: dict[str, tuple[str, NDArray[np.generic]]] = {}
        for name, value in copy.items():
            if name.startswith("visual.") and value.ndim == 2:
                q, scale = int8_per_channel(value)
                tensors[name] = ("I8", q)
                tensors[f"{name}_scale"] = ("F32", scale)
            else:
                tensors[name] = ("F32", value)
        report = check_model(write(tmp_path / "m.safetensors", tensors), [donor])
        assert report.verdict is Verdict.REUSED, report.summary
        assert any(m.startswith("vision.") for m in report.reused_modules)
        assert not any(m.startswith("text.") for m in report.reused_modules)


def shards(directory: Path, weights: Weights, count: int = 2) -> dict[str, str]:
    names = sorted(weights)
    weight_map: dict[str, str] = {}
    for i in range(count):
        shard = f"model-{i + 1:05d}-of-{count:05d}.safetensors"
        part = {n: weights[n] for n in names[i::count]}
        synthetic.write_model(directory / shard, part)
        weight_map |= dict.fromkeys(part, shard)
    return weight_map


def index(directory: Path, weight_map: dict[str, str]) -> Path:
    path = directory / "model.safetensors.index.json"
    path.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return path


class TestShardedIndex:
    def test_a_consistent_index_is_read_and_streamed_one_tensor_at_a_time(
        self, tmp_path: Path, own_weights: Weights
    ) -> None:
        path = index(tmp_path, shards(tmp_path, own_weights, 3))
        streamed = iter_tensors(path)
        name, shape, dtype, values = next(streamed)
        assert np.array_equal(values, own_weights[name])
        assert shape == own_weights[name].shape
        assert dtype == "F32"
        assert {n for n, *_ in streamed} | {name} == set(own_weights)

    def test_a_tensor_mapped_to_the_wrong_shard_is_refused(
        self, tmp_path: Path, own_weights: Weights
    ) -> None:
        weight_map = shards(tmp_path, own_weights)
        name = next(iter(weight_map))
        weight_map[name] = next(s for s in set(weight_map.values()) if s != weight_map[name])
        with pytest.raises(SafetensorsError, match="does not map to this shard"):
            inventory(index(tmp_path, weight_map))

    def test_an_index_naming_a_tensor_no_shard_holds_is_refused(
        self, tmp_path: Path, own_weights: Weights
    ) -> None:
        weight_map = shards(tmp_path, own_weights)
        weight_map["ghost.weight"] = next(iter(weight_map.values()))
        with pytest.raises(SafetensorsError, match="no shard holds"):
            inventory(index(tmp_path, weight_map))

    @pytest.mark.parametrize(
        "shard", ["../outside.safetensors", "/etc/passwd.safetensors", "sub/../../x.safetensors"]
    )
    def test_a_shard_outside_the_root_is_refused(
        self, tmp_path: Path, own_weights: Weights, shard: str
    ) -> None:
        weight_map = shards(tmp_path, own_weights)
        weight_map[next(iter(weight_map))] = shard
        with pytest.raises(SafetensorsError, match="outside"):
            inventory(index(tmp_path, weight_map))

    def test_a_shard_that_is_a_link_is_refused(self, tmp_path: Path, own_weights: Weights) -> None:
        weight_map = shards(tmp_path, own_weights)
        shard = tmp_path / next(iter(weight_map.values()))
        shard.rename(tmp_path / "real.bin")
        shard.symlink_to(tmp_path / "real.bin")
        with pytest.raises(SafetensorsError, match="symbolic link"):
            inventory(index(tmp_path, weight_map))


class TestExactGate:
    """A check hashes only tensors whose fixed sample matches a donor tensor's; no exact copy is missed."""

    def scan(self, path: Path, donor: ModelFingerprint) -> dict[str, str | None]:
        gate = ExactGate(donor.tensors, DEFAULT_SKETCH.sample_size)
        found: dict[str, str | None] = {}
        with ThreadPoolExecutor(max_workers=1) as executor:
            for info in inventory(path):
                with open_weights(info.path) as handle:
                    scanned = scan_tensor(
                        info, handle, executor, sample_size=DEFAULT_SKETCH.sample_size, requests=[], gate=gate
                    )
                found[info.name] = scanned.canonical if scanned.sha256 is not None else None
        return found

    def test_copies_raw_bf16_and_transposed_are_hashed_and_match_others_are_not_hashed(
        self, tmp_path: Path, donor: ModelFingerprint, donor_weights: Weights, own_weights: Weights
    ) -> None:
        name = next(n for n, v in donor_weights.items() if v.ndim == 2 and v.shape[0] != v.shape[1])
        value = donor_weights[name]
        path = write(
            tmp_path / "m.safetensors",
            {
                "a.raw": ("F32", value),
                "b.bf16": ("BF16", bf16_bits(value, round_nearest=True)),
                "c.transposed": ("BF16", bf16_bits(np.ascontiguousarray(value.T), round_nearest=False)),
                "d.own": ("F32", own_weights[name]),
            },
        )
        found = self.scan(path, donor)
        canonical = set(donor.by_key[next(t.key for t in donor.tensors if t.name == name)].canonical)
        assert found["d.own"] is None  # not a copy: never hashed
        for copy in ("a.raw", "b.bf16", "c.transposed"):
            assert found[copy] in canonical, copy


def test_the_scoring_settings_default_to_the_readers_caps() -> None:
    from types import SimpleNamespace
    from typing import cast

    from fmc_scoring.originality.safetensors_io import DEFAULT_LIMITS
    from fmc_scoring.originality.service import reader_limits
    from fmc_scoring.settings import ScoringSettings

    fields = ScoringSettings.model_fields
    defaults = {
        k: fields[f"originality_{k}"].default for k in ("max_header_bytes", "max_tensors", "max_total_bytes")
    }
    assert (
        reader_limits(
            cast(ScoringSettings, SimpleNamespace(**{f"originality_{k}": v for k, v in defaults.items()}))
        )
        == DEFAULT_LIMITS
    )
    smaller = reader_limits(
        cast(
            ScoringSettings,
            SimpleNamespace(
                **{**{f"originality_{k}": v for k, v in defaults.items()}, "originality_max_tensors": 10}
            ),
        )
    )
    assert smaller.max_tensors == 10
    assert smaller.max_header_bytes == DEFAULT_LIMITS.max_header_bytes
