"""The real sandbox (bubblewrap) running candidates: right and wrong code, and each escape attempt
contained as a failure of that item only. Where it shows what the sandbox prevents, the same code
is run without it (``plain``) and gets through."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from fmc_scoring.grading.execution.grade import grade_code
from fmc_scoring.grading.execution.runner import Executor, Outcome
from fmc_scoring.grading.execution.sandbox import Limits, Runtime
from fmc_scoring.grading.grader import GradeReason
from fmc_scoring.suites.service import demo_contents
from fmc_scoring.values import ItemKind
from support.eventually import eventually

LIMITS = Limits(cpu_seconds=2, memory_bytes=256 * 1024 * 1024, processes=16, wall_seconds=4.0)
ADD_TESTS = "assert add(1, 2) == 3\nassert add(-1, 1) == 0\n"
ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def sandbox() -> Executor:
    return Executor(Runtime(), LIMITS, concurrency=2, run_as=65534)


@pytest.fixture
def plain() -> Executor:
    return Executor(Runtime(), LIMITS, concurrency=2, sandboxed=False)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


def accepted(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


class TestAnswers:
    async def test_a_correct_function_passes(self, sandbox: Executor) -> None:
        assert (await sandbox.run(ADD, ADD_TESTS, "add")).outcome == Outcome.PASSED

    async def test_a_wrong_function_fails_its_tests(self, sandbox: Executor) -> None:
        wrong = "def add(a, b):\n    return a - b\n"
        assert (await sandbox.run(wrong, ADD_TESTS, "add")).outcome == Outcome.TESTS_FAILED

    async def test_tests_may_call_the_entry_point_as_candidate(self, sandbox: Executor) -> None:
        result = await sandbox.run(ADD, "assert candidate(2, 2) == 4\n", "add")
        assert result.outcome == Outcome.PASSED

    async def test_a_missing_entry_point_is_a_runtime_error(self, sandbox: Executor) -> None:
        result = await sandbox.run("def plus(a, b):\n    return a + b\n", ADD_TESTS, "add")
        assert result.outcome == Outcome.RUNTIME_ERROR

    async def test_exiting_with_status_zero_before_the_tests_does_not_pass(self, sandbox: Executor) -> None:
        result = await sandbox.run("import os\nos._exit(0)\n", ADD_TESTS, "add")
        assert result.outcome == Outcome.RUNTIME_ERROR


class TestEscapes:
    async def test_the_network_is_not_reachable(
        self, sandbox: Executor, plain: Executor, listener: socket.socket
    ) -> None:
        port = listener.getsockname()[1]
        reach = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n{ADD}"
        result = await sandbox.run(reach, ADD_TESTS, "add")
        assert result.outcome == Outcome.RUNTIME_ERROR
        assert b"ConnectionRefusedError" in result.stderr
        assert not accepted(listener)
        assert (await plain.run(reach, ADD_TESTS, "add")).outcome == Outcome.PASSED
        assert accepted(listener)

    async def test_a_fork_bomb_is_limited_and_leaves_nothing_running(self, sandbox: Executor) -> None:
        bomb = "import os\nwhile True:\n    os.fork()\n"
        result = await sandbox.run(bomb, ADD_TESTS, "add")
        assert result.outcome in {Outcome.RUNTIME_ERROR, Outcome.TIMEOUT}
        assert b"Resource temporarily unavailable" in result.stderr or result.outcome == Outcome.TIMEOUT
        # The machine is fine: the next item runs, and no process of the sandbox's user is left.
        assert (await sandbox.run(ADD, ADD_TESTS, "add")).outcome == Outcome.PASSED

        async def none_left() -> bool:
            return not _processes_of(65534)

        await eventually(none_left, timeout=10, what="no process of the sandbox's user left")

    async def test_writing_outside_the_scratch_directory_is_refused(
        self, sandbox: Executor, tmp_path: Path
    ) -> None:
        target = tmp_path / "escaped.txt"
        for path in (target, Path("/usr/lib/x86_64-linux-gnu/escaped"), Path("/escaped")):
            code = f"open({str(path)!r}, 'w').write('out')\n{ADD}"
            result = await sandbox.run(code, ADD_TESTS, "add")
            assert result.outcome == Outcome.RUNTIME_ERROR, path
            assert b"OSError" in result.stderr or b"FileNotFoundError" in result.stderr
        assert not target.exists()

    async def test_the_scratch_directory_is_writable(self, sandbox: Executor) -> None:
        code = (
            "open('/tmp/notes.txt', 'w').write('kept')\n"
            f"assert open('/tmp/notes.txt').read() == 'kept'\n{ADD}"
        )
        assert (await sandbox.run(code, ADD_TESTS, "add")).outcome == Outcome.PASSED

    async def test_the_hidden_tests_cannot_be_read(
        self, sandbox: Executor, plain: Executor, tmp_path: Path
    ) -> None:
        """A cheater that answers whatever the tests expect, if it can find them: on a file (as a
        weaker design would leave them) or on stdin."""
        secret = "a7f3c9e1"
        tests = f"assert secret() == {secret!r}\n"
        leaked = tmp_path / "hidden_tests.py"
        leaked.write_text(tests)
        cheat = (
            "import os, re, fcntl\n"
            "found = ''\n"
            f"for path in ({str(leaked)!r},):\n"
            "    try:\n"
            "        found += open(path).read()\n"
            "    except OSError:\n"
            "        pass\n"
            "try:\n"
            "    fcntl.fcntl(0, fcntl.F_SETFL, os.O_NONBLOCK)\n"
            "    found += os.read(0, 65536).decode()\n"
            "except OSError:\n"
            "    pass\n"
            "match = re.search(r\"== '([0-9a-f]+)'\", found)\n"
            "def secret():\n"
            "    return match.group(1) if match else None\n"
        )
        result = await sandbox.run(cheat, tests, "secret")
        assert result.outcome == Outcome.TESTS_FAILED
        assert (await plain.run(cheat, tests, "secret")).outcome == Outcome.PASSED

    async def test_an_infinite_loop_times_out(self, sandbox: Executor) -> None:
        result = await sandbox.run(f"{ADD}while True:\n    pass\n", ADD_TESTS, "add")
        assert result.outcome == Outcome.TIMEOUT

    async def test_a_sleeping_candidate_is_killed_at_the_wall_clock(self, sandbox: Executor) -> None:
        result = await sandbox.run(f"import time\ntime.sleep(600)\n{ADD}", ADD_TESTS, "add")
        assert result.outcome == Outcome.TIMEOUT

    async def test_a_memory_hog_hits_the_limit(self, sandbox: Executor) -> None:
        hog = f"{ADD}blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n"
        assert (await sandbox.run(hog, ADD_TESTS, "add")).outcome == Outcome.MEMORY_LIMIT

    async def test_huge_output_is_capped(self, sandbox: Executor) -> None:
        loud = f"{ADD}while True:\n    print('x' * 10000)\n"
        result = await sandbox.run(loud, ADD_TESTS, "add")
        assert result.outcome == Outcome.OUTPUT_LIMIT
        assert len(result.stdout) <= LIMITS.output_bytes


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        if int(uid_line.split()[1]) == uid and "State:\tZ" not in status:
            found.append(int(entry))
    return found


class TestDemoCodeSuite:
    async def test_each_demo_item_passes_with_its_reference_solution_and_fails_without(
        self, sandbox: Executor
    ) -> None:
        suite = next(s for s in demo_contents() if s.kind == ItemKind.CODE)
        lines = resources.files("fmc_scoring.suites.demo").joinpath(f"{suite.key}.jsonl").read_text()
        solutions = {row["item_id"]: row["solution"] for row in map(json.loads, lines.splitlines())}
        for item in suite.items:
            gradable = item.gradable()
            right = await grade_code(gradable, solutions[item.item_id], sandbox)
            assert right.reason == GradeReason.CORRECT, item.item_id
            stub = f"def {item.key.entry_point}(*args): return None"
            assert (await grade_code(gradable, stub, sandbox)).reason == GradeReason.TESTS_FAILED


class TestSandboxRefused:
    async def test_a_missing_bwrap_fails_the_item_as_a_sandbox_error(self) -> None:
        executor = Executor(Runtime(bwrap="/nonexistent/bwrap"), LIMITS, run_as=65534)
        assert (await executor.run(ADD, ADD_TESTS, "add")).outcome == Outcome.SANDBOX_ERROR

    async def test_a_sandbox_that_cannot_be_set_up_is_a_sandbox_error_not_the_candidates(self) -> None:
        executor = Executor(Runtime(binds=("/nonexistent/lib",)), LIMITS, run_as=65534)
        result = await executor.run(ADD, ADD_TESTS, "add")
        assert result.outcome == Outcome.SANDBOX_ERROR
        assert result.stderr.startswith(b"bwrap:")
