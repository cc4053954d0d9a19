"""Delivered weights against their manifest (``originality/bound.py``): no service, the same checks on a
local folder and on a real S3-compatible server (moto's server mode)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fmc_common.artefacts import ArtefactPath, ArtefactStore, LocalArtefactStore
from fmc_common.s3 import S3ArtefactStore
from fmc_scoring.originality import bound
from support.s3 import S3Server, upload_tree

Stores = Callable[[Path], ArtefactStore]


@pytest.fixture(params=["local", "s3"])
def stores(request: pytest.FixtureRequest) -> Stores:
    """The folder as a store: itself, or its files uploaded (when asked) below a submission's prefix."""
    if request.param == "local":
        return LocalArtefactStore
    server: S3Server = request.getfixturevalue("s3")

    def uploaded(directory: Path) -> ArtefactStore:
        config = server.new_bucket()
        if directory.is_dir():
            upload_tree(config, directory, "submissions/t/s")
        return bound.submission_store(S3ArtefactStore(config), "submissions/t/s/")

    return uploaded


def deliver(directory: Path, files: dict[str, bytes]) -> dict[str, Any]:
    """Write the files and return the manifest that declares them exactly."""
    for name, data in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)
    return {
        "files": [
            {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)}
            for name, data in files.items()
        ]
    }


def sharded(directory: Path) -> dict[str, Any]:
    weight_map = {"a.weight": "model-1.safetensors", "b.weight": "model-2.safetensors"}
    index = json.dumps({"metadata": {}, "weight_map": weight_map}).encode()
    manifest = deliver(
        directory,
        {
            "model-1.safetensors": b"one" * 10,
            "model-2.safetensors": b"two" * 10,
            "model.safetensors.index.json": index,
        },
    )
    manifest["index"] = {"path": "model.safetensors.index.json", "weight_map": weight_map}
    return manifest


def problems(found: list[bound.Mismatch]) -> list[tuple[str, str]]:
    return [(m.path, m.problem) for m in found]


class TestVerify:
    def test_files_exactly_as_declared_match_and_the_check_reads_the_single_file(
        self, tmp_path: Path, stores: Stores
    ) -> None:
        manifest = deliver(tmp_path, {"model.safetensors": b"weights", "config.json": b"{}"})
        assert bound.verify(stores(tmp_path), manifest) == []
        assert bound.target_key(manifest) == "model.safetensors"
        assert (
            bound.target(LocalArtefactStore(tmp_path), manifest) == tmp_path.resolve() / "model.safetensors"
        )

    def test_a_sharded_checkpoint_is_read_through_its_index(self, tmp_path: Path, stores: Stores) -> None:
        manifest = sharded(tmp_path)
        store = stores(tmp_path)
        assert bound.verify(store, manifest) == []
        found = bound.target(store, manifest)
        assert str(found).endswith("model.safetensors.index.json")
        assert isinstance(found, Path if isinstance(store, LocalArtefactStore) else ArtefactPath)

    def test_missing_files_and_wrong_sizes_are_listed_without_hashing(
        self, tmp_path: Path, stores: Stores, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        manifest = sharded(tmp_path)
        (tmp_path / "model-1.safetensors").unlink()
        (tmp_path / "model-2.safetensors").write_bytes(b"short")
        monkeypatch.setattr(bound, "file_sha256", lambda *_: pytest.fail("hashed a known mismatch"))
        found = bound.verify(stores(tmp_path), manifest)
        assert problems(found) == [("model-1.safetensors", "missing"), ("model-2.safetensors", "size")]
        assert (found[1].expected, found[1].found) == (30, 5)
        expected = {"path": "model-2.safetensors", "problem": "size", "expected": 30, "found": 5}
        assert found[1].to_json() == expected

    def test_same_size_other_bytes_is_a_hash_mismatch(self, tmp_path: Path, stores: Stores) -> None:
        manifest = deliver(tmp_path, {"model.safetensors": b"weights"})
        (tmp_path / "model.safetensors").write_bytes(b"WEIGHTS")
        [mismatch] = bound.verify(stores(tmp_path), manifest)
        assert (mismatch.problem, mismatch.found) == ("hash", hashlib.sha256(b"WEIGHTS").hexdigest())

    def test_an_undeclared_safetensors_file_anywhere_in_the_folder_is_an_extra(
        self, tmp_path: Path, stores: Stores
    ) -> None:
        manifest = deliver(tmp_path, {"model.safetensors": b"weights"})
        (tmp_path / "more").mkdir()
        (tmp_path / "more" / "vision.safetensors").write_bytes(b"x")
        (tmp_path / "notes.txt").write_text("not weights: allowed")
        assert problems(bound.verify(stores(tmp_path), manifest)) == [("more/vision.safetensors", "extra")]

    def test_an_index_mapping_tensors_otherwise_than_declared_is_refused(
        self, tmp_path: Path, stores: Stores
    ) -> None:
        manifest = sharded(tmp_path)
        swapped = {"a.weight": "model-2.safetensors", "b.weight": "model-1.safetensors"}
        manifest["index"]["weight_map"] = swapped
        assert problems(bound.verify(stores(tmp_path), manifest)) == [
            ("model.safetensors.index.json", "index")
        ]

    def test_an_index_naming_an_undeclared_shard_is_refused(self, tmp_path: Path, stores: Stores) -> None:
        weight_map = {"a.weight": "model-1.safetensors", "b.weight": "../other/model.safetensors"}
        index = json.dumps({"weight_map": weight_map}).encode()
        manifest = deliver(tmp_path, {"model-1.safetensors": b"one", "model.safetensors.index.json": index})
        manifest["index"] = {"path": "model.safetensors.index.json", "weight_map": weight_map}
        assert problems(bound.verify(stores(tmp_path), manifest)) == [("../other/model.safetensors", "index")]

    def test_a_link_out_of_the_folder_is_outside_even_with_the_right_bytes(self, tmp_path: Path) -> None:
        own, other = tmp_path / "own", tmp_path / "other"
        other.mkdir()
        manifest = deliver(own, {"config.json": b"{}"})
        (other / "model.safetensors").write_bytes(b"weights")
        (own / "model.safetensors").symlink_to(other / "model.safetensors")
        manifest["files"].append(
            {"path": "model.safetensors", "sha256": hashlib.sha256(b"weights").hexdigest(), "size_bytes": 7}
        )
        assert problems(bound.verify(LocalArtefactStore(own), manifest)) == [("model.safetensors", "outside")]

    def test_a_folder_never_delivered_lists_every_file_as_missing(
        self, tmp_path: Path, stores: Stores
    ) -> None:
        manifest = sharded(tmp_path / "elsewhere")
        assert {p for _, p in problems(bound.verify(stores(tmp_path / "absent"), manifest))} == {"missing"}

    def test_a_manifest_without_safetensors_gives_nothing_to_check(
        self, tmp_path: Path, stores: Stores
    ) -> None:
        manifest = deliver(tmp_path, {"pytorch_model.bin": b"pickle"})
        with pytest.raises(bound.NoSafetensors):
            bound.target(stores(tmp_path), manifest)


class TestLocation:
    def test_the_location_is_a_plain_folder_inside_the_store(self, tmp_path: Path) -> None:
        found = bound.submission_store(LocalArtefactStore(tmp_path), "submissions/t/s/")
        assert found.local_path() == tmp_path.resolve() / "submissions/t/s"

    @pytest.mark.parametrize("location", ["/etc", "../x", "submissions/../../x", "", "."])
    def test_absolute_or_parent_locations_are_refused(self, tmp_path: Path, location: str) -> None:
        with pytest.raises(bound.LocationRefused):
            bound.submission_store(LocalArtefactStore(tmp_path), location)

    def test_a_location_through_a_link_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "submissions" / "team-a").mkdir(parents=True)
        (tmp_path / "submissions" / "team-b").symlink_to(tmp_path / "submissions" / "team-a")
        with pytest.raises(bound.LocationRefused):
            bound.submission_store(LocalArtefactStore(tmp_path), "submissions/team-b/s/")
