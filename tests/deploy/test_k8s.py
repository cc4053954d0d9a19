"""The Kubernetes manifests (deploy/k8s), rendered per overlay and checked without a cluster.

kustomize is not installed here, so a small renderer below applies the subset of kustomize the
overlays use (resources, namespace, labels, images, replicas, JSON 6902 patches) and refuses any
other field. Built-in kinds are validated with kubernetes-validate (strict); the operators' kinds
against tests/deploy/schemas/crds.yaml.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from kubernetes_validate.utils import (  # type: ignore[import-untyped]
    SchemaNotFoundError,
    latest_version,
)
from pydantic_settings import BaseSettings

from fmc_common.contracts.openapi import SERVICES, build_app
from fmc_common.events.topics import CATALOGUE, Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_gateway.runs.sources import HttpSource, ItemsSources
from fmc_gateway.triton.hosts import TritonHostNotAllowed, TritonHosts
from fmc_scoring.planning.service import items_uri

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
CRD_SCHEMAS = Path(__file__).resolve().parent / "schemas" / "crds.yaml"
KUBERNETES_VERSION = latest_version()
SERVICE_NAMES = tuple(service.name for service in SERVICES)
SUPPORTED_KUSTOMIZE_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
# Secrets the platform expects to exist but never ships (docs/operations.md says how to create them).
EXTERNAL_SECRETS = {
    "fmc-auth",
    "fmc-backup-s3",
    "fmc-grievance-audit",
    *(f"fmc-{service}-service-key" for service in ("registry", "inference-gateway", "scoring", "grievance")),
}
GPU_POOLS = {"h100": "H100", "b200": "B200"}

Resource = dict[str, Any]


# --- a minimal kustomize -------------------------------------------------------------------------


def load_documents(path: Path) -> list[Resource]:
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def render(directory: Path) -> list[Resource]:
    kustomization = load_documents(directory / "kustomization.yaml")[0]
    unsupported = set(kustomization) - SUPPORTED_KUSTOMIZE_FIELDS
    assert not unsupported, f"{directory}: the test renderer does not support {sorted(unsupported)}"
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        resources += render(path) if path.is_dir() else load_documents(path)
    resources = copy.deepcopy(resources)
    _patch(directory, kustomization, resources)
    _set_replicas(directory, kustomization, resources)
    _set_images(directory, kustomization, resources)
    for entry in kustomization.get("labels", []):
        assert entry.get("includeSelectors") is False, "only metadata labels are supported"
        for resource in resources:
            resource["metadata"].setdefault("labels", {}).update(entry["pairs"])
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    return resources


def _patch(directory: Path, kustomization: Resource, resources: list[Resource]) -> None:
    for patch in kustomization.get("patches", []):
        targets = [r for r in resources if _matches(r, patch["target"])]
        assert targets, f"{directory}: patch target {patch['target']} matches nothing"
        for resource in targets:
            for operation in yaml.safe_load(patch["patch"]):
                _apply(resource, operation)


def _set_replicas(directory: Path, kustomization: Resource, resources: list[Resource]) -> None:
    for entry in kustomization.get("replicas", []):
        targets = [
            r for r in resources if r["kind"] == "Deployment" and r["metadata"]["name"] == entry["name"]
        ]
        assert targets, f"{directory}: replicas for unknown Deployment {entry['name']}"
        for resource in targets:
            resource["spec"]["replicas"] = entry["count"]


def _set_images(directory: Path, kustomization: Resource, resources: list[Resource]) -> None:
    for entry in kustomization.get("images", []):
        hits = 0
        for container in (c for r in resources for c in _containers(r)):
            name = re.split(r"[:@]", container["image"], maxsplit=1)[0]
            if name == entry["name"]:
                container["image"] = f"{entry.get('newName', name)}:{entry['newTag']}"
                hits += 1
        assert hits, f"{directory}: image {entry['name']} is used by no container"


def _matches(resource: Resource, target: dict[str, str]) -> bool:
    if "kind" in target and resource["kind"] != target["kind"]:
        return False
    if "group" in target and not resource["apiVersion"].startswith(target["group"] + "/"):
        return False
    return "name" not in target or re.fullmatch(target["name"], resource["metadata"]["name"]) is not None


def _apply(document: Resource, operation: dict[str, Any]) -> None:
    """RFC 6902 add, replace and remove."""
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].split("/")[1:]]
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    op = operation["op"]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, operation["value"])
        elif op == "replace":
            node[index] = operation["value"]
        elif op == "remove":
            del node[index]
        else:
            raise AssertionError(f"unsupported patch op {op}")
        return
    if op in ("replace", "remove"):
        assert last in node, f"patch {operation} targets a missing field"
    if op == "remove":
        del node[last]
    elif op in ("add", "replace"):
        node[last] = operation["value"]
    else:
        raise AssertionError(f"unsupported patch op {op}")


def _pod_spec(resource: Resource) -> dict[str, Any] | None:
    if resource["kind"] in ("Deployment", "StatefulSet", "Job"):
        spec: dict[str, Any] = resource["spec"]["template"]["spec"]
        return spec
    return None


def _containers(resource: Resource) -> Iterator[dict[str, Any]]:
    spec = _pod_spec(resource)
    if spec is not None:
        yield from spec.get("initContainers", [])
        yield from spec["containers"]


@cache
def rendered(overlay: str) -> tuple[Resource, ...]:
    return tuple(render(K8S / "overlays" / overlay))


def of_kind(overlay: str, kind: str) -> list[Resource]:
    return [r for r in rendered(overlay) if r["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> Resource:
    matches = [r for r in of_kind(overlay, kind) if r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name} in {overlay}, found {len(matches)}"
    return matches[0]


def container_env(overlay: str, container: dict[str, Any]) -> dict[str, str]:
    """A container's environment: its ConfigMaps, then its own entries (secrets as a placeholder)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(named(overlay, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value", "<from secret>")
    return env


def service_env(overlay: str, service: str) -> dict[str, str]:
    """The environment of the service's main container."""
    deployment = named(overlay, "Deployment", service)
    container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == service)
    return container_env(overlay, container)


@cache
def consumers_of(service: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(group id, topics) of each consumer the service's composition root builds."""
    app = build_app(next(s for s in SERVICES if s.name == service))
    return tuple((spec.name, tuple(str(t) for t in spec.topics)) for spec in app.state.runtime.consumers)


# --- kustomizations ------------------------------------------------------------------------------


class TestKustomizations:
    def test_every_listed_resource_exists(self) -> None:
        for kustomization in K8S.rglob("kustomization.yaml"):
            for entry in load_documents(kustomization)[0].get("resources", []):
                path = (kustomization.parent / entry).resolve()
                assert path.exists(), f"{kustomization}: {entry} does not exist"
                if path.is_dir():
                    assert (path / "kustomization.yaml").exists(), f"{path} has no kustomization.yaml"

    def test_every_manifest_is_listed_by_a_kustomization(self) -> None:
        listed = {
            (kustomization.parent / entry).resolve()
            for kustomization in K8S.rglob("kustomization.yaml")
            for entry in load_documents(kustomization)[0].get("resources", [])
        }
        manifests = {p.resolve() for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
        assert manifests - listed == set(), "manifests that no kustomization renders"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_overlay_builds_on_the_base_in_its_own_namespace(self, overlay: str) -> None:
        kustomization = load_documents(K8S / "overlays" / overlay / "kustomization.yaml")[0]
        assert "../../base" in kustomization["resources"]
        namespace = kustomization["namespace"]
        assert (
            named(overlay, "Namespace", namespace)["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
            == "restricted"
        )
        for resource in rendered(overlay):
            if resource["kind"] not in CLUSTER_SCOPED:
                assert resource["metadata"]["namespace"] == namespace

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_names_are_unique_per_kind(self, overlay: str) -> None:
        keys = [(r["apiVersion"], r["kind"], r["metadata"]["name"]) for r in rendered(overlay)]
        assert len(keys) == len(set(keys))

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_service_images_are_pinned_to_a_tag(self, overlay: str) -> None:
        for resource in rendered(overlay):
            for container in _containers(resource):
                image = container["image"]
                assert re.search(r":[\w.-]+$", image), f"{image} has no tag"
                assert not image.endswith(":latest")


class TestRenderer:
    def test_patches_replace_add_and_remove(self) -> None:
        document: Resource = {"spec": {"a": 1, "items": [1, 2]}}
        _apply(document, {"op": "replace", "path": "/spec/a", "value": 2})
        _apply(document, {"op": "add", "path": "/spec/items/-", "value": 3})
        _apply(document, {"op": "remove", "path": "/spec/items/0"})
        assert document == {"spec": {"a": 2, "items": [2, 3]}}

    def test_replacing_a_missing_field_is_an_error(self) -> None:
        with pytest.raises(AssertionError, match="missing field"):
            _apply({"spec": {}}, {"op": "replace", "path": "/spec/minReplicas", "value": 1})

    def test_the_dev_overlay_patches_reach_the_rendered_resources(self) -> None:
        assert named("dev", "HorizontalPodAutoscaler", "scoring")["spec"]["minReplicas"] == 1
        assert named("dev", "Cluster", "fmc-scoring-db")["spec"]["instances"] == 1
        assert named("dev", "Deployment", "scoring")["spec"]["replicas"] == 1
        assert "minAvailable" not in named("dev", "PodDisruptionBudget", "scoring")["spec"]
        assert named("prod", "Cluster", "fmc-scoring-db")["spec"]["instances"] == 3


# --- schemas -------------------------------------------------------------------------------------


@cache
def crd_schemas() -> dict[str, Any]:
    with CRD_SCHEMAS.open(encoding="utf-8") as handle:
        schemas: dict[str, Any] = yaml.safe_load(handle)
    return schemas


def validate(resource: Resource) -> None:
    key = f"{resource['apiVersion']}/{resource['kind']}"
    schemas = crd_schemas()
    if key in schemas:
        schema = {"$defs": schemas["$defs"], **schemas[key]}
        jsonschema.Draft202012Validator(schema).validate(resource)
        return
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


class TestSchemas:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_rendered_resource_validates(self, overlay: str) -> None:
        failures = []
        for resource in rendered(overlay):
            try:
                validate(resource)
            except (jsonschema.ValidationError, SchemaNotFoundError) as exc:
                failures.append(
                    f"{resource['kind']}/{resource['metadata']['name']}: {getattr(exc, 'message', exc)}"
                )
        assert failures == []

    def test_a_misspelt_field_fails_validation(self) -> None:
        deployment = copy.deepcopy(named("prod", "Deployment", "registry"))
        deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
        with pytest.raises(jsonschema.ValidationError):
            validate(deployment)

    def test_a_misspelt_custom_resource_field_fails_validation(self) -> None:
        topic = copy.deepcopy(named("prod", "KafkaTopic", str(Topic.REGISTRY)))
        topic["spec"]["partition"] = topic["spec"].pop("partitions")
        with pytest.raises(jsonschema.ValidationError):
            validate(topic)


# --- workloads -----------------------------------------------------------------------------------


def _deployments() -> list[tuple[str, str]]:
    return [(overlay, r["metadata"]["name"]) for overlay in OVERLAYS for r in of_kind(overlay, "Deployment")]


class TestDeployments:
    @pytest.mark.parametrize(("overlay", "name"), _deployments())
    def test_pods_run_restricted(self, overlay: str, name: str) -> None:
        deployment = named(overlay, "Deployment", name)
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod.get("automountServiceAccountToken") is False
        assert pod["terminationGracePeriodSeconds"] >= 30
        for container in _containers(deployment):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, container["name"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"]["drop"] == ["ALL"], container["name"]
            assert "add" not in context["capabilities"], container["name"]

    @pytest.mark.parametrize(("overlay", "name"), _deployments())
    def test_containers_have_probes_and_resources(self, overlay: str, name: str) -> None:
        deployment = named(overlay, "Deployment", name)
        for container in _long_running(deployment):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert "httpGet" in container[probe], f"{container['name']} lacks {probe}"
        for container in _containers(deployment):
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), container["name"]
            assert "memory" in resources["limits"], container["name"]

    @pytest.mark.parametrize(("overlay", "name"), _deployments())
    def test_probes_ask_ports_their_container_declares(self, overlay: str, name: str) -> None:
        for container in _containers(named(overlay, "Deployment", name)):
            assert probe_port_problems(container) == []

    def test_a_probe_on_an_undeclared_port_fails(self) -> None:
        pod = named("prod", "Deployment", "registry")["spec"]["template"]["spec"]
        relay = copy.deepcopy(next(c for c in pod["initContainers"] if c["name"] == "relay"))
        del relay["ports"]
        relay["readinessProbe"]["httpGet"]["port"] = 9999
        assert probe_port_problems(relay) == [
            "relay: startupProbe asks port relay-http, which it does not declare",
            "relay: livenessProbe asks port relay-http, which it does not declare",
            "relay: readinessProbe asks port 9999, which it does not declare",
        ]

    @pytest.mark.parametrize(("overlay", "name"), _deployments())
    def test_container_ports_are_unique_within_a_pod(self, overlay: str, name: str) -> None:
        # The containers of a pod share one network namespace (and a port name must name one port).
        ports = [p for c in _containers(named(overlay, "Deployment", name)) for p in c.get("ports", [])]
        numbers = [p["containerPort"] for p in ports]
        names = [p["name"] for p in ports if "name" in p]
        assert len(numbers) == len(set(numbers))
        assert len(names) == len(set(names))

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_service_probes_use_the_health_endpoints(self, overlay: str, service: str) -> None:
        container = named(overlay, "Deployment", service)["spec"]["template"]["spec"]["containers"][0]
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        env = service_env(overlay, service)
        prefix = _prefix(service)
        assert ports["http"] == int(env[f"{prefix}HTTP_PORT"])
        assert ports["grpc"] == int(env[f"{prefix}GRPC_PORT"])
        assert env[f"{prefix}HTTP_HOST"] == "0.0.0.0"

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_termination_grace_covers_the_shutdown_sequence(self, service: str) -> None:
        deployment = named("prod", "Deployment", service)
        pod = deployment["spec"]["template"]["spec"]
        grace = float(service_env("prod", service)[f"{_prefix(service)}SHUTDOWN_GRACE_SECONDS"])
        pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
        # uvicorn drains HTTP, then the runtime stops gRPC, the consumers and flushes the outbox.
        assert pod["terminationGracePeriodSeconds"] > pre_stop + 4 * grace

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_every_variable_names_a_setting(self, service: str) -> None:
        """A misspelt FMC_* variable would be silently ignored by pydantic-settings."""
        settings_cls = type(build_app(next(s for s in SERVICES if s.name == service)).state.runtime.settings)
        known = _env_names(settings_cls, _prefix(service)) | _env_names(KafkaSettings, "FMC_KAFKA_")
        known |= _env_names(AuthSettings, "FMC_AUTH_") | {f"{_prefix(service)}DB_PASSWORD"}
        env = service_env("prod", service)
        assert {name for name in env if name.startswith("FMC_")} - known == set()
        assert env[f"{_prefix(service)}DATABASE_URL"].startswith("postgresql+asyncpg://")

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_a_service_holds_only_its_own_service_key_and_no_users_key(self, service: str) -> None:
        """docs/security.md, Credentials: no service can mint another's or a user's token."""
        pod = named("prod", "Deployment", service)["spec"]["template"]["spec"]
        keys = {
            container["name"]: {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in container.get("env", [])
                if e["name"].startswith("FMC_AUTH_") and "secretKeyRef" in e.get("valueFrom", {})
            }
            for container in [*pod["initContainers"], *pod["containers"]]
        }
        assert keys.pop(pod["containers"][0]["name"]) == {"fmc-auth", f"fmc-{service}-service-key"}
        assert all(not refs for refs in keys.values())  # migrations and the relay hold no key
        env = service_env("prod", service)
        assert env["FMC_AUTH_JWKS_URL"].startswith("https://")
        assert "FMC_AUTH_JWKS" not in env  # users' keys come from the provider, not from a file

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_migrations_run_in_an_init_container_not_in_every_replica(self, service: str) -> None:
        pod = named("prod", "Deployment", service)["spec"]["template"]["spec"]
        # Init containers that run to completion; a sidecar (restartPolicy: Always) keeps running.
        one_shot = [c for c in pod["initContainers"] if c.get("restartPolicy") != "Always"]
        assert [c["args"] for c in one_shot] == [["migrate"]]
        assert one_shot[0]["image"] == pod["containers"][0]["image"]
        assert service_env("prod", service)[f"{_prefix(service)}MIGRATE_ON_START"] == "false"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_every_service_has_a_service_an_hpa_and_a_pdb(self, overlay: str, service: str) -> None:
        pod_labels = named(overlay, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
        selector = named(overlay, "Service", service)["spec"]["selector"]
        assert selector.items() <= pod_labels.items()
        hpa = named(overlay, "HorizontalPodAutoscaler", service)["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        pdb = named(overlay, "PodDisruptionBudget", service)["spec"]
        assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_service_monitor_scrapes_every_service(self, overlay: str) -> None:
        monitor = named(overlay, "ServiceMonitor", "fmc-services")["spec"]
        scraped = [
            s
            for s in of_kind(overlay, "Service")
            if monitor["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        ]
        assert sorted(s["metadata"]["name"] for s in scraped) == sorted(SERVICE_NAMES)
        for service in scraped:
            port_names = {port["name"] for port in service["spec"]["ports"]}
            assert {endpoint["port"] for endpoint in monitor["endpoints"]} <= port_names
        # The service's own /metrics and its relay sidecar's, at one pace.
        assert {endpoint["port"] for endpoint in monitor["endpoints"]} == {"http", RELAY_SERVICE_PORT}
        assert {endpoint["path"] for endpoint in monitor["endpoints"]} == {"/metrics"}
        assert len({endpoint["interval"] for endpoint in monitor["endpoints"]}) == 1


def _prefix(service: str) -> str:
    return {"inference-gateway": "FMC_GATEWAY_"}.get(service, f"FMC_{service.upper()}_")


def _env_names(settings_cls: type[BaseSettings], prefix: str) -> set[str]:
    return {f"{prefix}{name.upper()}" for name in settings_cls.model_fields}


def _long_running(resource: Resource) -> Iterator[dict[str, Any]]:
    """The containers that run as long as the pod: the regular ones and the native sidecars."""
    spec = _pod_spec(resource)
    if spec is not None:
        yield from (c for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always")
        yield from spec["containers"]


def probe_port_problems(container: dict[str, Any]) -> list[str]:
    """HTTP probes whose port (a name or a number) is not one the container declares."""
    declared = {p.get("name") for p in container.get("ports", [])}
    declared |= {p["containerPort"] for p in container.get("ports", [])}
    return [
        f"{container['name']}: {probe} asks port {port}, which it does not declare"
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
        if "httpGet" in container.get(probe, {})
        and (port := container[probe]["httpGet"]["port"]) not in declared
    ]


REFERENCE = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def unresolved_references(overlay: str, container: dict[str, Any]) -> list[str]:
    """``$(VAR)`` references the kubelet would leave as they are: in ``env``, a variable of the
    container's ConfigMaps or of an earlier entry; in ``command`` and ``args``, any of its variables."""
    known: set[str] = set()
    for source in container.get("envFrom", []):
        known |= set(named(overlay, "ConfigMap", source["configMapRef"]["name"])["data"])
    unresolved = []
    for entry in container.get("env", []):
        unresolved += [
            f"{container['name']}'s {entry['name']} uses {ref}, not defined before it"
            for ref in REFERENCE.findall(entry.get("value", ""))
            if ref not in known
        ]
        known.add(entry["name"])
    for part in ("command", "args"):
        unresolved += [
            f"{container['name']}'s {part} use {ref}, which it does not define"
            for argument in container.get(part, [])
            for ref in REFERENCE.findall(argument)
            if ref not in known
        ]
    return unresolved


def command_line_secrets(overlay: str, container: dict[str, Any]) -> list[str]:
    """Arguments that are, or expand to, a database URL or a secret: a process's arguments are visible
    to everyone on the node (``ps``), its environment is not."""
    environment = container_env(overlay, container)

    def expanded(argument: str) -> str:
        return REFERENCE.sub(lambda m: environment.get(m[1], m[0]), argument)

    return [
        f"{container['name']}: {argument}"
        for argument in [*container.get("command", []), *container.get("args", [])]
        if re.search(r"postgresql|<from secret>|PASSWORD|SECRET", expanded(argument))
    ]


# --- the outbox relay ----------------------------------------------------------------------------

RELAY_COMMAND = ["python", "-m", "fmc_common.messaging.relay_main"]
RELAY_DATABASE_URL = "FMC_RELAY_DATABASE_URL"  # where relay_main reads its database URL
RELAY_HTTP_PORT = 8090  # relay_main's default --http-port
RELAY_PORT = "relay-http"  # the sidecar's container port
RELAY_SERVICE_PORT = "relay-metrics"  # the Service port Prometheus scrapes
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}


def _option(arguments: list[str], flag: str) -> str | None:
    return arguments[arguments.index(flag) + 1] if flag in arguments[:-1] else None


def _relay(deployment: Resource) -> dict[str, Any] | None:
    init = deployment["spec"]["template"]["spec"].get("initContainers", [])
    return next((c for c in init if c["name"] == "relay"), None)


def _relay_container_port(relay: dict[str, Any]) -> int | None:
    return next((p["containerPort"] for p in relay.get("ports", []) if p.get("name") == RELAY_PORT), None)


def relay_layout_problems(overlay: str, deployment: Resource) -> list[str]:
    """Why the Deployment does not relay its outbox the production way; empty when it does.

    Production layout (docs/decisions/2026-11-22-outbox-relay-as-sidecar.md): the service container
    does not relay (``<PREFIX>RELAY_IN_PROCESS=false``; the setting defaults to true) and a native
    sidecar ``relay`` (an init container with ``restartPolicy: Always``: up before the service,
    stopped after it) of the same image runs ``relay_main`` as ``<service>-relay`` on the service's
    database with the service's Kafka settings, user and CA. The database URL is the service's, built
    by the kubelet from the same password Secret, in ``FMC_RELAY_DATABASE_URL`` rather than on the
    command line. Every replica then runs a relay; that is safe because the database is the service's
    PostgreSQL (TestPostgres), where the relays take turns under one transaction-scoped advisory lock
    (fmc_common.messaging.relay). SQLite has no such lock.
    """
    name = deployment["metadata"]["name"]
    prefix = _prefix(name)
    pod = deployment["spec"]["template"]["spec"]
    service = next(c for c in pod["containers"] if c["name"] == name)
    service_environment = container_env(overlay, service)
    problems = []
    if service_environment.get(f"{prefix}RELAY_IN_PROCESS", "true").lower() != "false":
        problems.append(
            f"{name}: the service still relays in process ({prefix}RELAY_IN_PROCESS is not false)"
        )
    relay = _relay(deployment)
    if relay is None:
        return [*problems, f"{name}: no relay sidecar"]
    problems += _relay_process_problems(name, service, relay)
    problems += _relay_environment_problems(overlay, name, service, relay)
    return problems


def _relay_process_problems(name: str, service: dict[str, Any], relay: dict[str, Any]) -> list[str]:
    problems = []
    if relay.get("restartPolicy") != "Always":
        problems.append(f"{name}: the relay is not a sidecar (restartPolicy: Always)")
    if relay["image"] != service["image"]:
        problems.append(f"{name}: the relay runs {relay['image']}, the service {service['image']}")
    if relay.get("command") != RELAY_COMMAND:
        problems.append(f"{name}: the relay runs {relay.get('command')}, not {RELAY_COMMAND}")
    args = relay.get("args", [])
    if "--database-url" in args:
        problems.append(f"{name}: the relay gets its database URL as an argument")
    if _option(args, "--name") != f"{name}-relay":
        problems.append(f"{name}: the relay's --name is {_option(args, '--name')}, not {name}-relay")
    return problems


def _relay_environment_problems(
    overlay: str, name: str, service: dict[str, Any], relay: dict[str, Any]
) -> list[str]:
    problems = []
    prefix = _prefix(name)
    service_entries = {entry["name"]: entry for entry in service.get("env", [])}
    relay_entries = {entry["name"]: entry for entry in relay.get("env", [])}
    url = relay_entries.get(RELAY_DATABASE_URL, {}).get("value")
    if url is None or url != service_entries[f"{prefix}DATABASE_URL"].get("value"):
        problems.append(f"{name}: the relay's {RELAY_DATABASE_URL} is {url}, not the service's URL")
    for variable in (f"{prefix}DB_PASSWORD", "FMC_KAFKA_SASL_PASSWORD"):
        if relay_entries.get(variable) != service_entries.get(variable):
            problems.append(f"{name}: the relay's {variable} differs from the service's")
    problems += [f"{name}: {problem}" for problem in unresolved_references(overlay, relay)]
    service_environment = container_env(overlay, service)
    relay_environment = container_env(overlay, relay)
    kafka = {k: v for k, v in service_environment.items() if k.startswith("FMC_KAFKA_")}
    if {k: v for k, v in relay_environment.items() if k.startswith("FMC_KAFKA_")} != kafka:
        problems.append(f"{name}: the relay's Kafka settings differ from the service's")
    ca_file = relay_environment.get("FMC_KAFKA_SSL_CAFILE")
    mounts = {mount["mountPath"] for mount in relay.get("volumeMounts", [])}
    if ca_file and not any(ca_file.startswith(f"{path.rstrip('/')}/") for path in mounts):
        problems.append(f"{name}: the relay does not mount {ca_file}")
    return problems


def relay_endpoint_problems(deployment: Resource) -> list[str]:
    """Why the kubelet would not watch the relay sidecar through its endpoints; empty when it would.

    relay_main serves ``/healthz`` (a round, failed or not, within ``--stale-after``), ``/readyz`` (a
    round without failure within it) and ``/metrics`` on ``--http-port``. The sidecar declares that
    port as ``relay-http``, and probes it: startup and liveness on /healthz, readiness on /readyz.
    """
    name = deployment["metadata"]["name"]
    relay = _relay(deployment)
    if relay is None:
        return [f"{name}: no relay sidecar"]
    problems = []
    listening = int(_option(relay.get("args", []), "--http-port") or RELAY_HTTP_PORT)
    declared = _relay_container_port(relay)
    if declared != listening:
        problems.append(f"{name}: the relay listens on {listening}, its port {RELAY_PORT} is {declared}")
    for probe, path in (
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ):
        http = relay.get(probe, {}).get("httpGet", {})
        if (http.get("path"), http.get("port")) != (path, RELAY_PORT):
            problems.append(f"{name}: the relay's {probe} is not {path} on {RELAY_PORT}")
    return problems


def relay_scrape_problems(resources: tuple[Resource, ...] | list[Resource], name: str) -> list[str]:
    """Why Prometheus would not scrape the service's relay sidecar; empty when it would.

    The Service has a port ``relay-metrics`` whose target is the sidecar's ``relay-http``, a
    ServiceMonitor selecting the Service scrapes that port's /metrics, and a NetworkPolicy of the pod
    admits the monitoring namespace to the container port.
    """

    def one(kind: str) -> Resource:
        return next(r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name)

    deployment = one("Deployment")
    relay = _relay(deployment)
    container_port = None if relay is None else _relay_container_port(relay)
    if container_port is None:
        return [f"{name}: the relay declares no port {RELAY_PORT}"]
    problems = []
    service = one("Service")
    port = next((p for p in service["spec"]["ports"] if p["name"] == RELAY_SERVICE_PORT), None)
    if port is None or port.get("targetPort") not in (container_port, RELAY_PORT):
        problems.append(f"{name}: no Service port {RELAY_SERVICE_PORT} reaches the relay's {RELAY_PORT}")
    monitors = [
        r
        for r in resources
        if r["kind"] == "ServiceMonitor"
        and r["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    ]
    if not any(
        (endpoint["port"], endpoint.get("path", "/metrics")) == (RELAY_SERVICE_PORT, "/metrics")
        for monitor in monitors
        for endpoint in monitor["spec"]["endpoints"]
    ):
        problems.append(f"{name}: no ServiceMonitor scrapes {RELAY_SERVICE_PORT}")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    admitted = [
        port
        for policy in resources
        if policy["kind"] == "NetworkPolicy" and _selects(policy, labels)
        for rule in policy["spec"].get("ingress", [])
        if any(
            peer.get("namespaceSelector", {}).get("matchLabels") == MONITORING
            for peer in rule.get("from", [])
        )
        for port in rule.get("ports", [])
    ]
    if {"protocol": "TCP", "port": container_port} not in admitted:
        problems.append(f"{name}: no NetworkPolicy admits monitoring to TCP {container_port}")
    return problems


def _without_relay_sidecar(deployment: Resource) -> Resource:
    changed = copy.deepcopy(deployment)
    pod = changed["spec"]["template"]["spec"]
    pod["initContainers"] = [c for c in pod["initContainers"] if c["name"] != "relay"]
    return changed


class TestOutboxRelay:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_the_relay_runs_as_a_sidecar_and_the_service_does_not_relay(
        self, overlay: str, service: str
    ) -> None:
        assert relay_layout_problems(overlay, named(overlay, "Deployment", service)) == []

    def test_a_deployment_without_the_relay_sidecar_fails(self) -> None:
        deployment = _without_relay_sidecar(named("prod", "Deployment", "registry"))
        assert relay_layout_problems("prod", deployment) == ["registry: no relay sidecar"]

    @pytest.mark.parametrize("value", [None, "true"])
    def test_a_service_that_still_relays_in_process_fails(self, value: str | None) -> None:
        deployment = copy.deepcopy(named("prod", "Deployment", "registry"))
        service = deployment["spec"]["template"]["spec"]["containers"][0]
        service["env"] = [e for e in service["env"] if e["name"] != "FMC_REGISTRY_RELAY_IN_PROCESS"]
        if value is not None:
            service["env"].append({"name": "FMC_REGISTRY_RELAY_IN_PROCESS", "value": value})
        assert relay_layout_problems("prod", deployment) == [
            "registry: the service still relays in process (FMC_REGISTRY_RELAY_IN_PROCESS is not false)"
        ]

    def test_a_relay_as_a_plain_container_on_another_database_fails(self) -> None:
        deployment = copy.deepcopy(named("prod", "Deployment", "registry"))
        relay = _relay(deployment)
        assert relay is not None
        del relay["restartPolicy"]
        scoring_url = "postgresql+asyncpg://scoring:$(FMC_SCORING_DB_PASSWORD)@fmc-scoring-db-rw:5432/scoring"
        next(e for e in relay["env"] if e["name"] == RELAY_DATABASE_URL)["value"] = scoring_url
        assert relay_layout_problems("prod", deployment) == [
            "registry: the relay is not a sidecar (restartPolicy: Always)",
            f"registry: the relay's FMC_RELAY_DATABASE_URL is {scoring_url}, not the service's URL",
            "registry: relay's FMC_RELAY_DATABASE_URL uses FMC_SCORING_DB_PASSWORD, not defined before it",
        ]

    def test_a_relay_given_its_url_as_an_argument_fails(self) -> None:
        """The layout before relay_main read FMC_RELAY_DATABASE_URL."""
        deployment = copy.deepcopy(named("prod", "Deployment", "registry"))
        relay = _relay(deployment)
        assert relay is not None
        relay["args"] = ["--database-url", "$(FMC_REGISTRY_DATABASE_URL)"]
        for entry in relay["env"]:
            if entry["name"] == RELAY_DATABASE_URL:
                entry["name"] = "FMC_REGISTRY_DATABASE_URL"
        assert relay_layout_problems("prod", deployment) == [
            "registry: the relay gets its database URL as an argument",
            "registry: the relay's --name is None, not registry-relay",
            "registry: the relay's FMC_RELAY_DATABASE_URL is None, not the service's URL",
        ]
        assert command_line_secrets("prod", relay) == ["relay: $(FMC_REGISTRY_DATABASE_URL)"]

    def test_a_relay_url_defined_before_its_password_fails(self) -> None:
        # The kubelet expands $(VAR) only with variables defined earlier: the URL would keep the
        # literal "$(FMC_REGISTRY_DB_PASSWORD)" as its password.
        deployment = copy.deepcopy(named("prod", "Deployment", "registry"))
        relay = _relay(deployment)
        assert relay is not None
        relay["env"].sort(key=lambda entry: entry["name"] != RELAY_DATABASE_URL)
        assert relay_layout_problems("prod", deployment) == [
            "registry: relay's FMC_RELAY_DATABASE_URL uses FMC_REGISTRY_DB_PASSWORD, not defined before it"
        ]

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_the_relay_gets_its_database_and_kafka_user_but_not_the_auth_secret(self, service: str) -> None:
        relay = _relay(named("prod", "Deployment", service))
        assert relay is not None
        environment = container_env("prod", relay)
        settings_cls = type(build_app(next(s for s in SERVICES if s.name == service)).state.runtime.settings)
        known = _env_names(settings_cls, _prefix(service)) | _env_names(KafkaSettings, "FMC_KAFKA_")
        known |= {f"{_prefix(service)}DB_PASSWORD", RELAY_DATABASE_URL}
        known |= {"FMC_AUTH_ISSUER", "FMC_AUTH_JWKS_URL"}  # public, from the shared ConfigMap; no key
        assert {name for name in environment if name.startswith("FMC_")} - known == set()
        assert f"$({_prefix(service)}DB_PASSWORD)" in environment[RELAY_DATABASE_URL]
        secrets = {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in relay["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        assert secrets == {f"fmc-{service}-db-app", f"fmc-{service}"}

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_the_kubelet_probes_the_relays_endpoints(self, overlay: str, service: str) -> None:
        assert relay_endpoint_problems(named(overlay, "Deployment", service)) == []

    def test_a_relay_without_probes_or_its_port_fails(self) -> None:
        deployment = copy.deepcopy(named("prod", "Deployment", "registry"))
        relay = _relay(deployment)
        assert relay is not None
        del relay["ports"]
        del relay["startupProbe"]
        relay["readinessProbe"]["httpGet"]["path"] = "/healthz"
        assert relay_endpoint_problems(deployment) == [
            "registry: the relay listens on 8090, its port relay-http is None",
            "registry: the relay's startupProbe is not /healthz on relay-http",
            "registry: the relay's readinessProbe is not /readyz on relay-http",
        ]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_prometheus_scrapes_the_relay(self, overlay: str, service: str) -> None:
        assert relay_scrape_problems(rendered(overlay), service) == []

    def test_a_relay_without_a_service_port_a_scrape_or_a_network_opening_fails(self) -> None:
        resources = copy.deepcopy(list(rendered("prod")))
        for resource in resources:
            if resource["metadata"]["name"] == "registry" and resource["kind"] == "Service":
                resource["spec"]["ports"] = [
                    p for p in resource["spec"]["ports"] if p["name"] != "relay-metrics"
                ]
            if resource["kind"] == "ServiceMonitor":
                endpoints = resource["spec"]["endpoints"]
                resource["spec"]["endpoints"] = [e for e in endpoints if e["port"] != "relay-metrics"]
            if resource["kind"] == "NetworkPolicy" and resource["metadata"]["name"] == "registry":
                for rule in resource["spec"]["ingress"]:
                    rule["ports"] = [p for p in rule["ports"] if p["port"] != 8090]
        assert relay_scrape_problems(resources, "registry") == [
            "registry: no Service port relay-metrics reaches the relay's relay-http",
            "registry: no ServiceMonitor scrapes relay-metrics",
            "registry: no NetworkPolicy admits monitoring to TCP 8090",
        ]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_services_reach_sidecar_ports_by_number(self, overlay: str) -> None:
        """A Service resolves a named targetPort among the regular containers only, before Kubernetes
        1.32 (kubernetes/kubernetes#128850): a sidecar's port must be given by number."""
        for service in of_kind(overlay, "Service"):
            selector = service["spec"].get("selector")
            if not selector:
                continue
            pods = [
                d["spec"]["template"]["spec"]
                for d in of_kind(overlay, "Deployment")
                if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
            ]
            for port in service["spec"]["ports"]:
                target = port.get("targetPort")
                for pod in pods if isinstance(target, str) else []:
                    names = {p.get("name") for c in pod["containers"] for p in c.get("ports", [])}
                    assert target in names, f"Service {service['metadata']['name']}: {target}"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_cpu_autoscaling_watches_the_service_container_not_the_relay(
        self, overlay: str, service: str
    ) -> None:
        metrics = named(overlay, "HorizontalPodAutoscaler", service)["spec"]["metrics"]
        assert [m["type"] for m in metrics] == ["ContainerResource"]
        assert metrics[0]["containerResource"]["container"] == service
        assert metrics[0]["containerResource"]["name"] == "cpu"


# --- secrets -------------------------------------------------------------------------------------


def _secret_references(resource: Resource) -> Iterator[str]:
    spec = _pod_spec(resource)
    if spec is None:
        return
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            yield volume["secret"]["secretName"]
    for container in _containers(resource):
        for entry in container.get("env", []):
            if "secretKeyRef" in entry.get("valueFrom", {}):
                yield entry["valueFrom"]["secretKeyRef"]["name"]
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                yield source["secretRef"]["name"]


def committed_secret_values(resources: tuple[Resource, ...] | list[Resource]) -> list[str]:
    """Secrets that carry values, and ConfigMap keys that look like secrets."""
    found = [
        f"Secret/{r['metadata']['name']}"
        for r in resources
        if r["kind"] == "Secret" and (r.get("data") or r.get("stringData"))
    ]
    found += [
        f"ConfigMap/{r['metadata']['name']}/{key}"
        for r in resources
        if r["kind"] == "ConfigMap"
        for key in r.get("data", {})
        if re.search(r"PASSWORD|SECRET|TOKEN", key)
    ]
    return found


class TestSecrets:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_no_secret_value_is_committed(self, overlay: str) -> None:
        assert committed_secret_values(rendered(overlay)) == []

    def test_a_secret_with_a_value_would_be_caught(self) -> None:
        secret: Resource = {
            "kind": "Secret",
            "metadata": {"name": "fmc-auth"},
            "stringData": {"jwt-secret": "x"},
        }
        config: Resource = {
            "kind": "ConfigMap",
            "metadata": {"name": "c"},
            "data": {"FMC_AUTH_JWT_SECRET": "x"},
        }
        empty: Resource = {"kind": "Secret", "metadata": {"name": "placeholder"}}
        assert committed_secret_values([secret, config, empty]) == [
            "Secret/fmc-auth",
            "ConfigMap/c/FMC_AUTH_JWT_SECRET",
        ]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_no_database_url_or_secret_is_on_a_command_line(self, overlay: str) -> None:
        for resource in rendered(overlay):
            for container in _containers(resource):
                assert command_line_secrets(overlay, container) == []

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_variable_reference_resolves(self, overlay: str) -> None:
        # An unresolved $(VAR) stays literal: a URL would carry "$(..._DB_PASSWORD)" as its password.
        for resource in rendered(overlay):
            for container in _containers(resource):
                assert unresolved_references(overlay, container) == []

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_secrets_come_from_the_operators_or_are_documented(self, overlay: str) -> None:
        made = {f"{c['metadata']['name']}-app" for c in of_kind(overlay, "Cluster")}
        made |= {u["metadata"]["name"] for u in of_kind(overlay, "KafkaUser")}
        made |= {f"{k['metadata']['name']}-cluster-ca-cert" for k in of_kind(overlay, "Kafka")}
        referenced = {name for resource in rendered(overlay) for name in _secret_references(resource)}
        for cluster in of_kind(overlay, "Cluster"):
            credentials = cluster["spec"]["backup"]["barmanObjectStore"]["s3Credentials"]
            referenced |= {ref["name"] for ref in credentials.values()}
        assert referenced - made == EXTERNAL_SECRETS
        operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
        for name in EXTERNAL_SECRETS:
            assert name in operations, f"docs/operations.md must say how to create the Secret {name}"


# --- Kafka ---------------------------------------------------------------------------------------


def _acls(overlay: str, user: str) -> list[dict[str, Any]]:
    acls: list[dict[str, Any]] = named(overlay, "KafkaUser", user)["spec"]["authorization"]["acls"]
    return acls


def _topics_with(acls: list[dict[str, Any]], operation: str) -> set[tuple[str, str]]:
    return {
        (acl["resource"]["name"], acl["resource"].get("patternType", "literal"))
        for acl in acls
        if acl["resource"]["type"] == "topic"
        and (operation in acl["operations"] or "All" in acl["operations"])
    }


class TestKafka:
    def test_topics_match_the_catalogue(self) -> None:
        topics = of_kind("prod", "KafkaTopic")
        assert sorted(t["spec"]["topicName"] for t in topics) == sorted(str(t) for t in Topic)
        assert {t["metadata"]["name"] for t in topics} == {str(t) for t in Topic}

    @pytest.mark.parametrize("kind", ["KafkaTopic", "KafkaUser", "KafkaNodePool"])
    def test_every_kafka_resource_belongs_to_the_cluster(self, kind: str) -> None:
        cluster = of_kind("prod", "Kafka")[0]["metadata"]["name"]
        for resource in of_kind("prod", kind):
            assert resource["metadata"]["labels"]["strimzi.io/cluster"] == cluster

    def test_topics_are_replicated_and_keep_writes_durable(self) -> None:
        for topic in of_kind("prod", "KafkaTopic"):
            assert topic["spec"]["replicas"] >= 3
            assert int(topic["spec"]["config"]["min.insync.replicas"]) >= 2

    def test_services_reach_kafka_the_way_the_cluster_listens(self) -> None:
        kafka = of_kind("prod", "Kafka")[0]
        platform = named("prod", "ConfigMap", "fmc-platform")["data"]
        host, port = platform["FMC_KAFKA_BOOTSTRAP_SERVERS"].split(":")
        assert host == f"{kafka['metadata']['name']}-kafka-bootstrap"
        listener = next(lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["port"] == int(port))
        assert listener["type"] == "internal"
        assert listener["tls"] is True
        assert listener["authentication"]["type"] == "scram-sha-512"
        assert platform["FMC_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert platform["FMC_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
        for service in SERVICE_NAMES:
            assert service_env("prod", service)["FMC_KAFKA_SASL_USERNAME"] == f"fmc-{service}"

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_a_service_writes_only_its_own_topics(self, service: str) -> None:
        own = {(str(spec.topic), "literal") for spec in CATALOGUE if spec.owner == service}
        assert _topics_with(_acls("prod", f"fmc-{service}"), "Write") == own
        for operation in ("Create", "Delete", "Alter", "AlterConfigs", "All"):
            assert _topics_with(_acls("prod", f"fmc-{service}"), operation) == set()

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_a_service_reads_exactly_the_topics_its_consumers_subscribe_to(self, service: str) -> None:
        consumed = {(topic, "literal") for _, topics in consumers_of(service) for topic in topics}
        assert _topics_with(_acls("prod", f"fmc-{service}"), "Read") == consumed

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_consumer_groups_are_covered_by_the_group_acl(self, service: str) -> None:
        prefixes = [
            acl["resource"]["name"]
            for acl in _acls("prod", f"fmc-{service}")
            if acl["resource"]["type"] == "group" and acl["resource"]["patternType"] == "prefix"
        ]
        for group, _ in consumers_of(service):
            assert any(group.startswith(prefix) for prefix in prefixes), f"group {group} is not allowed"

    def test_partners_read_only_the_public_topic(self) -> None:
        public = {(str(spec.topic), "literal") for spec in CATALOGUE if spec.partner_facing}
        partners = [
            u["metadata"]["name"]
            for u in of_kind("prod", "KafkaUser")
            if u["metadata"]["name"] not in {f"fmc-{s}" for s in SERVICE_NAMES}
        ]
        assert partners, "no partner KafkaUser"
        for partner in partners:
            acls = _acls("prod", partner)
            topic_acls = [acl for acl in acls if acl["resource"]["type"] == "topic"]
            assert {
                (a["resource"]["name"], a["resource"].get("patternType", "literal")) for a in topic_acls
            } <= public
            assert _topics_with(acls, "Read") == public
            assert all(set(acl["operations"]) <= {"Read", "Describe"} for acl in acls)

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_consumer_replicas_never_exceed_partitions(self, overlay: str) -> None:
        partitions = {t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(overlay, "KafkaTopic")}
        checked = 0
        for service in SERVICE_NAMES:
            consumed = [topic for _, topics in consumers_of(service) for topic in topics]
            if consumed:
                hpa = named(overlay, "HorizontalPodAutoscaler", service)["spec"]
                assert hpa["maxReplicas"] <= min(partitions[topic] for topic in consumed), service
                checked += 1
        assert checked, "no service consumes a topic: nothing was checked"


# --- PostgreSQL ----------------------------------------------------------------------------------


class TestPostgres:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_each_service_has_its_own_backed_up_cluster(self, overlay: str, service: str) -> None:
        url = service_env(overlay, service)[f"{_prefix(service)}DATABASE_URL"]
        match = re.fullmatch(r"postgresql\+asyncpg://(\w+):\$\((\w+)\)@([\w-]+)-rw:5432/(\w+)", url)
        assert match, url
        user, _, cluster_name, database = match.groups()
        cluster = named(overlay, "Cluster", cluster_name)["spec"]
        assert cluster["bootstrap"]["initdb"] == {"database": database, "owner": user}
        assert cluster["backup"]["barmanObjectStore"]["destinationPath"].endswith(f"/{service}")
        backups = [
            b for b in of_kind(overlay, "ScheduledBackup") if b["spec"]["cluster"]["name"] == cluster_name
        ]
        assert len(backups) == 1
        clusters = [c["metadata"]["name"] for c in of_kind(overlay, "Cluster")]
        assert len(clusters) == len(set(clusters)) == len(SERVICE_NAMES)

    def test_production_databases_are_highly_available(self) -> None:
        for cluster in of_kind("prod", "Cluster"):
            assert cluster["spec"]["instances"] >= 3
            assert cluster["spec"]["affinity"]["enablePodAntiAffinity"] is True


# --- Triton --------------------------------------------------------------------------------------


class TestTriton:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("pool", sorted(GPU_POOLS))
    def test_each_pool_runs_on_its_gpus(self, overlay: str, pool: str) -> None:
        pod = named(overlay, "Deployment", f"triton-{pool}")["spec"]["template"]["spec"]
        assert GPU_POOLS[pool] in pod["nodeSelector"]["nvidia.com/gpu.product"]
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        container = pod["containers"][0]
        assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
        assert (
            container["resources"]["requests"]["nvidia.com/gpu"]
            == container["resources"]["limits"]["nvidia.com/gpu"]
        )
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "--model-repository=/models" in container["args"]
        models = next(name for name, mount in mounts.items() if mount["mountPath"] == "/models")
        assert mounts[models]["readOnly"] is True
        claim = volumes[models]["persistentVolumeClaim"]["claimName"]
        assert named(overlay, "PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadOnlyMany"]

    def test_the_gateway_points_at_a_triton_grpc_port(self) -> None:
        host, port = service_env("prod", "inference-gateway")["FMC_GATEWAY_TRITON_URL"].split(":")
        service = named("prod", "Service", host)
        grpc = next(p for p in service["spec"]["ports"] if p["name"] == "grpc")
        assert grpc["port"] == int(port)

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_gateway_connects_only_to_the_pools_triton_services(self, overlay: str) -> None:
        """Every allowed Triton address is a pool Service's gRPC or HTTP port, both pools are there,
        and an address outside them (another port, another host) is refused."""
        env = service_env(overlay, "inference-gateway")
        allowed = json.loads(env["FMC_GATEWAY_TRITON_ALLOWED_HOSTS"])
        served = set()
        for name in ("triton-h100", "triton-b200"):
            ports = named(overlay, "Service", name)["spec"]["ports"]
            served |= {f"{name}:{p['port']}" for p in ports if p["name"] in ("grpc", "http")}
        assert set(allowed) == served
        hosts = TritonHosts([*allowed, env["FMC_GATEWAY_TRITON_URL"]])
        hosts.check(env["FMC_GATEWAY_TRITON_URL"])
        for elsewhere in ("triton-h100:8002", "scoring:8003", "169.254.169.254:80"):
            with pytest.raises(TritonHostNotAllowed):
                hosts.check(elsewhere)


# --- network policies ----------------------------------------------------------------------------


def _selects(policy: Resource, labels: dict[str, str]) -> bool:
    selector: dict[str, str] = policy["spec"]["podSelector"].get("matchLabels", {})
    return selector.items() <= labels.items()


def _egress_peers(overlay: str, service: str) -> list[dict[str, Any]]:
    labels = named(overlay, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
    return [
        peer
        for policy in of_kind(overlay, "NetworkPolicy")
        if _selects(policy, labels)
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
    ]


class TestNetworkPolicies:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_platform_pods_are_denied_by_default_and_opened_one_by_one(self, overlay: str) -> None:
        deny = named(overlay, "NetworkPolicy", "fmc-default-deny")["spec"]
        assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
        assert "ingress" not in deny
        assert "egress" not in deny
        for deployment in of_kind(overlay, "Deployment"):
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert _selects(named(overlay, "NetworkPolicy", "fmc-default-deny"), labels)
            own = [
                p
                for p in of_kind(overlay, "NetworkPolicy")
                if p["metadata"]["name"] != "fmc-default-deny" and _selects(p, labels)
            ]
            assert own, f"{deployment['metadata']['name']} has no policy of its own"

    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_a_service_reaches_only_dns_kafka_its_database_and_what_it_calls(self, service: str) -> None:
        peers = _egress_peers("prod", service)
        targets = [peer.get("podSelector", {}).get("matchLabels", {}) for peer in peers]
        assert {"cnpg.io/cluster": f"fmc-{service}-db"} in targets
        assert any(t.get("strimzi.io/cluster") == "fmc-kafka" for t in targets)
        databases = {t["cnpg.io/cluster"] for t in targets if "cnpg.io/cluster" in t}
        assert databases == {f"fmc-{service}-db"}, "a service must not reach another service's database"
        calls_triton = {"app.kubernetes.io/name": "triton"} in targets
        assert calls_triton == (service == "inference-gateway")

    def test_kafka_admits_only_labelled_clients_on_the_internal_listener(self) -> None:
        kafka = of_kind("prod", "Kafka")[0]
        internal = next(lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["type"] == "internal")
        peers = internal["networkPolicyPeers"]
        for service in SERVICE_NAMES:
            labels = named("prod", "Deployment", service)["spec"]["template"]["metadata"]["labels"]
            assert any(peer["podSelector"]["matchLabels"].items() <= labels.items() for peer in peers)


def _admits(rule_peers: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    return any(
        peer.get("podSelector", {}).get("matchLabels", {}).items() <= labels.items() for peer in rule_peers
    )


def _opens(policy_rules: list[dict[str, Any]], side: str, labels: dict[str, str], port: int) -> bool:
    return any(
        _admits(rule.get(side, []), labels) and any(p.get("port") == port for p in rule.get("ports", []))
        for rule in policy_rules
    )


class TestItemsSource:
    """The gateway fetches a run's items from scoring's API and nowhere else: its one allowed base is
    scoring's Service, scoring's items URLs lie under it, and the network lets exactly that through."""

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_gateway_allows_only_scorings_items_and_scoring_points_there(self, overlay: str) -> None:
        gateway, scoring = service_env(overlay, "inference-gateway"), service_env(overlay, "scoring")
        bases = json.loads(gateway["FMC_GATEWAY_ITEMS_ALLOWED_URLS"])
        sources = ItemsSources(bases, None)
        run_items = items_uri(scoring["FMC_SCORING_ITEMS_BASE_URL"], uuid.uuid4())
        assert isinstance(sources.check(run_items), HttpSource)
        service = named(overlay, "Service", "scoring")
        http = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "http")
        assert [(httpx.URL(base).host, httpx.URL(base).port) for base in bases] == [("scoring", http)]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_network_lets_the_gateway_reach_scorings_api(self, overlay: str) -> None:
        labels = {
            name: named(overlay, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
            for name in ("inference-gateway", "scoring")
        }
        port = int(service_env(overlay, "scoring")["FMC_SCORING_HTTP_PORT"])
        policies = of_kind(overlay, "NetworkPolicy")
        egress = [
            r
            for p in policies
            if _selects(p, labels["inference-gateway"])
            for r in p["spec"].get("egress", [])
        ]
        ingress = [
            r for p in policies if _selects(p, labels["scoring"]) for r in p["spec"].get("ingress", [])
        ]
        assert _opens(egress, "to", labels["scoring"], port)
        assert _opens(ingress, "from", labels["inference-gateway"], port)
