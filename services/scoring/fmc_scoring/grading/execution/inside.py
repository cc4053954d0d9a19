"""The program that runs inside the sandbox (stdlib only; passed to ``python -I -S -c``).

Order matters, and is the point of this file:

1. the limits are set on itself (CPU seconds, address space, processes, file size, no core), so
   that the candidate inherits them and cannot raise them;
2. the whole request (one JSON line: candidate, tests, entry point, nonce) is read from stdin and
   stdin is closed: the tests are never a file, so nothing in the sandbox can ``open()`` them, and
   the candidate finds nothing left to read;
3. the tests are compiled, then the candidate's module is executed, then the tests run in its
   namespace (HumanEval's way: the tests call the function by name, or ``candidate``);
4. only when every assert held is the nonce printed, last: a candidate that exits early with status
   0 never printed it, so it cannot pass by exiting.

The exit status tells the host what happened (``EXIT_*``).
"""

from __future__ import annotations

import json
import os
import resource
import sys
from typing import Any

EXIT_PASSED = 0
EXIT_TESTS_FAILED = 10
EXIT_RUNTIME_ERROR = 11
EXIT_MEMORY = 12
EXIT_BAD_REQUEST = 13


def _limit(cpu_seconds: int, memory_bytes: int, processes: int, file_bytes: int) -> None:
    for which, value in (
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_NPROC, processes),
        (resource.RLIMIT_FSIZE, file_bytes),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))


def _run(request: dict[str, Any]) -> int:
    tests = compile(str(request["tests"]), "<tests>", "exec")
    try:
        candidate = compile(str(request["candidate"]), "<candidate>", "exec")
    except (SyntaxError, ValueError) as exc:
        print(f"candidate does not compile: {exc}", file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    nonce = str(request["nonce"])
    entry_point = request.get("entry_point")
    del request
    namespace: dict[str, Any] = {"__name__": "candidate"}
    stage = "candidate"
    try:
        exec(candidate, namespace)  # noqa: S102 - running it is the point, inside the sandbox
        if entry_point is not None:
            if not callable(namespace.get(entry_point)):
                print(f"no function {entry_point!r} defined", file=sys.stderr)
                return EXIT_RUNTIME_ERROR
            namespace["candidate"] = namespace[entry_point]
        stage = "tests"
        exec(tests, namespace)  # noqa: S102
    except AssertionError:
        return EXIT_TESTS_FAILED if stage == "tests" else EXIT_RUNTIME_ERROR
    except MemoryError:
        return EXIT_MEMORY
    except BaseException as exc:
        print(f"{stage} raised {type(exc).__name__}: {exc}"[:2000], file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    sys.stdout.flush()
    sys.stdout.write("\n" + nonce + "\n")
    sys.stdout.flush()
    return EXIT_PASSED


def main() -> None:
    cpu, memory, processes, file_bytes = (int(value) for value in sys.argv[1:5])
    _limit(cpu, memory, processes, file_bytes)
    # No name keeps the request alive in this frame: once _run drops it, only compiled code remains.
    os._exit(_run(_read_request()))


def _read_request() -> dict[str, Any]:
    try:
        request: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    except (ValueError, MemoryError):
        os._exit(EXIT_BAD_REQUEST)
    sys.stdin.close()
    return request


if __name__ == "__main__":
    main()
