"""Artefact stores: where weights and suites are read from (a local folder, or an S3-compatible bucket).

Every store answers the same three questions about a key (a relative POSIX path such as
``submissions/<team>/<submission>/model.safetensors``):

* ``size(key)``: its length in bytes (``ArtefactMissing`` if there is no such object);
* ``open_range(key, offset, length)``: those bytes, and only those (an S3 ``Range`` GET);
* ``list(prefix)``: every key below a prefix, recursively, sorted.

On top of these, ``open(key)`` gives a seekable, read-only binary file whose reads are ranged reads of
at most ``block_bytes`` each (memory per open file: one block, whatever the object's size), and
``path(key)`` a read-only, path-like view (``ArtefactPath``: ``open``, ``stat().st_size``, ``is_dir``,
``glob``, ``read_bytes``, ``/``...) for code written against ``pathlib.Path``.

Development uses ``LocalArtefactStore`` (a folder: the default); production ``fmc_common.s3``'s
``S3ArtefactStore`` (an S3-compatible endpoint, bucket and per-service credentials). This module needs
nothing but the standard library.

How a reader should use it (the safetensors reader in particular): ask the store for ``size`` and read
the 8-byte header length and the header with ``open_range``; read tensors through ``open(key)`` (or
``open_range`` in chunks) -- never map or read a whole object. A reader that takes a ``pathlib.Path``
today works unchanged on ``ArtefactPath`` if it sticks to ``open("rb")``, ``stat().st_size``,
``is_dir``/``is_file``/``exists``, ``glob``/``rglob``, ``read_bytes``/``read_text``, ``name``,
``parent``, ``/``, ``resolve`` and ``is_relative_to`` (no ``numpy.memmap``, no ``os.fspath``).
"""

from __future__ import annotations

import fnmatch
import io
import os
import posixpath
import stat as stat_module
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

__all__ = [
    "ArtefactError",
    "ArtefactKeyRefused",
    "ArtefactMissing",
    "ArtefactOutside",
    "ArtefactPath",
    "ArtefactStore",
    "LocalArtefactStore",
    "RangeReader",
    "clean_key",
]

DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024


class ArtefactError(OSError):
    """An artefact could not be read."""


class ArtefactMissing(ArtefactError, FileNotFoundError):
    """No object at this key."""


class ArtefactOutside(ArtefactError):
    """The key leads out of the store (a local link pointing elsewhere)."""


class ArtefactKeyRefused(ValueError):
    """The key is not a plain relative path (absolute, ``..``, ``.``, empty parts, NUL)."""


def clean_key(key: str, *, allow_empty: bool = False) -> str:
    """``key`` as a normal relative POSIX path (trailing slash dropped), or ``ArtefactKeyRefused``."""
    stripped = key.rstrip("/")
    if not stripped:
        if allow_empty:
            return ""
        raise ArtefactKeyRefused(f"{key!r} names nothing")
    if "\x00" in stripped or "\\" in stripped or stripped.startswith("/"):
        raise ArtefactKeyRefused(f"{key!r} is not a relative path")
    parts = stripped.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ArtefactKeyRefused(f"{key!r} has empty, '.' or '..' parts")
    return stripped


class ArtefactStore(ABC):
    """Read-only access to artefacts by key. Implementations are safe to use from several threads."""

    block_bytes: int = DEFAULT_BLOCK_BYTES

    @abstractmethod
    def size(self, key: str) -> int:
        """Length of the object in bytes; ``ArtefactMissing`` if absent."""

    @abstractmethod
    def open_range(self, key: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer only at the end of the object)."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Every key below ``prefix`` (a folder: ``a/b`` lists ``a/b/...``), recursively, sorted."""

    @abstractmethod
    def child(self, prefix: str) -> ArtefactStore:
        """The store seen from ``prefix``: its keys are relative to it, and nothing outside is reachable."""

    @abstractmethod
    def describe(self, key: str = "") -> str:
        """Where ``key`` is, for messages (a path or ``s3://bucket/key``)."""

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ArtefactMissing:
            return False
        return True

    def is_folder(self, key: str) -> bool:
        """Whether some key lies below ``key`` (folders exist only through their contents in S3)."""
        return bool(self.list(key))

    def open(self, key: str) -> RangeReader:
        """A seekable binary file reading the object a block at a time."""
        return RangeReader(self, clean_key(key), self.size(key), self.block_bytes)

    def read_bytes(self, key: str, limit: int) -> bytes:
        """The whole object, refused (``ArtefactError``) if it is larger than ``limit``: for small files."""
        size = self.size(key)
        if size > limit:
            raise ArtefactError(f"{self.describe(key)} is {size} bytes, more than the {limit} allowed")
        return self.open_range(key, 0, size) if size else b""

    def path(self, key: str = "") -> ArtefactPath:
        return ArtefactPath(self, clean_key(key, allow_empty=True))

    def local_path(self, key: str = "") -> Path | None:
        """The key as a local file system path, for stores that have one (``None`` otherwise)."""
        return None


class RangeReader(io.RawIOBase):
    """A read-only, seekable file over ``store.open_range``: each read asks for what it needs, and no
    more than ``block_bytes`` per request, so memory stays bounded whatever the object's size."""

    def __init__(self, store: ArtefactStore, key: str, size: int, block_bytes: int) -> None:
        super().__init__()
        self._store, self._key, self._size, self._block = store, key, size, max(1, block_bytes)
        self._position = 0
        self.name = key

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), max(0, self._size - self._position))
        done = 0
        while done < wanted:
            length = min(self._block, wanted - done)
            chunk = self._store.open_range(self._key, self._position, length)
            if not chunk:
                break
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._position += len(chunk)
        return done

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self._size - self._position)
        out = bytearray(min(size, max(0, self._size - self._position)))
        count = self.readinto(out)
        return bytes(out[:count])

    def readall(self) -> bytes:
        return self.read(-1)


@dataclass(frozen=True)
class _Stat:
    st_size: int
    st_mode: int


class ArtefactPath:
    """A path-like view of one key of a store (read-only): the part of ``pathlib.Path`` that readers use."""

    def __init__(self, store: ArtefactStore, key: str) -> None:
        self._store = store
        self._key = key

    @property
    def store(self) -> ArtefactStore:
        return self._store

    @property
    def key(self) -> str:
        return self._key

    @property
    def name(self) -> str:
        return PurePosixPath(self._key).name

    @property
    def stem(self) -> str:
        return PurePosixPath(self._key).stem

    @property
    def suffix(self) -> str:
        return PurePosixPath(self._key).suffix

    @property
    def parent(self) -> ArtefactPath:
        parent = posixpath.dirname(self._key)
        return ArtefactPath(self._store, parent)

    @property
    def parts(self) -> tuple[str, ...]:
        return PurePosixPath(self._key).parts

    def joinpath(self, *others: str) -> ArtefactPath:
        return ArtefactPath(self._store, posixpath.join(self._key, *others).strip("/"))

    def __truediv__(self, other: str) -> ArtefactPath:
        return self.joinpath(other)

    def resolve(self) -> ArtefactPath:
        """``..`` and ``.`` collapsed (there are no links); going above the store's top is refused."""
        normal = posixpath.normpath(self._key) if self._key else ""
        if normal == ".":
            normal = ""
        if normal.startswith(("../", "/")) or normal == "..":
            raise ArtefactKeyRefused(f"{self._key!r} leads out of the store")
        return ArtefactPath(self._store, normal)

    def is_relative_to(self, other: ArtefactPath) -> bool:
        if other._store is not self._store:
            return False
        return not other._key or self._key == other._key or self._key.startswith(other._key + "/")

    def relative_to(self, other: ArtefactPath) -> PurePosixPath:
        if not self.is_relative_to(other):
            raise ValueError(f"{self._key!r} is not below {other._key!r}")
        return PurePosixPath(self._key[len(other._key) :].lstrip("/") or ".")

    def exists(self) -> bool:
        return self.is_file() or self.is_dir()

    def is_file(self) -> bool:
        return bool(self._key) and self._store.exists(self._key)

    def is_dir(self) -> bool:
        return self._store.is_folder(self._key)

    def stat(self) -> _Stat:
        return _Stat(self._store.size(self._key), stat_module.S_IFREG | 0o444)

    def open(self, mode: str = "r", encoding: str | None = None) -> IO[Any]:
        if mode not in ("r", "rb", "rt"):
            raise ArtefactError(f"{self}: artefacts are read-only (mode {mode!r})")
        raw = self._store.open(self._key)
        buffered = io.BufferedReader(raw, buffer_size=min(raw._block, 1024 * 1024))
        if mode == "rb":
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8")

    def read_bytes(self, limit: int = 256 * 1024 * 1024) -> bytes:
        return self._store.read_bytes(self._key, limit)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def _below(self, recursive: bool) -> Iterator[str]:
        base = self._key
        for key in self._store.list(base):
            relative = key[len(base) :].lstrip("/") if base else key
            if recursive or "/" not in relative:
                yield relative

    def glob(self, pattern: str) -> Iterator[ArtefactPath]:
        """Files matching ``pattern``; a pattern with folders (``data/x*.jsonl``) matches part by part."""
        depth = pattern.count("/")
        for relative in self._below(recursive=True):
            if relative.count("/") == depth and fnmatch.fnmatchcase(relative, pattern):
                yield self / relative

    def rglob(self, pattern: str) -> Iterator[ArtefactPath]:
        for relative in self._below(recursive=True):
            if fnmatch.fnmatchcase(posixpath.basename(relative), pattern):
                yield self / relative

    def iterdir(self) -> Iterator[ArtefactPath]:
        seen: set[str] = set()
        for relative in self._below(recursive=True):
            first = relative.split("/", 1)[0]
            if first not in seen:
                seen.add(first)
                yield self / first

    def __str__(self) -> str:
        return self._store.describe(self._key)

    def __repr__(self) -> str:
        return f"ArtefactPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtefactPath) and other._store is self._store and other._key == self._key

    def __hash__(self) -> int:
        return hash((id(self._store), self._key))

    def __lt__(self, other: ArtefactPath) -> bool:
        return self._key < other._key


# --- the local file system ----------------------------------------------------------------------


class LocalArtefactStore(ArtefactStore):
    """A folder. Keys are paths below it; a key whose real path leaves the folder (a link) is refused
    with ``ArtefactOutside``, never read."""

    def __init__(self, root: Path, block_bytes: int = DEFAULT_BLOCK_BYTES) -> None:
        self.root = root.resolve()
        self.block_bytes = block_bytes

    def _file(self, key: str) -> Path:
        path = self.root.joinpath(*clean_key(key).split("/"))
        if not path.exists():
            raise ArtefactMissing(f"nothing at {key!r}")
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise ArtefactOutside(f"{key!r} is a link leading out of {self.root}")
        if not resolved.is_file():
            raise ArtefactMissing(f"{key!r} is not a regular file")
        return resolved

    def size(self, key: str) -> int:
        return self._file(key).stat().st_size

    def open_range(self, key: str, offset: int, length: int) -> bytes:
        with self._file(key).open("rb") as handle:
            handle.seek(offset)
            return handle.read(length)

    def list(self, prefix: str = "") -> list[str]:
        base = self.root.joinpath(*clean_key(prefix, allow_empty=True).split("/")) if prefix else self.root
        if not base.is_dir():
            return []
        found = []
        for directory, _, files in os.walk(base):
            for name in files:
                found.append(Path(directory, name).relative_to(self.root).as_posix())
        return sorted(found)

    def child(self, prefix: str) -> LocalArtefactStore:
        """Refused (``ArtefactKeyRefused``) if the folder is reached through a link."""
        directory = self.root.joinpath(*clean_key(prefix).split("/"))
        if directory.resolve() != directory:
            raise ArtefactKeyRefused(f"{prefix!r} resolves elsewhere (a link)")
        return LocalArtefactStore(directory, self.block_bytes)

    def describe(self, key: str = "") -> str:
        return str(self.root / key) if key else str(self.root)

    def local_path(self, key: str = "") -> Path:
        return self.root / clean_key(key, allow_empty=True) if key else self.root

    def open(self, key: str) -> RangeReader:
        self._file(key)  # the link check
        return super().open(key)
