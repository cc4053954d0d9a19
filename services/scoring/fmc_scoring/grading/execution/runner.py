"""Running one candidate against its tests, off the event loop, and classifying what happened.

The process is started in a session of its own; on the wall-clock timeout or when its output
passes the cap, the whole process group is killed (bwrap's child dies with it, and with the pid
namespace every process the candidate forked). ``Executor`` bounds how many run at once.

When the service runs as root, the sandbox is started as an unprivileged user (``run_as``):
the kernel does not enforce the process limit on root, which would leave a fork bomb unbounded.
The user is dropped by ``setpriv`` (util-linux) in front of bwrap, not by ``subprocess``'s
``user=``: that makes Python fork without vfork, and the fork handlers of libraries with threads
of their own (gRPC's event engine) then run in the child and can crash it before it executes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fmc_scoring.grading.execution import inside
from fmc_scoring.grading.execution.sandbox import Limits, Runtime, bwrap_command, inside_source, plain_command

SETPRIV = "/usr/bin/setpriv"
_CHUNK = 65_536
_AFTER_KILL_SECONDS = 5.0
_ATTEMPTS = 3
log = logging.getLogger(__name__)
_CPU_SIGNALS = {signal.SIGXCPU, signal.SIGKILL}


class Outcome(StrEnum):
    PASSED = "passed"
    TESTS_FAILED = "tests-failed"
    TIMEOUT = "timeout"
    RUNTIME_ERROR = "runtime-error"
    MEMORY_LIMIT = "memory-limit"
    OUTPUT_LIMIT = "output-limit"
    SANDBOX_ERROR = "sandbox-error"


@dataclass(frozen=True)
class Execution:
    outcome: Outcome
    returncode: int | None
    stdout: bytes
    stderr: bytes


@dataclass
class _Capture:
    timed_out: bool = False
    over: bool = False


class Executor:
    """Runs candidates, at most ``concurrency`` at once; ``sandboxed=False`` only for the bench."""

    def __init__(
        self,
        runtime: Runtime,
        limits: Limits,
        concurrency: int = 2,
        sandboxed: bool = True,
        run_as: int | None = None,
    ) -> None:
        self.runtime = runtime
        self.limits = limits
        self.sandboxed = sandboxed
        self.run_as = run_as
        self._slots = asyncio.Semaphore(concurrency)
        source = inside_source()
        build = bwrap_command if sandboxed else plain_command
        self._command = [*self._drop_privileges(), *build(runtime, limits, source)]

    async def run(self, candidate: str, tests: str, entry_point: str | None = None) -> Execution:
        nonce = secrets.token_hex(16)
        request = {"candidate": candidate, "tests": tests, "entry_point": entry_point, "nonce": nonce}
        payload = json.dumps(request).encode()
        async with self._slots:
            for _ in range(_ATTEMPTS):
                execution = await self._execute(payload, nonce)
                # The sandbox itself failing (not the candidate) is retried: it says nothing of the answer.
                if execution.outcome != Outcome.SANDBOX_ERROR:
                    break
                log.warning("sandbox failed to start: %s", execution.stderr[-500:].decode(errors="replace"))
            return execution

    def _drop_privileges(self) -> list[str]:
        if self.run_as is None or os.geteuid() != 0:
            return []
        user = str(self.run_as)
        return [SETPRIV, "--reuid", user, "--regid", user, "--clear-groups", "--"]

    async def _execute(self, payload: bytes, nonce: str) -> Execution:
        try:
            process = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return Execution(Outcome.SANDBOX_ERROR, None, b"", str(exc).encode())
        capture = _Capture()
        talk = asyncio.ensure_future(self._communicate(process, payload, capture))
        try:
            done, _ = await asyncio.wait({talk}, timeout=self.limits.wall_seconds)
            if not done:
                capture.timed_out = True
                _kill(process)
                # Dead processes close their pipes: the reads end, and the transport closes cleanly.
                await asyncio.wait({talk}, timeout=_AFTER_KILL_SECONDS)
        finally:
            if not talk.done():
                talk.cancel()
            if process.returncode is None:  # once reaped, its pid (and group id) may be another's
                _kill(process)
            await process.wait()
        out, err = talk.result() if talk.done() and not talk.cancelled() else (b"", b"")
        return Execution(classify(process.returncode, out, err, nonce, capture), process.returncode, out, err)

    async def _communicate(
        self, process: asyncio.subprocess.Process, payload: bytes, capture: _Capture
    ) -> tuple[bytes, bytes]:
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            process.stdin.write(payload)
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it exited without reading (bwrap refused to start): the status says why
        finally:
            process.stdin.close()

        def over() -> None:
            capture.over = True
            _kill(process)

        cap = self.limits.output_bytes
        out, err = await asyncio.gather(
            _read_capped(process.stdout, cap, over), _read_capped(process.stderr, cap, over)
        )
        await process.wait()
        return out, err


async def _read_capped(stream: asyncio.StreamReader, cap: int, over: Callable[[], None]) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            over()
            return b"".join(chunks)
        chunks.append(chunk)
    return b"".join(chunks)


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def classify(returncode: int | None, stdout: bytes, stderr: bytes, nonce: str, capture: _Capture) -> Outcome:
    """What the exit status and the output say; a pass needs both status 0 and the nonce, last."""
    if returncode == 1 and stderr.startswith(b"bwrap:"):  # bwrap could not set the sandbox up
        return Outcome.SANDBOX_ERROR
    if returncode in (126, 127) and stderr.startswith(b"setpriv:"):  # could not start bwrap at all
        return Outcome.SANDBOX_ERROR
    if capture.over:
        return Outcome.OUTPUT_LIMIT
    if capture.timed_out:
        return Outcome.TIMEOUT
    code = returncode if returncode is not None else -1
    # bwrap reports its child's death by signal n as status 128 + n; a plain process as -n.
    signalled = -code if code < 0 else code - 128 if code > 128 else 0
    if signalled in _CPU_SIGNALS:
        return Outcome.TIMEOUT
    if code == inside.EXIT_PASSED:
        passed = stdout.rstrip(b"\n").rsplit(b"\n", 1)[-1] == nonce.encode()
        return Outcome.PASSED if passed else Outcome.RUNTIME_ERROR
    return {
        inside.EXIT_TESTS_FAILED: Outcome.TESTS_FAILED,
        inside.EXIT_MEMORY: Outcome.MEMORY_LIMIT,
        inside.EXIT_BAD_REQUEST: Outcome.SANDBOX_ERROR,
    }.get(code, Outcome.RUNTIME_ERROR)
