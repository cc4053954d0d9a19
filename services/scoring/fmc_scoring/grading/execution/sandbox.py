"""The sandbox's command lines (pure: settings in, argv out; nothing is run here).

Development and tests use Debian's bubblewrap: every namespace unshared (no network: the sandbox
has only its own loopback; no view of the host's processes), the bwrap process dies with its
parent, a new session (no terminal to inject into), no capabilities, an empty environment. The file
system is empty apart from read-only binds of the Python runtime (the interpreter, its standard
library and the shared libraries it loads) and a tmpfs at ``/tmp``, the only writable place and the
working directory. Limits are set by the program inside on itself before anything else runs
(``inside.py``); the host adds the wall clock and the output cap (``runner.py``).

``plain_command`` is the same program without the sandbox: only for measuring what the sandbox
costs (bench/grading_throughput.py) and for showing, in tests, what it prevents.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources

# The sandbox's own tmpfs, not the host's /tmp: the one writable place inside.
SCRATCH = "/tmp"  # noqa: S108


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 5
    memory_bytes: int = 512 * 1024 * 1024
    processes: int = 16
    file_bytes: int = 16 * 1024 * 1024
    wall_seconds: float = 10.0
    output_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class Runtime:
    """The interpreter run in the sandbox and the directories it needs, bound read-only."""

    python: str = "/usr/bin/python3"
    binds: tuple[str, ...] = ("/usr/lib/python3.11", "/usr/lib/x86_64-linux-gnu", "/usr/lib64")
    bwrap: str = "/usr/bin/bwrap"


def inside_source() -> str:
    return resources.files("fmc_scoring.grading.execution").joinpath("inside.py").read_text(encoding="utf-8")


def inner_command(runtime: Runtime, limits: Limits, source: str) -> list[str]:
    """``-I``: no environment, no user site; ``-S``: no site packages, the standard library only."""
    sizes = (limits.cpu_seconds, limits.memory_bytes, limits.processes, limits.file_bytes)
    return [os.path.realpath(runtime.python), "-I", "-S", "-c", source, *(str(v) for v in sizes)]


def bwrap_command(runtime: Runtime, limits: Limits, source: str) -> list[str]:
    python = os.path.realpath(runtime.python)
    binds = [arg for path in (python, *runtime.binds) for arg in ("--ro-bind", path, path)]
    return [
        runtime.bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--setenv",
        "HOME",
        SCRATCH,
        "--hostname",
        "sandbox",
        *binds,
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        SCRATCH,
        "--chdir",
        SCRATCH,
        # Last: the root the binds were made in becomes read-only too; /tmp stays the one writable place.
        "--remount-ro",
        "/",
        "--",
        *inner_command(runtime, limits, source),
    ]


def plain_command(runtime: Runtime, limits: Limits, source: str) -> list[str]:
    return inner_command(runtime, limits, source)
