"""Opening a submission's files without trusting them: regular files inside the root, nothing else.

Every file the check reads is opened relative to the submission's root, one path component at a
time (``openat`` with ``O_NOFOLLOW``): a symbolic link anywhere below the root, a ``..`` component or
an absolute path is refused, so a link can never lead the reader out of the submission (or to
another file of it under a second name). The file itself is opened with ``O_NONBLOCK`` and checked
with ``fstat`` before a byte is read: a FIFO, a socket or a device is refused at once instead of
blocking the check. The root itself may be reached through a link (an operator's choice of path);
nothing below it may.

Errors name the file (its path relative to the root) and the rule it broke, never its content.

An artefact store's path-like view (``fmc_common.artefacts.ArtefactPath``, an S3 bucket) has no
links, FIFOs or devices: its keys are checked to lie below the root and read through bounded ranged
requests; the reader's caps and header checks apply to both.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO, cast

from fmc_common.artefacts import ArtefactKeyRefused, ArtefactPath


class RefusedFile(ValueError):
    """A file the reader will not open (not a regular file inside the root). The message has no content."""

    def __init__(self, shown: str, rule: str) -> None:
        super().__init__(f"{shown}: {rule}")
        self.shown = shown
        self.rule = rule


def relative_parts(path: Path, root: Path) -> tuple[str, ...]:
    """The components of ``path`` below ``root`` (lexically: neither is resolved), refused if outside."""
    if isinstance(path, ArtefactPath):
        return _key_parts(path, root)
    try:
        relative = PurePosixPath(os.path.relpath(path, root))
    except ValueError as exc:  # another drive: cannot happen on POSIX, kept for the type checker
        raise RefusedFile(path.name, "lies outside the submission's root") from exc
    parts = relative.parts
    if not parts or relative.is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise RefusedFile(path.name, "lies outside the submission's root")
    return parts


def _key_parts(path: ArtefactPath, root: object) -> tuple[str, ...]:
    """The components of an artefact key below the root's key (``..`` collapsed, never above the root)."""
    try:
        resolved = path.resolve()
    except ArtefactKeyRefused:
        raise RefusedFile(path.name, "lies outside the submission's root") from None
    if not isinstance(root, ArtefactPath) or resolved == root or not resolved.is_relative_to(root):
        raise RefusedFile(path.name, "lies outside the submission's root")
    return resolved.relative_to(root).parts


def open_regular(path: Path, root: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file below ``root`` reached without any link."""
    parts = relative_parts(path, root)
    shown = "/".join(parts)
    if isinstance(path, ArtefactPath):  # an object store: no links, no FIFOs; ranged reads
        if not path.is_file():
            raise RefusedFile(shown, "does not exist")
        return cast(BinaryIO, path.open("rb"))
    flags = os.O_RDONLY | os.O_CLOEXEC
    try:
        directory = os.open(root, flags | os.O_DIRECTORY)
    except OSError:
        raise RefusedFile(
            root.name or str(root), "the submission's root is not a readable directory"
        ) from None
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, flags | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
            except OSError as exc:
                raise RefusedFile(shown, _why(exc, "a folder on its path")) from None
            os.close(directory)
            directory = inner
        try:
            fd = os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
        except OSError as exc:
            raise RefusedFile(shown, _why(exc, "the file")) from None
    finally:
        os.close(directory)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise RefusedFile(shown, f"is not a regular file ({_kind(mode)})")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def is_regular_below(path: Path, root: Path) -> bool:
    """Whether ``open_regular`` would open ``path`` (for listings; reading still goes through it)."""
    try:
        open_regular(path, root).close()
    except RefusedFile:
        return False
    return True


def _why(exc: OSError, what: str) -> str:
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return f"{what} is a symbolic link (links are never followed)"
    if exc.errno == errno.ENOTDIR:
        return f"{what} is not a directory or is a link to one"
    if exc.errno == errno.ENOENT:
        return "does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "is not readable"
    return f"cannot be opened (errno {exc.errno})"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a plain file"
