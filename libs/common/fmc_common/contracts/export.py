"""Generate the contract documents, compare them with the committed baseline, write them.

The committed files under ``docs/contracts/`` are the baseline. ``write`` refuses to overwrite a
published event schema or proto with an incompatible one (unless told to, which a reviewer will see),
so regenerating cannot hide a breaking change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fmc_common.contracts import asyncapi
from fmc_common.contracts.events import event_schema_breaks, event_schemas, next_version
from fmc_common.contracts.openapi import openapi_documents
from fmc_common.contracts.protos import proto_breaks, proto_summary

CONTRACTS_DIR = Path("docs") / "contracts"
ASYNCAPI_FILE = "asyncapi.yaml"
PROTOS_FILE = "protos.json"
SCHEMAS_DIR = "schemas"
OPENAPI_DIR = "openapi"
EXPORT_COMMAND = "python -m fmc_common.contracts export"

# Relative path under docs/contracts -> file text.
Artefacts = dict[str, str]


@dataclass(frozen=True)
class BreakingChange:
    contract: str
    problem: str

    def __str__(self) -> str:
        return f"{self.contract}: {self.problem}"


class ContractBreak(Exception):
    def __init__(self, changes: list[BreakingChange]) -> None:
        self.changes = changes
        super().__init__("\n".join(map(str, changes)))


def generate() -> Artefacts:
    header = f"# Generated from the event catalogue by `{EXPORT_COMMAND}`: do not edit by hand.\n"
    artefacts: Artefacts = {ASYNCAPI_FILE: header + _yaml(asyncapi.build())}
    for event_type, schema in event_schemas().items():
        artefacts[f"{SCHEMAS_DIR}/{event_type}.json"] = _json(schema)
    for service, document in openapi_documents().items():
        artefacts[f"{OPENAPI_DIR}/{service}.json"] = _json(document)
    artefacts[PROTOS_FILE] = _json(proto_summary())
    return artefacts


def read_committed(root: Path) -> Artefacts:
    base = root / CONTRACTS_DIR
    paths = [base / ASYNCAPI_FILE, base / PROTOS_FILE]
    paths += sorted((base / SCHEMAS_DIR).glob("*.json")) + sorted((base / OPENAPI_DIR).glob("*.json"))
    return {
        path.relative_to(base).as_posix(): path.read_text(encoding="utf-8") for path in paths if path.exists()
    }


def stale_files(generated: Artefacts, committed: Artefacts) -> list[str]:
    """Files whose committed copy is missing, different or no longer generated."""
    return sorted(
        path for path in generated.keys() | committed.keys() if generated.get(path) != committed.get(path)
    )


def breaking_changes(generated: Artefacts, committed: Artefacts) -> list[BreakingChange]:
    """Incompatible changes of published event schemas and protos relative to the committed baseline."""
    changes: list[BreakingChange] = []
    prefix = f"{SCHEMAS_DIR}/"
    for path, text in sorted(committed.items()):
        if not path.startswith(prefix):
            continue
        event_type = path.removeprefix(prefix).removesuffix(".json")
        if path not in generated:
            changes.append(BreakingChange(event_type, "published event type removed"))
            continue
        for problem in event_schema_breaks(json.loads(text), json.loads(generated[path])):
            changes.append(
                BreakingChange(event_type, f"{problem}; publish the change as {next_version(event_type)}")
            )
    if PROTOS_FILE in committed and PROTOS_FILE in generated:
        old, new = json.loads(committed[PROTOS_FILE]), json.loads(generated[PROTOS_FILE])
        changes += [
            BreakingChange("protos", f"{problem}; add a new package version instead")
            for problem in proto_breaks(old, new)
        ]
    return changes


def write(root: Path, generated: Artefacts, *, allow_breaking: bool = False) -> list[str]:
    """Write the artefacts under ``root/docs/contracts``; returns the paths that changed."""
    committed = read_committed(root)
    changes = breaking_changes(generated, committed)
    if changes and not allow_breaking:
        raise ContractBreak(changes)
    base = root / CONTRACTS_DIR
    changed = stale_files(generated, committed)
    for path in changed:
        target = base / path
        if path in generated:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(generated[path], encoding="utf-8")
        else:
            target.unlink()
    return changed


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _yaml(document: Any) -> str:
    import yaml  # a development tool: the services never export contracts

    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
