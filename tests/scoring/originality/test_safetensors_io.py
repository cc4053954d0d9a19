"""Reading safetensors headers, indexes and tensors in chunks; writing files the reference library reads."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from safetensors import safe_open
from safetensors.numpy import save_file

from fmc_scoring.originality.safetensors_io import (
    ChunkBuffers,
    SafetensorsError,
    SafetensorsWriter,
    bf16_bits,
    inventory,
    iter_row_chunks,
    read_header,
    read_rows,
    read_tensor,
    to_float32,
    weight_files,
)


def sharded_model(directory: Path) -> dict[str, NDArray[np.generic]]:
    rng = np.random.default_rng(0)
    tensors: dict[str, NDArray[np.generic]] = {
        "model.embed_tokens.weight": rng.standard_normal((50, 8)).astype(np.float32),
        "model.layers.0.mlp.up_proj.weight": rng.standard_normal((32, 8)).astype(np.float16),
        "model.norm.weight": np.ones(8, dtype=np.float64),
        "model.positions": np.arange(10, dtype=np.int64),
    }
    names = list(tensors)
    save_file({n: tensors[n] for n in names[:2]}, str(directory / "model-00001-of-00002.safetensors"))
    save_file({n: tensors[n] for n in names[2:]}, str(directory / "model-00002-of-00002.safetensors"))
    weight_map = {n: f"model-0000{1 if i < 2 else 2}-of-00002.safetensors" for i, n in enumerate(names)}
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return tensors


class TestInventory:
    def test_reads_every_tensor_of_a_sharded_model_from_its_headers(self, tmp_path: Path) -> None:
        tensors = sharded_model(tmp_path)
        found = {t.name: t for t in inventory(tmp_path / "model.safetensors.index.json")}
        assert set(found) == set(tensors)
        assert found["model.layers.0.mlp.up_proj.weight"].dtype == "F16"
        assert found["model.layers.0.mlp.up_proj.weight"].shape == (32, 8)
        for name, value in tensors.items():
            assert np.array_equal(read_tensor(found[name]), value)

    def test_a_directory_with_an_index_is_read_through_the_index(self, tmp_path: Path) -> None:
        sharded_model(tmp_path)
        assert len(weight_files(tmp_path)) == 2
        assert len(inventory(tmp_path)) == 4

    def test_an_index_pointing_outside_its_directory_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "bad.safetensors.index.json").write_text(
            json.dumps({"weight_map": {"w": "../x.safetensors"}})
        )
        with pytest.raises(SafetensorsError, match="outside"):
            weight_files(tmp_path / "bad.safetensors.index.json")

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"abc", "too short"),
            (struct.pack("<Q", 10**12), "exceeds the cap"),
            (struct.pack("<Q", 5) + b"nope!", "not valid JSON"),
            (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        ],
    )
    def test_a_malformed_header_is_refused_with_the_reason(
        self, tmp_path: Path, content: bytes, message: str
    ) -> None:
        (tmp_path / "x.safetensors").write_bytes(content)
        with pytest.raises(SafetensorsError, match=message):
            read_header(tmp_path / "x.safetensors")

    def test_a_tensor_outside_the_file_is_refused(self, tmp_path: Path) -> None:
        header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
        (tmp_path / "x.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
        with pytest.raises(SafetensorsError, match="past the end of the file"):
            read_header(tmp_path / "x.safetensors")


class TestChunks:
    def test_chunks_cover_the_tensor_in_order_within_the_byte_budget(self, tmp_path: Path) -> None:
        value = np.random.default_rng(1).standard_normal((1000, 64)).astype(np.float32)
        save_file({"w": value}, str(tmp_path / "m.safetensors"))
        info = inventory(tmp_path / "m.safetensors")[0]
        with info.path.open("rb") as handle:
            chunks = list(iter_row_chunks(info, handle, chunk_bytes=10_000))
        assert all(block.nbytes <= 10_000 for _, block in chunks)
        assert [first for first, _ in chunks] == list(range(0, 1000, 39))
        assert np.array_equal(np.concatenate([b for _, b in chunks]), value)

    def test_reused_buffers_give_the_same_chunks_each_valid_while_the_next_is_read(
        self, tmp_path: Path
    ) -> None:
        value = np.random.default_rng(2).standard_normal((1000, 64)).astype(np.float32)
        save_file({"w": value}, str(tmp_path / "m.safetensors"))
        info = inventory(tmp_path / "m.safetensors")[0]
        buffers = ChunkBuffers(10_000)
        owned = {np.frombuffer(b, np.uint8).ctypes.data for b in buffers._buffers}
        seen, previous, addresses = [], None, set()
        with info.path.open("rb", buffering=0) as handle:
            for first, block in iter_row_chunks(info, handle, 10_000, buffers):
                if previous is not None:  # the chunk before is untouched by this read (its hash may run)
                    assert np.array_equal(previous[1], value[previous[0] : previous[0] + len(previous[1])])
                seen.append((first, block.copy()))
                previous = (first, block)
                addresses.add(block.ctypes.data)
        assert np.array_equal(np.concatenate([b for _, b in seen]), value)
        assert addresses == owned  # the same two buffers served every chunk: nothing allocated per chunk

    def test_a_threads_buffers_live_as_long_as_its_check(self) -> None:
        assert ChunkBuffers.of_this_thread() is not ChunkBuffers.of_this_thread()  # outside: fresh each time
        with ChunkBuffers.in_this_thread(1_000) as outer:
            assert ChunkBuffers.of_this_thread() is outer
            with ChunkBuffers.in_this_thread() as inner:
                assert ChunkBuffers.of_this_thread() is inner
            assert ChunkBuffers.of_this_thread() is outer
        assert ChunkBuffers.of_this_thread() is not outer

    def test_a_row_wider_than_the_buffers_gets_its_own_buffer(self, tmp_path: Path) -> None:
        value = np.random.default_rng(3).standard_normal((3, 5000)).astype(np.float32)
        save_file({"w": value}, str(tmp_path / "m.safetensors"))
        info = inventory(tmp_path / "m.safetensors")[0]
        with info.path.open("rb", buffering=0) as handle:
            chunks = [b.copy() for _, b in iter_row_chunks(info, handle, 1_000, ChunkBuffers(1_000))]
        assert np.array_equal(np.concatenate(chunks), value)

    def test_a_file_cut_short_while_read_into_the_buffers_is_refused(self, tmp_path: Path) -> None:
        value = np.zeros((1000, 64), dtype=np.float32)
        save_file({"w": value}, str(tmp_path / "m.safetensors"))
        info = inventory(tmp_path / "m.safetensors")[0]
        with (tmp_path / "m.safetensors").open("r+b") as handle:
            handle.truncate(info.start + 20_000)
        with info.path.open("rb", buffering=0) as handle, pytest.raises(SafetensorsError, match="truncated"):
            for _ in iter_row_chunks(info, handle, 10_000, ChunkBuffers(10_000)):
                pass

    @pytest.mark.parametrize("dtype", ["float32", "float16"])
    def test_chosen_rows_are_read_in_the_order_asked(self, tmp_path: Path, dtype: str) -> None:
        value = np.random.default_rng(4).standard_normal((200, 16)).astype(dtype)
        save_file({"w": value}, str(tmp_path / "m.safetensors"))
        info = inventory(tmp_path / "m.safetensors")[0]
        rows = np.array([199, 0, 57, 57, 3], dtype=np.int64)
        found = read_rows(info, rows)
        assert found.dtype == np.float32
        assert np.array_equal(found, value[rows].astype(np.float32))
        with (tmp_path / "m.safetensors").open("r+b") as handle:
            handle.truncate(info.start + 100 * info.raw_row_bytes)
        with pytest.raises(SafetensorsError, match="truncated"):
            read_rows(info, rows)


class TestBf16:
    def test_bf16_bits_round_to_nearest_even_or_truncate(self) -> None:
        values = np.array([1.0, 1.00390625 + 1e-7, -2.5], dtype=np.float32)
        truncated = bf16_bits(values, round_nearest=False)
        rounded = bf16_bits(values, round_nearest=True)
        assert truncated[0] == rounded[0] == 0x3F80
        assert truncated[1] == 0x3F80
        assert rounded[1] == 0x3F81
        assert np.array_equal(to_float32(rounded, "BF16")[[0, 2]], values[[0, 2]])

    def test_a_bf16_file_is_read_as_exact_float32_values(self, tmp_path: Path) -> None:
        values = np.array([[0.5, -3.0], [1024.0, 0.15625]], dtype=np.float32)
        with SafetensorsWriter(tmp_path / "m.safetensors", [("w", "BF16", (2, 2))]) as writer:
            writer.write("w", bf16_bits(values, round_nearest=True))
        info = inventory(tmp_path / "m.safetensors")[0]
        assert info.dtype == "BF16"
        assert np.array_equal(to_float32(read_tensor(info), "BF16"), values)


class TestWriter:
    def test_files_written_one_tensor_at_a_time_are_read_by_the_reference_library(
        self, tmp_path: Path
    ) -> None:
        rng = np.random.default_rng(2)
        tensors = {"a": rng.standard_normal((3, 5)).astype(np.float32), "b": np.arange(7, dtype=np.float32)}
        with SafetensorsWriter(
            tmp_path / "m.safetensors", [(n, "F32", v.shape) for n, v in tensors.items()]
        ) as w:
            for name, value in tensors.items():
                w.write(name, value)
        with safe_open(str(tmp_path / "m.safetensors"), framework="np") as reader:
            for name, value in tensors.items():
                assert np.array_equal(reader.get_tensor(name), value)

    def test_writing_out_of_the_declared_order_is_refused(self, tmp_path: Path) -> None:
        writer = SafetensorsWriter(tmp_path / "m.safetensors", [("a", "F32", (2,)), ("b", "F32", (2,))])
        with pytest.raises(ValueError, match="expected 'a'"):
            writer.write("b", np.zeros(2, np.float32))
        with pytest.raises(ValueError, match="never written"):
            writer.close()
