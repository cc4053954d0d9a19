"""Where a run's items may come from: a URL under a configured base, or a file below the items directory.

A caller names the items of a run (REST, the ``InferenceRunRequested`` event); the gateway fetches
them with its items token. Without this rule a caller could make the gateway send that token, and
requests, anywhere. So a reference is accepted only when it is

* ``http(s)://`` with exactly the scheme, host and port of a base in ``FMC_GATEWAY_ITEMS_ALLOWED_URLS``
  and a path under the base's path (whole segments: ``/v1/runs`` does not admit ``/v1/runsx``), and
  no userinfo. The URL is read with httpx's own parser, the one that sends the request, so what is
  checked is what is fetched; httpx removes ``.``/``..`` segments before the check, and a segment that
  decodes to ``.``/``..``, to something holding ``/``, ``\\`` or ``%`` (double encoding), or to a
  control character is refused outright, whatever a server downstream would make of it;
* ``file://`` (or an absolute path) below ``FMC_GATEWAY_ITEMS_DIRECTORY``, with no ``..`` segment.
  Symbolic links are resolved when the file is read (``items.py``), not here.

Nothing else: no base configured means no HTTP source at all. ``check`` is called at the edge (the
run is refused with ``422 uri-not-allowed``) and again just before a fetch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx

from fmc_common.errors import InvalidInput

DEFAULT_PORTS = {"http": 80, "https": 443}


class UriNotAllowed(InvalidInput):
    code = "uri-not-allowed"
    title = "The items reference points somewhere this gateway does not fetch from"


@dataclass(frozen=True)
class _Base:
    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]

    def admits(self, url: httpx.URL, segments: tuple[str, ...]) -> bool:
        return (
            url.scheme == self.scheme
            and url.host == self.host
            and _port(url) == self.port
            and segments[: len(self.segments)] == self.segments
        )


@dataclass(frozen=True)
class HttpSource:
    url: httpx.URL
    """The parsed URL to request as it is (parsing it again could read it differently)."""


@dataclass(frozen=True)
class FileSource:
    path: Path


ItemsTarget = HttpSource | FileSource


class ItemsSources:
    """The configured sources; ``check`` turns a reference into the one thing to fetch, or refuses it."""

    def __init__(self, allowed_urls: Iterable[str], directory: Path | None) -> None:
        self._bases = tuple(_parse_base(url) for url in allowed_urls)
        self._directory = directory

    @property
    def directory(self) -> Path | None:
        return self._directory

    def check(self, uri: str) -> ItemsTarget:
        scheme = urlsplit(uri).scheme.lower()
        if scheme in DEFAULT_PORTS:
            return HttpSource(self._check_http(uri))
        if scheme in ("file", ""):
            return FileSource(self._check_file(uri, is_url=scheme == "file"))
        raise UriNotAllowed(f"items references are http(s):// or file://, not {scheme!r}", uri=uri)

    def _check_http(self, uri: str) -> httpx.URL:
        try:
            url = httpx.URL(uri)
        except httpx.InvalidURL as exc:
            raise UriNotAllowed(f"the items URL cannot be read: {exc}", uri=uri) from exc
        if url.userinfo:
            raise UriNotAllowed("the items URL must not carry a user or password", uri=uri)
        segments = _segments(url.raw_path.split(b"?", 1)[0].decode("ascii"))
        if segments is None:
            raise UriNotAllowed("the items URL's path holds an encoded or dot segment", uri=uri)
        if not any(base.admits(url, segments) for base in self._bases):
            raise UriNotAllowed(
                "the items URL is under none of the gateway's allowed bases (FMC_GATEWAY_ITEMS_ALLOWED_URLS)",
                uri=uri,
            )
        return url

    def _check_file(self, uri: str, is_url: bool) -> Path:
        if self._directory is None:
            raise UriNotAllowed(
                "file references are not enabled on this gateway (FMC_GATEWAY_ITEMS_DIRECTORY)", uri=uri
            )
        parts = urlsplit(uri)
        if is_url and (parts.netloc not in ("", "localhost") or parts.query or parts.fragment):
            raise UriNotAllowed("a file reference names a local path and nothing else", uri=uri)
        text = unquote(parts.path) if is_url else uri
        path = PurePosixPath(text)
        if "\x00" in text or "\\" in text or not path.is_absolute() or ".." in path.parts:
            raise UriNotAllowed("a file reference is an absolute path without '..'", uri=uri)
        roots = {self._directory.absolute(), self._directory.resolve()}
        if not any(Path(path).is_relative_to(root) for root in roots):
            raise UriNotAllowed(f"file references must be below {self._directory}", uri=uri)
        return Path(path)


def _segments(raw_path: str) -> tuple[str, ...] | None:
    """The decoded path segments (an empty last one dropped), or None if one could mean something else."""
    if "\\" in raw_path:
        return None
    decoded = []
    for raw in raw_path.split("/")[1:]:
        try:
            segment = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if (
            segment in (".", "..")
            or any(c in segment for c in "/\\%")
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in segment)
        ):
            return None
        decoded.append(segment)
    if decoded and decoded[-1] == "":
        decoded.pop()
    return tuple(decoded)


def _port(url: httpx.URL) -> int:
    return url.port if url.port is not None else DEFAULT_PORTS[url.scheme]


def _parse_base(text: str) -> _Base:
    """A configured base: ``http(s)://host[:port][/path]``, nothing more (refused at start otherwise)."""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise ValueError(f"FMC_GATEWAY_ITEMS_ALLOWED_URLS: {text!r} is not a URL: {exc}") from exc
    segments = _segments(url.raw_path.decode("ascii")) if not url.query else None
    if url.scheme not in DEFAULT_PORTS or not url.host or url.userinfo or url.fragment or segments is None:
        raise ValueError(
            f"FMC_GATEWAY_ITEMS_ALLOWED_URLS: {text!r} must be http(s)://host[:port][/path], "
            "without user, query, fragment, dot or encoded segments"
        )
    return _Base(url.scheme, url.host, _port(url), segments)
