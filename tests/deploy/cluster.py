"""The manifests as a cluster sees them: rendered by the real kustomize (``kubectl kustomize``), built-in
kinds checked by kubernetes-validate (strict) for the Kubernetes version we target, and custom resources
checked against the operators' official CRDs.

The CRDs are reference data outside the project: ``<repo>/../shared/reference/crds`` (CI clones the
repository beside ``shared/``). They are read, never copied. A custom resource is validated against the
``openAPIV3Schema`` of the version its ``apiVersion`` names, the way the API server does with strict
field validation: a version the CRD does not serve is an error, and so is a field the schema does not
declare, except below ``x-kubernetes-preserve-unknown-fields: true``. CEL rules
(``x-kubernetes-validations``) are not evaluated.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import yaml
from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
# The Kubernetes minor version the manifests target (docs/operations.md, "Versions"): the built-in
# kinds are validated against its schemas.
KUBERNETES_VERSION = "1.34"
CRDS_BESIDE = Path("shared") / "reference" / "crds"

Resource = dict[str, Any]


class ManifestError(Exception):
    """A resource a cluster would refuse."""


@cache
def crd_directory() -> Path:
    """The official CRDs: ``shared/reference/crds`` beside the repository (in a git worktree, beside its
    main checkout). Missing, the validation cannot run: an error, never a skip."""
    candidates = [ROOT.parent / CRDS_BESIDE]
    common = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if common.returncode == 0:
        candidates.append(Path(common.stdout.strip()).parent.parent / CRDS_BESIDE)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise ManifestError(
        f"the operators' official CRDs are not at {candidates[0]}: clone the repository beside shared/"
    )


@cache
def kustomize(directory: Path) -> tuple[Resource, ...]:
    """``kubectl kustomize DIRECTORY``: what ``kubectl apply -k`` would send."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise RuntimeError("kubectl is not installed: it renders the overlays (kubectl kustomize)")
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise ManifestError(f"kubectl kustomize {directory}: {result.stderr.strip()}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


# --- custom resources ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crd:
    group: str
    kind: str
    served: dict[str, Resource]  # version -> openAPIV3Schema
    source: Path


@cache
def crds() -> dict[tuple[str, str], Crd]:
    """(group, kind) -> the CRD, from every YAML file under the CRD directory."""
    found: dict[tuple[str, str], Crd] = {}
    for path in sorted(crd_directory().rglob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            for doc in yaml.safe_load_all(handle):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                key = (spec["group"], spec["names"]["kind"])
                assert key not in found, f"{key} is defined twice ({found[key].source}, {path})"
                found[key] = Crd(
                    group=spec["group"],
                    kind=spec["names"]["kind"],
                    served={
                        v["name"]: v["schema"]["openAPIV3Schema"] for v in spec["versions"] if v.get("served")
                    },
                    source=path,
                )
    return found


def structural(schema: Resource, *, root: bool = False) -> Resource:
    """A CRD's structural schema as a JSON Schema that refuses what strict field validation refuses."""
    node = _value_only(schema)
    preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
    if schema.get("x-kubernetes-int-or-string", False):
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    if "properties" in node:
        node["properties"] = {name: structural(sub) for name, sub in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        node["items"] = structural(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = structural(node["additionalProperties"])
    for junctor in ("allOf", "anyOf", "oneOf"):
        # Value validations only: a structural schema declares its fields outside the junctors.
        if junctor in schema:
            node[junctor] = [_value_only(sub) for sub in schema[junctor]]
    if schema.get("x-kubernetes-embedded-resource", False) or root:
        properties = node.setdefault("properties", {})
        properties["apiVersion"] = {"type": "string"}
        properties["kind"] = {"type": "string"}
        # ObjectMeta is checked by the API server itself, not by the CRD's schema.
        properties["metadata"] = {"type": "object"}
    if node.get("type") == "object" and not preserve and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


def _value_only(schema: Resource) -> Resource:
    """The schema without the Kubernetes extensions (an int-or-string loses its type)."""
    node = copy.deepcopy(schema)
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
    for key in list(node):
        if key.startswith("x-kubernetes-"):
            del node[key]
    return node


@cache
def custom_validator(group: str, version: str, kind: str) -> jsonschema.Draft4Validator:
    crd = crds().get((group, kind))
    if crd is None:
        raise ManifestError(f"no CRD defines {group}/{kind} (under {crd_directory()})")
    if version not in crd.served:
        raise ManifestError(
            f"{kind}: the CRD ({crd.source.parent.name}) serves {group}/{sorted(crd.served)}, not {version}"
        )
    schema = structural(crd.served[version], root=True)
    return jsonschema.Draft4Validator(schema)


def is_custom(resource: Resource) -> bool:
    group = resource["apiVersion"].rpartition("/")[0]
    return ("." in group and not group.endswith(".k8s.io")) or group.startswith("gateway.networking.k8s.io")


def problems(resource: Resource) -> list[str]:
    """Why a cluster would refuse the resource; empty when it would accept it."""
    name = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
    group, _, version = resource["apiVersion"].rpartition("/")
    if is_custom(resource):
        try:
            validator = custom_validator(group, version, resource["kind"])
        except ManifestError as exc:
            return [f"{name}: {exc}"]
        return [
            f"{name}: {'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
            for error in sorted(
                validator.iter_errors(resource), key=lambda e: list(map(str, e.absolute_path))
            )
        ]
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except jsonschema.ValidationError as exc:
        return [f"{name}: {'/'.join(str(p) for p in exc.absolute_path)}: {exc.message}"]
    except SchemaNotFoundError as exc:
        return [f"{name}: {exc}"]
    return []


def all_problems(resources: Iterable[Resource]) -> list[str]:
    return [problem for resource in resources for problem in problems(resource)]
