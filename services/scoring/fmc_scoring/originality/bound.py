"""A submission's delivered weights against its manifest, before anything is fingerprinted (pure I/O).

The registry states where a submission's files are (``submissions/<team_id>/<submission_id>/`` under the
shared weights store) and what they are (the manifest: every file's path, size and sha256, and the
index of a sharded checkpoint). The check reads only that folder, and only once every declared file is
there with its declared size and hash, no undeclared ``.safetensors`` file sits beside them, and the
index file maps tensors to exactly the shards the manifest declares. Paths are resolved: a link that
leaves the submission's folder counts as a mismatch, never as a file to read.

The folder is read through an artefact store (``fmc_common.artefacts``): a local folder in development,
keys below ``submissions/<team_id>/<submission_id>/`` of an S3 bucket in production. Hashes stream
through bounded ranged reads, so memory does not grow with the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fmc_common.artefacts import (
    ArtefactError,
    ArtefactKeyRefused,
    ArtefactMissing,
    ArtefactOutside,
    ArtefactPath,
    ArtefactStore,
    clean_key,
)

CHUNK = 1 << 20  # hashed a MiB at a time: a 100 GB checkpoint never sits in memory
INDEX_LIMIT = 64 * 1024 * 1024  # a safetensors index is kilobytes; more is not an index
SHOWN = 20  # mismatches listed in a refusal; the count says how many there are


class LocationRefused(ValueError):
    """The location is not a plain folder inside the weights store."""


class NoSafetensors(ValueError):
    """The manifest names no safetensors weights to check."""


@dataclass(frozen=True)
class Mismatch:
    path: str
    problem: str  # missing | outside | size | hash | extra | index
    expected: str | int | None = None
    found: str | int | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"path": self.path, "problem": self.problem}
        if self.expected is not None:
            body["expected"] = self.expected
        if self.found is not None:
            body["found"] = self.found
        return body


def submission_store(store: ArtefactStore, location: str) -> ArtefactStore:
    """The submission's folder as a store of its own, refused if the location is absolute, has ``..``
    parts, or goes through a link (a link could point at another team's folder or out of the store)."""
    parts = PurePosixPath(location).parts
    if not parts or PurePosixPath(location).is_absolute() or any(p in ("..", ".") for p in parts):
        raise LocationRefused(f"{location!r} is not a folder inside the weights store")
    try:
        return store.child(clean_key(location))
    except ArtefactKeyRefused as exc:
        raise LocationRefused(
            f"{location!r} resolves elsewhere (a link) inside or outside the weights store"
        ) from exc


def verify(store: ArtefactStore, manifest: dict[str, Any]) -> list[Mismatch]:
    """Every way the folder differs from the manifest (cheap checks first, then hashes; empty: it matches)."""
    files: list[dict[str, Any]] = list(manifest.get("files", []))
    declared = {str(f["path"]) for f in files}
    found: list[Mismatch] = []
    present: list[tuple[str, dict[str, Any]]] = []
    for entry in files:
        problem = _presence(store, entry)
        if problem is None:
            present.append((str(entry["path"]), entry))
        else:
            found.append(problem)
    found.extend(_extras(store, declared))
    if found:
        return found  # hashing gigabytes to report what is already known to be wrong helps nobody
    for key, entry in present:
        digest = file_sha256(store, key)
        if digest != entry["sha256"]:
            found.append(Mismatch(str(entry["path"]), "hash", entry["sha256"], digest))
            if len(found) >= SHOWN:
                return found
    if not found and manifest.get("index"):
        found.extend(_index(store, manifest["index"], declared))
    return found


def _presence(store: ArtefactStore, entry: dict[str, Any]) -> Mismatch | None:
    relative = str(entry["path"])
    try:
        size = store.size(relative)
    except ArtefactKeyRefused:
        return Mismatch(relative, "outside", found="not a path inside the submission's folder")
    except ArtefactOutside:
        return Mismatch(relative, "outside", found="a link leading out of the submission's folder")
    except ArtefactMissing:
        return Mismatch(relative, "missing")
    if size != entry["size_bytes"]:
        return Mismatch(relative, "size", entry["size_bytes"], size)
    return None


def _extras(store: ArtefactStore, declared: set[str]) -> list[Mismatch]:
    return [
        Mismatch(key, "extra", found="a .safetensors file the manifest does not declare")
        for key in store.list()
        if key.endswith(".safetensors") and key not in declared
    ]


def _index(store: ArtefactStore, index: dict[str, Any], declared: set[str]) -> list[Mismatch]:
    """The index file in the store (its hash already verified) must map tensors as the manifest declares."""
    path = str(index["path"])
    try:
        weight_map = json.loads(store.read_bytes(path, INDEX_LIMIT).decode("utf-8"))["weight_map"]
    except (ArtefactError, ArtefactKeyRefused, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        return [Mismatch(path, "index", found="not a safetensors index (no weight_map)")]
    if not isinstance(weight_map, dict):
        return [Mismatch(path, "index", found="its weight_map is not an object")]
    undeclared = sorted({str(s) for s in weight_map.values()} - declared)
    if undeclared:
        shard = "a shard named by the index but not by the manifest"
        return [Mismatch(s, "index", found=shard) for s in undeclared]
    if weight_map != index["weight_map"]:
        return [Mismatch(path, "index", found="its weight_map differs from the manifest's index")]
    return []


def target_key(manifest: dict[str, Any]) -> str:
    """What the check fingerprints: the index of a sharded checkpoint, else the one safetensors file."""
    if manifest.get("index"):
        return str(manifest["index"]["path"])
    shards = [str(f["path"]) for f in manifest.get("files", []) if str(f["path"]).endswith(".safetensors")]
    if len(shards) != 1:
        raise NoSafetensors(
            f"the manifest names {len(shards)} .safetensors files and no index: nothing the check can read"
        )
    return shards[0]


def target(store: ArtefactStore, manifest: dict[str, Any]) -> Path | ArtefactPath:
    """``target_key`` as the reader takes it: a file system path for a local store, else the store's
    path-like view (ranged reads)."""
    key = target_key(manifest)
    local = store.local_path(key)
    return local if local is not None else store.path(key)


def file_sha256(store: ArtefactStore, key: str) -> str:
    """The sha256 of one file of the store. A local file is opened without following a link and without
    blocking (``_local_sha256``); an object store has neither links nor FIFOs and streams ranged reads."""
    local, root = store.local_path(key), store.local_path()
    if local is not None and root is not None:
        resolved = local.resolve()  # a link inside the folder is the file it names (as ``_presence`` saw)
        if not resolved.is_relative_to(root.resolve()):
            return "a link leading out of the submission's folder"
        return _local_sha256(resolved)
    digest = hashlib.sha256()
    with store.open(key) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _local_sha256(path: Path) -> str:
    """The sha256 of a regular file: opened without following a link and without blocking, so a file
    swapped for a link, a FIFO or a device after ``_presence`` fails (a mismatch) instead of hanging."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:  # swapped for a link, removed: a mismatch, not a crash
        return f"not readable (errno {exc.errno})"
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "not a regular file"
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
