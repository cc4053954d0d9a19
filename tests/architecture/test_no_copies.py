"""The plumbing two services share lives once in fmc_common (and once in tests/support): the copies
this project once had do not come back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fmc_devrunner import polling
from support.eventually import eventually as support_eventually

from .test_import_graph import ROOT, SERVICES

# Each of these was written once per service and drifted; fmc_common now holds the one version.
ONCE_IN_COMMON = ("context.py", "inputs.py", "grpc_calls.py", "idempotent.py")


@pytest.mark.parametrize("package", list(SERVICES))
def test_no_service_keeps_its_own_copy_of_the_shared_plumbing(package: str) -> None:
    root = SERVICES[package]
    copies = [name for name in ONCE_IN_COMMON if (root / name).exists()]
    assert not copies, f"{package} keeps its own {copies}; use fmc_common instead"


def test_one_dockerfile_builds_every_service() -> None:
    assert (ROOT / "Dockerfile").exists()
    assert sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "services").glob("*/Dockerfile")) == []


def _functions_named(name: str, under: Path) -> list[str]:
    found = []
    for path in sorted(under.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_tests_and_the_benches_poll_with_one_eventually() -> None:
    """fmc_devrunner.polling holds it (bench/ imports the dev runner, not the tests); tests/support
    re-exports that very function, and neither the tests nor the benches write a poll of their own."""
    assert _functions_named("eventually", ROOT / "tests") == []
    assert _functions_named("eventually", ROOT / "bench") == []
    assert support_eventually is polling.eventually


@pytest.mark.parametrize("model", ["AuditEntryColumns", "ParticipantColumns"])
def test_audit_and_participant_tables_are_declared_from_the_common_columns(model: str) -> None:
    users = [
        package
        for package, root in SERVICES.items()
        if any(model in path.read_text(encoding="utf-8") for path in root.rglob("models.py"))
    ]
    expected = {"AuditEntryColumns": 2, "ParticipantColumns": 2}[model]
    assert len(users) >= expected, f"{model} used by {users}"
