"""The import graph keeps the architecture the docs describe (docs/development.md, "Layout").

Read from the source text (no import is executed), so the rules hold for imports inside functions
and under ``TYPE_CHECKING`` too:

* inside a service, packages and root modules depend on each other one way only (no cycle of any
  length between ``fmc_scoring.results``, ``fmc_scoring.criteria``, ``fmc_scoring.main``...);
* no service imports another service; ``fmc_common`` imports no service, not even by name;
* the pure domain modules (maths, rules, parsing) import no framework, directly or through the
  project modules they use.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVICES: dict[str, Path] = {
    "fmc_registry": ROOT / "services/registry/fmc_registry",
    "fmc_gateway": ROOT / "services/inference-gateway/fmc_gateway",
    "fmc_scoring": ROOT / "services/scoring/fmc_scoring",
    "fmc_grievance": ROOT / "services/grievance/fmc_grievance",
    "fmc_web": ROOT / "services/web/fmc_web",
}
COMMON = ("fmc_common", ROOT / "libs/common/fmc_common")
PACKAGES: dict[str, Path] = {**SERVICES, COMMON[0]: COMMON[1]}

FRAMEWORKS = frozenset(
    {"fastapi", "starlette", "sqlalchemy", "alembic", "aiokafka", "grpc", "httpx", "tritonclient", "uvicorn"}
)

# Modules that hold pure domain logic: no I/O framework, so they are tested and reused without one.
PURE: dict[str, tuple[str, ...]] = {
    "fmc_common": (
        "artefacts",
        "audit.chain",
        "audit.checkpoint",
        "clock",
        "correlation",
        "deadlines",
        "errors",
        "events.base",
        "events.catalog",
        "events.envelope",
        "events.grievance",
        "events.inference",
        "events.registry",
        "events.results",
        "events.scoring",
        "events.topics",
        "events.vocabulary",
        "manifests",
    ),
    "fmc_registry": ("programmes.schedule", "submissions.digest"),
    "fmc_gateway": (
        "runs.backoff",
        "runs.breaker",
        "runs.hashing",
        "runs.scheduling",
        "runs.timing",
        "endpoints.contract",
        "runs.efficiency",
        "serving.conventions",
        "serving.openai_chat",
        "serving.prompts",
        "serving.protocol",
        "serving.signature",
        "serving.templates",
    ),
    "fmc_scoring": (
        "arena.bradley_terry",
        "arena.identity",
        "experts.aggregate",
        "experts.sampling",
        "judging.agreement",
        "judging.verdicts",
        "grading.bootstrap",
        "grading.choice",
        "grading.grader",
        "grading.loglikelihood",
        "grading.normalise",
        "grading.numeric",
        "originality.bound",
        "originality.dtypes",
        "originality.evidence",
        "originality.files",
        "originality.fingerprint",
        "originality.invariants",
        "originality.modules",
        "originality.outcomes",
        "originality.report",
        "originality.safetensors_io",
        "originality.scan",
        "originality.stats",
        "originality.verdict",
        "results.decision",
        "suites.content",
        "suites.templates",
        "values",
    ),
    "fmc_grievance": ("windows.deadline",),
    "fmc_web": ("limits",),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted and absolute
    line: int


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package, *parts))


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = importer.split(".")
        if not is_package:
            anchor = anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, node.module] if node.module else anchor)
    # ``from pkg import name`` may import a submodule: record both; only existing modules count.
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _imports_of(package: str, root: Path, path: Path) -> Iterator[Import]:
    importer = _module_name(package, root, path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            for target in _resolve(importer, path.name == "__init__.py", node):
                yield Import(importer, target, node.lineno)


def _sources(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if "migrations" not in path.relative_to(root).parts:
            yield path


@cache
def imports(package: str) -> tuple[Import, ...]:
    root = PACKAGES[package]
    return tuple(found for path in _sources(root) for found in _imports_of(package, root, path))


@cache
def modules(package: str) -> frozenset[str]:
    root = PACKAGES[package]
    return frozenset(_module_name(package, root, path) for path in _sources(root))


def _unit(package: str, module: str) -> str:
    """The node of the service's graph: its top-level package or root module."""
    rest = module.removeprefix(package).lstrip(".")
    return rest.split(".")[0] if rest else "__init__"


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every node a path of one or more edges leads to from ``start``."""
    found: set[str] = set()
    pending = list(graph.get(start, ()))
    while pending:
        node = pending.pop()
        if node not in found:
            found.add(node)
            pending.extend(graph.get(node, ()))
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of nodes that all reach each other (more than one node: each one a cycle)."""
    nodes = sorted(set(graph) | {target for targets in graph.values() for target in targets})
    reach = {node: reachable(graph, node) for node in nodes}
    grouped: set[str] = set()
    cycles = []
    for node in nodes:
        if node in grouped:
            continue
        group = sorted({node} | {other for other in reach[node] if node in reach[other]})
        grouped.update(group)
        if len(group) > 1:
            cycles.append(group)
    return cycles


def unit_graph(package: str) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    known = modules(package)
    graph: dict[str, set[str]] = {}
    witnesses: dict[tuple[str, str], list[str]] = {}
    for found in imports(package):
        if found.target not in known:
            continue
        source, target = _unit(package, found.module), _unit(package, found.target)
        if source == target or "__init__" in (source, target):
            continue
        graph.setdefault(source, set()).add(target)
        witnesses.setdefault((source, target), []).append(f"{found.module}:{found.line}")
    return graph, witnesses


@pytest.mark.parametrize("package", [*SERVICES, COMMON[0]])
def test_packages_of_a_service_depend_on_each_other_one_way(package: str) -> None:
    graph, witnesses = unit_graph(package)
    cycles = strongly_connected(graph)
    report = []
    for component in cycles:
        members = set(component)
        edges = [
            f"  {source} -> {target}: {', '.join(sorted(set(witnesses[source, target]))[:3])}"
            for source in component
            for target in sorted(graph.get(source, set()) & members)
        ]
        report.append(" <-> ".join(component) + "\n" + "\n".join(edges))
    assert not cycles, f"{package} has import cycles between its packages:\n" + "\n".join(report)


@pytest.mark.parametrize("package", list(SERVICES))
def test_a_service_imports_no_other_service(package: str) -> None:
    others = set(SERVICES) - {package}
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in imports(package)
        if found.target.split(".")[0] in others
    ]
    assert not offending, "\n".join(offending)


def test_common_imports_no_service_not_even_by_name() -> None:
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in imports("fmc_common")
        if found.target.split(".")[0] in SERVICES
    ]
    for path in _sources(COMMON[1]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Docstrings may mention a service; code may not name one to import it dynamically.
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and any(node.value.startswith(service) for service in SERVICES)
            ):
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno} names {node.value!r}")
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize(
    ("package", "module"), [(package, module) for package, names in PURE.items() for module in names]
)
def test_pure_modules_import_no_framework(package: str, module: str) -> None:
    dotted = f"{package}.{module}"
    assert dotted in modules(package), f"{dotted} is listed as pure but does not exist"
    pure = {f"{owner}.{name}" for owner, names in PURE.items() for name in names}
    offending = []
    for found in imports(package):
        if found.module != dotted:
            continue
        top = found.target.split(".")[0]
        if top in FRAMEWORKS:
            offending.append(f"line {found.line}: {found.target}")
        elif (
            top in PACKAGES
            and found.target in modules(top)
            and found.target not in pure
            and not _is_package_init(top, found.target)
        ):
            # A project module a pure one relies on must be pure as well (or the framework leaks in).
            offending.append(f"line {found.line}: {found.target} (not a pure module)")
    assert not offending, f"{dotted} is pure but imports:\n" + "\n".join(offending)


def _is_package_init(package: str, dotted: str) -> bool:
    relative = dotted.removeprefix(package).lstrip(".").replace(".", "/")
    return (PACKAGES[package] / relative / "__init__.py").exists()


class TestTheGraphReader:
    """The checks above are only as good as the reader: it must see what a person would."""

    def test_finds_a_two_package_cycle(self) -> None:
        assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]

    def test_finds_a_longer_cycle(self) -> None:
        assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]

    def test_a_one_way_graph_has_no_cycle(self) -> None:
        assert strongly_connected({"main": {"a", "b"}, "a": {"b"}, "b": {"c"}}) == []

    def test_resolves_relative_and_function_level_imports(self, tmp_path: Path) -> None:
        package = tmp_path / "pkg"
        (package / "sub").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "sub" / "__init__.py").write_text("")
        (package / "sub" / "mod.py").write_text(
            "from ..other import thing\n\ndef later() -> None:\n    import pkg.third\n"
        )
        found = {item.target for item in _imports_of("pkg", package, package / "sub" / "mod.py")}
        assert {"pkg.other", "pkg.other.thing", "pkg.third"} <= found
