"""Run a real Triton Inference Server (CPU only) from the binary in the nvidia-pytriton wheel.

The wheel ships ``tritonserver`` (2.51), the Python backend and one Python-backend stub per
Python version, but not laid out the way the server expects: the backend directory must hold
``libtriton_python.so``, ``triton_python_backend_utils.py`` *and* ``triton_python_backend_stub``
side by side. pytriton copies the tree into a workspace for that; here the three files are
copied once into a per-user cache directory (:func:`prepare_backend_directory`).

Two environment details matter (see :func:`tritonserver_env`):

* the stub links ``libpython3.X.so``; the interpreter's ``LIBDIR`` must come first on
  ``LD_LIBRARY_PATH`` or the system libpython is picked and model loading fails with
  ``RLock._recursion_count`` errors;
* the embedded interpreter finds its ``sys.path`` through the ``python3`` on ``PATH``, so the
  current environment's ``bin`` goes first on ``PATH`` (models then see this venv's numpy).

Run in the foreground: ``python -m fmc_devrunner.triton --http-port N --grpc-port M --metrics-port K``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType
from typing import IO

import httpx

from fmc_devrunner.ports import LOOPBACK

DEFAULT_MODEL_REPOSITORY = Path(__file__).resolve().parent / "model_repository"
"""The demo repository shipped with the dev runner (model ``demo-lm``)."""

STUB_NAME = "triton_python_backend_stub"
PYTHON_BACKEND_FILES = ("libtriton_python.so", "triton_python_backend_utils.py")
EXIT_TIMEOUT_SECS = 5
"""Passed as ``--exit-timeout-secs``: how long Triton waits for in-flight work on SIGTERM."""
LOG_TAIL_LINES = 40
SHM_DIR = Path("/dev/shm")  # noqa: S108 - POSIX shm mount; only our own random prefix is removed


@dataclass(frozen=True)
class TritonPaths:
    """Where the pieces of Triton live inside the installed nvidia-pytriton distribution."""

    pytriton_version: str
    server_dir: Path
    """``pytriton/tritonserver``."""
    binary: Path
    """``pytriton/tritonserver/bin/tritonserver``."""
    backends_dir: Path
    """The wheel's backend directory (its ``python/`` lacks the stub, so not usable as is)."""
    python_backend_dir: Path
    """``backends/python``: ``libtriton_python.so`` and ``triton_python_backend_utils.py``."""
    stub: Path
    """The Python-backend stub built for the running interpreter's ``major.minor``."""
    libs_dir: Path
    """Vendored shared libraries (``nvidia_pytriton.libs``)."""
    python_libdir: Path | None
    """``sysconfig`` LIBDIR holding this interpreter's ``libpython3.X.so`` (None if not a shared build)."""
    python_bin_dir: Path
    """The ``bin`` directory of the running environment (venv), put first on ``PATH``."""


@cache
def tritonserver_paths() -> TritonPaths:
    """Locate tritonserver, its backends and the matching stub in the installed pytriton.

    Uses ``importlib`` without importing pytriton itself (that import is slow and noisy).
    Raises :class:`FileNotFoundError` when pytriton is missing or lacks a stub for this Python.
    """
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nvidia-pytriton is not installed in this environment")
    package_dir = Path(next(iter(spec.submodule_search_locations))).resolve()
    server_dir = package_dir / "tritonserver"
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"

    libs_dir = package_dir.parent / "nvidia_pytriton.libs"
    if not libs_dir.is_dir():  # editable install of pytriton
        libs_dir = server_dir / "external_libs"

    libdir = sysconfig.get_config_var("LIBDIR")
    soname = sysconfig.get_config_var("INSTSONAME")
    python_libdir: Path | None = None
    if isinstance(libdir, str) and isinstance(soname, str) and (Path(libdir) / soname).exists():
        python_libdir = Path(libdir)

    paths = TritonPaths(
        pytriton_version=importlib.metadata.version("nvidia-pytriton"),
        server_dir=server_dir,
        binary=server_dir / "bin" / "tritonserver",
        backends_dir=server_dir / "backends",
        python_backend_dir=server_dir / "backends" / "python",
        stub=server_dir / "python_backend_stubs" / python_version / STUB_NAME,
        libs_dir=libs_dir,
        python_libdir=python_libdir,
        python_bin_dir=Path(sys.exec_prefix) / "bin",
    )
    required = [paths.binary, paths.stub, *(paths.python_backend_dir / name for name in PYTHON_BACKEND_FILES)]
    missing = [str(path) for path in required if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"nvidia-pytriton {paths.pytriton_version} lacks files needed for Python {python_version}: "
            + ", ".join(missing)
        )
    return paths


def _default_cache_root() -> Path:
    explicit = os.environ.get("FMC_DEVRUNNER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "fmc-devrunner"


def _backend_dir_is_complete(backend_dir: Path, paths: TritonPaths) -> bool:
    sources = [paths.stub, *(paths.python_backend_dir / name for name in PYTHON_BACKEND_FILES)]
    for source in sources:
        target = backend_dir / "python" / source.name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            return False
    return os.access(backend_dir / "python" / STUB_NAME, os.X_OK)


def prepare_backend_directory(paths: TritonPaths | None = None, cache_root: Path | None = None) -> Path:
    """Return a ``--backend-directory`` whose ``python/`` holds backend, utils and stub together.

    Staged once under ``$FMC_DEVRUNNER_CACHE_DIR`` (default ``~/.cache/fmc-devrunner``), keyed by
    pytriton version, Python version and install location; later calls only check it. Staging
    goes through a temporary directory and an atomic rename, so concurrent callers are safe.
    """
    paths = paths or tritonserver_paths()
    root = cache_root or _default_cache_root()
    location = hashlib.sha256(str(paths.server_dir).encode()).hexdigest()[:10]
    key = f"pytriton-{paths.pytriton_version}-py{sys.version_info.major}{sys.version_info.minor}-{location}"
    backend_dir = root / "triton-backends" / key
    if _backend_dir_is_complete(backend_dir, paths):
        return backend_dir

    backend_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=backend_dir.parent))
    try:
        (staging / "python").mkdir()
        for name in PYTHON_BACKEND_FILES:
            shutil.copy2(paths.python_backend_dir / name, staging / "python" / name)
        shutil.copy2(paths.stub, staging / "python" / STUB_NAME)
        (staging / "python" / STUB_NAME).chmod(0o755)
        if backend_dir.exists():
            if _backend_dir_is_complete(backend_dir, paths):  # a concurrent caller finished first
                return backend_dir
            shutil.rmtree(backend_dir, ignore_errors=True)  # stale or partial copy
        try:
            staging.rename(backend_dir)
        except OSError:
            if not _backend_dir_is_complete(backend_dir, paths):  # lost a race to a broken copy
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return backend_dir


def tritonserver_env(
    paths: TritonPaths | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for tritonserver: ``base`` (default ``os.environ``) plus library and PATH fixes.

    ``LD_LIBRARY_PATH`` gets the interpreter's LIBDIR (for the stub's libpython) and the wheel's
    vendored libs (the staged stub/backend copies lose their ``$ORIGIN`` RPATH) prepended;
    ``PATH`` gets the running environment's ``bin`` prepended.
    """
    paths = paths or tritonserver_paths()
    env = dict(os.environ if base is None else base)
    library_dirs = [str(d) for d in (paths.python_libdir, paths.libs_dir) if d is not None]
    if env.get("LD_LIBRARY_PATH"):
        library_dirs.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(library_dirs)
    env["PATH"] = os.pathsep.join([str(paths.python_bin_dir), *filter(None, [env.get("PATH")])])
    return env


def tritonserver_command(
    model_repository: Path,
    http_port: int,
    grpc_port: int,
    metrics_port: int,
    *,
    load_models: Sequence[str] = ("*",),
    address: str = LOOPBACK,
    backend_dir: Path | None = None,
    shm_region_prefix: str | None = None,
    log_verbose: int = 0,
) -> list[str]:
    """The tritonserver argv: CPU only, listening on ``address`` (loopback by default).

    Models are loaded explicitly at startup (``load_models``; ``"*"`` = every model in the
    repository; none: the server starts empty, as the pools do in production) and may be
    loaded/unloaded later through the repository API. Readiness is strict
    and any startup error (including a model that fails to load) makes the server exit.
    ``backend_dir`` defaults to :func:`prepare_backend_directory` (which may copy files once).
    """
    paths = tritonserver_paths()
    backend_dir = backend_dir or prepare_backend_directory(paths)
    command = [
        str(paths.binary),
        f"--model-repository={model_repository.resolve()}",
        f"--backend-directory={backend_dir}",
        "--model-control-mode=explicit",
        *(f"--load-model={name}" for name in load_models),
        "--strict-readiness=true",
        "--exit-on-error=true",
        f"--exit-timeout-secs={EXIT_TIMEOUT_SECS}",
        "--allow-http=true",
        f"--http-address={address}",
        f"--http-port={http_port}",
        "--allow-grpc=true",
        f"--grpc-address={address}",
        f"--grpc-port={grpc_port}",
        "--allow-metrics=true",
        "--allow-gpu-metrics=false",
        "--allow-cpu-metrics=true",
        f"--metrics-address={address}",
        f"--metrics-port={metrics_port}",
        "--pinned-memory-pool-byte-size=0",
        "--cuda-memory-pool-byte-size=0:0",
        f"--log-verbose={log_verbose}",
    ]
    if shm_region_prefix:
        command.append(f"--backend-config=python,shm-region-prefix-name={shm_region_prefix}")
    return command


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a text file ("" if it does not exist)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except FileNotFoundError:
        return ""


class TritonProcess:
    """One tritonserver subprocess in its own process group, logging to a file.

    ``start()`` → ``await wait_ready()`` (or ``wait_ready_sync()``) → ... → ``stop()``.
    ``stop()`` is idempotent and also reaps the Python-backend stubs and their shared memory.
    """

    def __init__(
        self,
        http_port: int,
        grpc_port: int,
        metrics_port: int,
        model_repository: Path = DEFAULT_MODEL_REPOSITORY,
        *,
        load_models: Sequence[str] = ("*",),
        backend_dir: Path | None = None,
        log_verbose: int = 0,
    ) -> None:
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.metrics_port = metrics_port
        self.model_repository = model_repository
        self.load_models = tuple(load_models)
        self.backend_dir = backend_dir
        self.log_verbose = log_verbose
        self.shm_region_prefix = f"fmc-triton-{secrets.token_hex(4)}-"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        """``host:port`` as tritonclient.grpc expects it."""
        return f"{LOOPBACK}:{self.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{LOOPBACK}:{self.metrics_port}/metrics"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        return tritonserver_command(
            self.model_repository,
            self.http_port,
            self.grpc_port,
            self.metrics_port,
            load_models=self.load_models,
            backend_dir=self.backend_dir,
            shm_region_prefix=self.shm_region_prefix,
            log_verbose=self.log_verbose,
        )

    def start(self, log_path: Path) -> None:
        """Spawn tritonserver (stdout and stderr appended to ``log_path``); returns immediately."""
        if self._process is not None:
            raise RuntimeError("TritonProcess.start() called twice")
        if not self.model_repository.is_dir():
            raise FileNotFoundError(f"model repository not found: {self.model_repository}")
        command = self.command()
        env = tritonserver_env()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_path = log_path
        self._log_file = log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            self._log_file.close()
            self._log_file = None
            raise

    async def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll ``GET /v2/health/ready`` until 200; return the seconds waited.

        Raises :class:`RuntimeError` (with the log tail) if the server exits or ``timeout``
        passes first. The process is left as it is; call :meth:`stop`.
        """
        process = self._require_process()
        loop = asyncio.get_running_loop()
        started = loop.time()
        url = f"{self.http_url}/v2/health/ready"
        # trust_env=False: never send loopback health checks through an HTTP(S)_PROXY.
        async with httpx.AsyncClient(timeout=httpx.Timeout(2.0), trust_env=False) as client:
            while True:
                code = process.poll()
                if code is not None:
                    raise RuntimeError(self._failure(f"tritonserver exited with code {code} before ready"))
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(url)).status_code == httpx.codes.OK:
                        return loop.time() - started
                if loop.time() - started >= timeout:
                    raise RuntimeError(self._failure(f"tritonserver not ready after {timeout:.1f}s"))
                await asyncio.sleep(0.1)

    def wait_ready_sync(self, timeout: float = 60.0) -> float:
        """Blocking :meth:`wait_ready` (must not be called from a running event loop)."""
        return asyncio.run(self.wait_ready(timeout))

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after ``timeout`` s; return the exit code.

        Idempotent; a no-op (returning None) if never started. Stub processes left in the group
        are killed and the backend's shared-memory regions removed.
        """
        process = self._process
        if process is None:
            return None
        pgid = process.pid  # start_new_session=True: the server leads its own group
        if process.poll() is None:
            _signal_group(pgid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(pgid, signal.SIGKILL)
                process.wait()
        _reap_group(pgid)
        for region in SHM_DIR.glob(f"{self.shm_region_prefix}*"):
            region.unlink(missing_ok=True)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return process.returncode

    def _require_process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("TritonProcess not started")
        return self._process

    def _failure(self, message: str) -> str:
        log = tail(self._log_path) if self._log_path else ""
        return f"{message}; log {self._log_path} (last {LOG_TAIL_LINES} lines):\n{log}"


def _signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to a process group; False if the group no longer exists."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def live_group_members(pgid: int) -> list[int]:
    """PIDs in process group ``pgid`` that are not zombies (Linux ``/proc``).

    Zombies are skipped: once the server is gone its stubs are re-parented to PID 1, which in a
    container may never reap them, and a zombie holds no resources.
    """
    members: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # exited while scanning
            continue
        # fields after "(comm)": state, ppid, pgrp, ...
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _reap_group(pgid: int, grace: float = 2.0) -> None:
    """Wait up to ``grace`` s for stragglers of a group whose leader exited, then SIGKILL them."""
    deadline = time.monotonic() + grace
    while live_group_members(pgid):
        if time.monotonic() >= deadline:
            _signal_group(pgid, signal.SIGKILL)
            return
        time.sleep(0.05)


class _StopRequested(BaseException):
    """Raised from the SIGTERM/SIGINT handler of :func:`main` (like KeyboardInterrupt)."""


def _raise_stop_requested(signum: int, _frame: FrameType | None) -> None:
    raise _StopRequested(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run tritonserver in the foreground until SIGTERM/SIGINT, then stop it cleanly."""
    parser = argparse.ArgumentParser(prog="python -m fmc_devrunner.triton", description=main.__doc__)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--model-repository", type=Path, default=DEFAULT_MODEL_REPOSITORY)
    parser.add_argument(
        "--load-model", action="append", dest="load_models", help="model to load (repeatable; default all)"
    )
    parser.add_argument("--log-file", type=Path, help="tritonserver log (default: a file in the temp dir)")
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    parser.add_argument("--log-verbose", type=int, default=0)
    args = parser.parse_args(argv)

    log_path: Path = args.log_file or Path(tempfile.gettempdir()) / f"fmc-tritonserver-{args.http_port}.log"
    server = TritonProcess(
        args.http_port,
        args.grpc_port,
        args.metrics_port,
        args.model_repository,
        load_models=args.load_models or ("*",),
        log_verbose=args.log_verbose,
    )
    signal.signal(signal.SIGTERM, _raise_stop_requested)
    signal.signal(signal.SIGINT, _raise_stop_requested)
    print(f"starting tritonserver (log: {log_path})", flush=True)
    try:
        server.start(log_path)
        elapsed = server.wait_ready_sync(args.ready_timeout)
        print(
            f"tritonserver ready in {elapsed:.2f}s: http {server.http_url} grpc {server.grpc_url} "
            f"metrics {server.metrics_url} (pid {server.pid})",
            flush=True,
        )
        while server.is_running():
            time.sleep(0.5)
        print(f"tritonserver exited by itself with code {server.returncode}:", file=sys.stderr)
        print(tail(log_path), file=sys.stderr, end="")
        return 1
    except _StopRequested:
        return 0
    except (RuntimeError, OSError) as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not abort the shutdown
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = server.stop()
        print(f"tritonserver stopped (exit code {code})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
