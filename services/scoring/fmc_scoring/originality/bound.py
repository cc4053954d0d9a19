"""A submission's delivered weights against its manifest, before anything is fingerprinted (pure file I/O).

The registry states where a submission's files are (``submissions/<team_id>/<submission_id>/`` under the
shared weights store) and what they are (the manifest: every file's path, size and sha256, and the
index of a sharded checkpoint). The check reads only that folder, and only once every declared file is
there with its declared size and hash, no undeclared ``.safetensors`` file sits beside them, and the
index file maps tensors to exactly the shards the manifest declares. Paths are resolved: a link that
leaves the submission's folder counts as a mismatch, never as a file to read.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

CHUNK = 1 << 20  # hashed a MiB at a time: a 100 GB checkpoint never sits in memory
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


def submission_directory(root: Path, location: str) -> Path:
    """``root / location``, refused if the location is absolute, has ``..`` parts, or goes through a link
    (a link could point at another team's folder or out of the store)."""
    parts = PurePosixPath(location).parts
    if not parts or PurePosixPath(location).is_absolute() or any(p in ("..", ".") for p in parts):
        raise LocationRefused(f"{location!r} is not a folder inside the weights store")
    base = root.resolve()
    directory = base.joinpath(*parts)
    if directory.resolve() != directory:
        raise LocationRefused(f"{location!r} resolves elsewhere (a link) inside or outside the weights store")
    return directory


def verify(directory: Path, manifest: dict[str, Any]) -> list[Mismatch]:
    """Every way the folder differs from the manifest (cheap checks first, then hashes; empty: it matches)."""
    files: list[dict[str, Any]] = list(manifest.get("files", []))
    declared = {str(f["path"]) for f in files}
    found: list[Mismatch] = []
    present: list[tuple[Path, dict[str, Any]]] = []
    for entry in files:
        problem = _presence(directory, entry)
        if isinstance(problem, Mismatch):
            found.append(problem)
        else:
            present.append((problem, entry))
    found.extend(_extras(directory, declared))
    if found:
        return found  # hashing gigabytes to report what is already known to be wrong helps nobody
    for path, entry in present:
        digest = file_sha256(path)
        if digest != entry["sha256"]:
            found.append(Mismatch(str(entry["path"]), "hash", entry["sha256"], digest))
            if len(found) >= SHOWN:
                return found
    if not found and manifest.get("index"):
        found.extend(_index(directory, manifest["index"], declared))
    return found


def _presence(directory: Path, entry: dict[str, Any]) -> Path | Mismatch:
    relative = str(entry["path"])
    path = directory / relative
    if not path.exists():
        return Mismatch(relative, "missing")
    resolved = path.resolve()
    if not resolved.is_relative_to(directory.resolve()):
        return Mismatch(relative, "outside", found="a link leading out of the submission's folder")
    if not resolved.is_file():
        return Mismatch(relative, "missing", found="not a regular file")
    size = resolved.stat().st_size
    if size != entry["size_bytes"]:
        return Mismatch(relative, "size", entry["size_bytes"], size)
    return resolved


def _extras(directory: Path, declared: set[str]) -> list[Mismatch]:
    if not directory.is_dir():
        return []
    return [
        Mismatch(relative, "extra", found="a .safetensors file the manifest does not declare")
        for relative in sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.safetensors"))
        if relative not in declared
    ]


def _index(directory: Path, index: dict[str, Any], declared: set[str]) -> list[Mismatch]:
    """The index file on disk (its hash already verified) must map tensors as the manifest declares."""
    path = str(index["path"])
    try:
        weight_map = json.loads((directory / path).read_text(encoding="utf-8"))["weight_map"]
    except (OSError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
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


def target(directory: Path, manifest: dict[str, Any]) -> Path:
    """What the check fingerprints: the index of a sharded checkpoint, else the one safetensors file."""
    if manifest.get("index"):
        return directory / str(manifest["index"]["path"])
    shards = [str(f["path"]) for f in manifest.get("files", []) if str(f["path"]).endswith(".safetensors")]
    if len(shards) != 1:
        raise NoSafetensors(
            f"the manifest names {len(shards)} .safetensors files and no index: nothing the check can read"
        )
    return directory / shards[0]


def file_sha256(path: Path) -> str:
    """The sha256 of a regular file (already resolved): opened without following a link and without
    blocking, so a file swapped for a FIFO or a device after ``_presence`` fails instead of hanging."""
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
