"""Artefact stores (``fmc_common.artefacts``): the same behaviour from a local folder and from a real
S3-compatible server (moto's server mode), ranged reads bounded by the block size, and an S3 client
that reaches only its configured endpoint."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fmc_common.artefacts import (
    ArtefactKeyRefused,
    ArtefactMissing,
    ArtefactOutside,
    ArtefactStore,
    LocalArtefactStore,
)
from fmc_common.s3 import S3ArtefactStore
from support.s3 import S3Server, upload_tree

FILES = {
    "models/a/model.safetensors": os.urandom(300_001),
    "models/a/config.json": b'{"layers": 2}',
    "models/a/data/train-0.jsonl": b'{"q": 1}\n',
    "models/b/model.safetensors": b"b" * 10,
    "top.txt": b"top",
}


def _write(root: Path) -> Path:
    for key, data in FILES.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return root


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtefactStore]:
    root = _write(tmp_path / "files")
    if request.param == "local":
        yield LocalArtefactStore(root, block_bytes=64 * 1024)
        return
    server: S3Server = request.getfixturevalue("s3")
    config = server.new_bucket()
    upload_tree(config, root, "artefacts")
    yield S3ArtefactStore(config, "artefacts", block_bytes=64 * 1024)


class Counting(ArtefactStore):
    """Wraps a store and records every ranged read (to show reads are bounded by the block size)."""

    def __init__(self, inner: ArtefactStore) -> None:
        self.inner = inner
        self.block_bytes = inner.block_bytes
        self.requests: list[int] = []

    def size(self, key: str) -> int:
        return self.inner.size(key)

    def open_range(self, key: str, offset: int, length: int) -> bytes:
        self.requests.append(length)
        return self.inner.open_range(key, offset, length)

    def list(self, prefix: str = "") -> list[str]:
        return self.inner.list(prefix)

    def child(self, prefix: str) -> ArtefactStore:
        return self.inner.child(prefix)

    def describe(self, key: str = "") -> str:
        return self.inner.describe(key)


class TestStore:
    def test_sizes_ranges_and_listings_are_those_of_the_files(self, store: ArtefactStore) -> None:
        data = FILES["models/a/model.safetensors"]
        assert store.size("models/a/model.safetensors") == len(data)
        assert store.open_range("models/a/model.safetensors", 1000, 5000) == data[1000:6000]
        assert store.open_range("models/a/model.safetensors", len(data) - 3, 10) == data[-3:]
        assert store.list("models/a") == [
            "models/a/config.json",
            "models/a/data/train-0.jsonl",
            "models/a/model.safetensors",
        ]
        assert store.list() == sorted(FILES)
        assert store.list("models/c") == []
        assert store.list("models/a/model") == []  # a folder is a whole path part, not a string prefix

    def test_a_missing_key_is_missing(self, store: ArtefactStore) -> None:
        with pytest.raises(ArtefactMissing):
            store.size("models/a/absent.bin")
        with pytest.raises(ArtefactMissing):
            store.open_range("models/a/absent.bin", 0, 10)
        assert not store.exists("models/a/absent.bin")
        assert store.exists("top.txt")

    @pytest.mark.parametrize("key", ["/etc/passwd", "../x", "models/../../x", "a//b", "./a", ""])
    def test_keys_that_are_not_plain_relative_paths_are_refused(self, store: ArtefactStore, key: str) -> None:
        with pytest.raises(ArtefactKeyRefused):
            store.size(key)

    def test_a_child_store_sees_only_below_its_prefix(self, store: ArtefactStore) -> None:
        child = store.child("models/b")
        assert child.list() == ["model.safetensors"]
        assert child.open_range("model.safetensors", 0, 100) == b"b" * 10
        with pytest.raises(ArtefactKeyRefused):
            child.size("../a/model.safetensors")

    def test_an_opened_object_streams_in_bounded_ranged_reads(self, store: ArtefactStore) -> None:
        counting = Counting(store)
        data = FILES["models/a/model.safetensors"]
        digest = hashlib.sha256()
        with counting.open("models/a/model.safetensors") as handle:
            handle.seek(10)
            assert handle.read(4) == data[10:14]
            handle.seek(0)
            while chunk := handle.read(100_000):
                digest.update(chunk)
            assert handle.tell() == len(data)
            handle.seek(-5, os.SEEK_END)
            assert handle.read() == data[-5:]
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
        assert counting.requests
        assert max(counting.requests) <= store.block_bytes
        # the whole object was read once plus the two small reads: no read fetched more than asked
        assert sum(counting.requests) == len(data) + 4 + 5

    def test_the_path_view_offers_what_readers_use_of_pathlib(self, store: ArtefactStore) -> None:
        model = store.path("models/a")
        assert model.is_dir()
        assert not model.is_file()
        weights = model / "model.safetensors"
        assert weights.is_file()
        assert weights.exists()
        assert weights.stat().st_size == len(FILES["models/a/model.safetensors"])
        assert (weights.name, weights.suffix, weights.parent) == ("model.safetensors", ".safetensors", model)
        assert [p.name for p in model.glob("*.json")] == ["config.json"]
        assert [p.key for p in model.glob("data/train*.jsonl")] == ["models/a/data/train-0.jsonl"]
        assert sorted(p.name for p in store.path().rglob("*.safetensors")) == ["model.safetensors"] * 2
        assert (model / "config.json").read_text() == '{"layers": 2}'
        with (model / "data" / "train-0.jsonl").open(encoding="utf-8") as lines:
            assert list(lines) == ['{"q": 1}\n']
        assert (model / "data" / ".." / "config.json").resolve() == model / "config.json"
        assert (model / "config.json").resolve().is_relative_to(model)
        assert not store.path("models/b/x").resolve().is_relative_to(model)
        with pytest.raises(ArtefactKeyRefused):
            (model / ".." / ".." / ".." / "x").resolve()


class TestLocal:
    def test_a_link_leaving_the_folder_is_outside_and_never_read(self, tmp_path: Path) -> None:
        (tmp_path / "secret.txt").write_bytes(b"not yours")
        root = tmp_path / "store"
        root.mkdir()
        (root / "model.safetensors").symlink_to(tmp_path / "secret.txt")
        store = LocalArtefactStore(root)
        with pytest.raises(ArtefactOutside):
            store.open_range("model.safetensors", 0, 100)

    def test_a_child_reached_through_a_link_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "team-a").mkdir()
        (tmp_path / "team-b").symlink_to(tmp_path / "team-a")
        with pytest.raises(ArtefactKeyRefused):
            LocalArtefactStore(tmp_path).child("team-b")


class _Listener:
    """A TCP listener that counts the connections made to it (a stand-in for a proxy or a stranger)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.socket.close()


class TestS3Client:
    def test_proxies_and_aws_variables_from_the_environment_are_ignored(
        self, s3: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        config = s3.new_bucket()
        upload_tree(config, _write(tmp_path))
        listener = _Listener()
        try:
            elsewhere = f"http://127.0.0.1:{listener.port}"
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
                monkeypatch.setenv(name, elsewhere)
            monkeypatch.setenv("NO_PROXY", "")
            monkeypatch.setenv("AWS_ENDPOINT_URL", elsewhere)
            monkeypatch.setenv("AWS_ENDPOINT_URL_S3", elsewhere)
            monkeypatch.setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem")
            store = S3ArtefactStore(config)
            assert store.open_range("top.txt", 0, 3) == b"top"
            assert store.list("models/b") == ["models/b/model.safetensors"]
        finally:
            listener.close()
        assert listener.connections == 0
