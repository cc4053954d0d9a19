"""The Kubernetes manifests (deploy/k8s), as a cluster would take them.

Every overlay is rendered by the real kustomize (``kubectl kustomize``); built-in kinds are validated with
kubernetes-validate (strict) for the Kubernetes version we target, custom resources against the
operators' official CRDs (``../shared/reference/crds``): tests/deploy/cluster.py. Then what the platform
needs from the rendered resources: the services wired to each other, their databases (through PgBouncer,
within the connection budget, backed up per environment), Kafka (Strimzi v1, Pod Security "restricted",
ACLs), Triton (explicit model control, headless Services), the NetworkPolicies (every path the code uses
open and nothing else: tests/deploy/reachability.py), monitoring, alerts and routes.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi.routing import APIRoute
from pydantic_settings import BaseSettings

from deploy.cluster import (
    K8S,
    KUBERNETES_VERSION,
    ROOT,
    ManifestError,
    all_problems,
    crd_directory,
    kustomize,
    problems,
)
from deploy.reachability import Connection, Network, Pod, network, workload_pods
from fmc_common.contracts.openapi import SERVICES, build_app
from fmc_common.events.topics import CATALOGUE, Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_common.tracing import TracingSettings
from fmc_gateway.runs.sources import HttpSource, ItemsSources
from fmc_gateway.triton.hosts import TritonHostNotAllowed, TritonHosts
from fmc_scoring.planning.service import items_uri
from fmc_web.main import ROUTERS
from fmc_web.settings import WebSettings

OVERLAYS = ("dev", "prod")
SERVICE_NAMES = tuple(service.name for service in SERVICES)
# The web tier (services/web): a Deployment like the services', but no database, Kafka or metrics port.
WEB = "web"
WEB_CALLS = ("registry", "inference-gateway", "scoring", "grievance")
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
# Secrets the platform expects to exist but never ships (docs/operations.md says how to create them).
EXTERNAL_SECRETS = {
    "fmc-auth",
    "fmc-backup-s3",
    "fmc-grievance-audit",
    "fmc-scoring-s3",
    "fmc-tls",
    "fmc-triton-s3",
    "fmc-web-session",
    "fmc-web-service-key",
    *(f"fmc-{service}-service-key" for service in ("registry", "inference-gateway", "scoring", "grievance")),
}
GPU_POOLS = {"h100": "H100", "b200": "B200"}
# The oldest Triton release whose CUDA runs each pool's GPU: Hopper from 22.10 (CUDA 11.8), Blackwell
# (B200) from 25.01 (CUDA 12.8).
TRITON_MINIMUM_RELEASE = {"h100": (22, 10), "b200": (25, 1)}
Resource = dict[str, Any]


def load_documents(path: Path) -> list[Resource]:
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


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


def rendered(overlay: str) -> tuple[Resource, ...]:
    """``kubectl kustomize deploy/k8s/overlays/<overlay>``."""
    return kustomize(K8S / "overlays" / overlay)


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

    def test_development_images_are_pinned_to_a_tag(self) -> None:
        for resource in rendered("dev"):
            for container in _containers(resource):
                image = container["image"]
                assert re.search(r":[\w.-]+$", image), f"{image} has no tag"
                assert not image.endswith(":latest")

    def test_production_images_are_pinned_by_digest(self) -> None:
        images = [c["image"] for r in rendered("prod") for c in _containers(r)]
        images += [c["spec"]["imageName"] for c in of_kind("prod", "Cluster")]
        assert images
        for image in images:
            assert re.search(r"@sha256:[0-9a-f]{64}$", image), f"{image} is not pinned by digest"


# --- schemas -------------------------------------------------------------------------------------


class TestSchemas:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_rendered_resource_is_one_the_cluster_accepts(self, overlay: str) -> None:
        assert all_problems(rendered(overlay)) == []

    def test_a_misspelt_field_fails_validation(self) -> None:
        deployment = copy.deepcopy(named("prod", "Deployment", "registry"))
        deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
        assert problems(deployment) != []

    def test_a_misspelt_custom_resource_field_fails_validation(self) -> None:
        topic = copy.deepcopy(named("prod", "KafkaTopic", str(Topic.REGISTRY)))
        topic["spec"]["partition"] = topic["spec"].pop("partitions")
        assert problems(topic) == [
            f"KafkaTopic/{Topic.REGISTRY}: spec: "
            "Additional properties are not allowed ('partition' was unexpected)"
        ]

    def test_a_field_nested_in_a_custom_resource_is_checked_too(self) -> None:
        kafka = copy.deepcopy(named("prod", "Kafka", "fmc-kafka"))
        kafka["spec"]["kafka"]["listeners"][0]["authentication"]["typ"] = "tls"
        assert any("'typ' was unexpected" in problem for problem in problems(kafka))

    def test_an_api_version_the_crd_does_not_serve_fails(self) -> None:
        topic = copy.deepcopy(named("prod", "KafkaTopic", str(Topic.REGISTRY)))
        topic["apiVersion"] = "kafka.strimzi.io/v1beta2"
        assert problems(topic) == [
            f"KafkaTopic/{Topic.REGISTRY}: KafkaTopic: "
            "the CRD (strimzi-1.2.0) serves kafka.strimzi.io/['v1'], "
            "not v1beta2"
        ]

    def test_a_kind_without_a_crd_fails(self) -> None:
        resource = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
        assert problems(resource)[0].startswith("Widget/w: no CRD defines example.com/Widget")

    def test_fields_below_preserve_unknown_fields_are_free_and_the_rest_is_not(self) -> None:
        topic = copy.deepcopy(named("prod", "KafkaTopic", str(Topic.REGISTRY)))
        topic["spec"]["config"]["segment.bytes"] = 1_073_741_824  # config preserves unknown fields
        assert problems(topic) == []
        cluster = copy.deepcopy(named("prod", "Cluster", "fmc-scoring-db"))
        cluster["spec"]["postgresql"]["parameters"]["max_connections"] = 200  # a map of strings
        assert problems(cluster) != []

    def test_the_in_tree_barman_object_store_is_still_served_but_not_used(self) -> None:
        # Deprecated since CloudNativePG 1.26: the clusters back up through the barman-cloud plugin.
        for overlay in OVERLAYS:
            for cluster in of_kind(overlay, "Cluster"):
                assert "backup" not in cluster["spec"], cluster["metadata"]["name"]

    def test_the_crds_are_read_from_beside_the_repository_not_copied_into_it(self) -> None:
        assert not crd_directory().is_relative_to(ROOT)
        tracked = subprocess.run(
            ["git", "ls-files", "*.yaml", "*.yml", "*.json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert [name for name in tracked if "kind: CustomResourceDefinition" in _head(ROOT / name)] == []

    def test_kubernetes_version_is_the_one_the_docs_state(self) -> None:
        operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
        assert f"Kubernetes {KUBERNETES_VERSION}" in operations

    def test_a_broken_kustomization_is_an_error(self, tmp_path: Path) -> None:
        (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n", encoding="utf-8")
        with pytest.raises(ManifestError, match=r"missing\.yaml"):
            kustomize(tmp_path)


def _head(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.read(4000)


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
        assert ports["metrics"] == int(env[f"{prefix}METRICS_PORT"])
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
        known |= _tracing_names()
        env = service_env("prod", service)
        assert {name for name in env if name.startswith("FMC_")} - known == set()
        assert env[f"{_prefix(service)}DATABASE_URL"].startswith("postgresql+asyncpg://")

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_the_service_starts_with_the_manifests_environment_and_refuses_without_a_url(
        self, overlay: str, service: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The settings class validates the container's environment as the service does at start:
        deployed (environment=cluster), so a URL left at its loopback default refuses the start, named."""
        settings_cls = type(build_app(next(s for s in SERVICES if s.name == service)).state.runtime.settings)
        env = service_env(overlay, service)
        for name in [n for n in os.environ if n.startswith("FMC_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():  # a Secret's value: a generated one
            monkeypatch.setenv(name, uuid.uuid4().hex * 2 if value == "<from secret>" else value)
        settings = settings_cls()
        assert getattr(settings, "environment", None) == "cluster"
        monkeypatch.delenv(f"{_prefix(service)}DATABASE_URL")
        with pytest.raises(ValueError, match=f"{_prefix(service)}DATABASE_URL"):
            settings_cls()
        if service == "scoring":
            monkeypatch.setenv("FMC_SCORING_DATABASE_URL", env["FMC_SCORING_DATABASE_URL"])
            monkeypatch.delenv("FMC_SCORING_GATEWAY_URL")
            with pytest.raises(ValueError, match="needs FMC_SCORING_GATEWAY_URL set"):
                settings_cls()

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
    @pytest.mark.parametrize("service", [*SERVICE_NAMES, WEB])
    def test_every_service_has_a_service_an_hpa_and_a_pdb(self, overlay: str, service: str) -> None:
        pod_labels = named(overlay, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
        selector = named(overlay, "Service", service)["spec"]["selector"]
        assert selector.items() <= pod_labels.items()
        hpa = named(overlay, "HorizontalPodAutoscaler", service)["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        pdb = named(overlay, "PodDisruptionBudget", service)["spec"]
        assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()

    def test_the_docs_state_the_hpa_bounds_the_overlays_set(self) -> None:
        operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
        match = re.search(
            r"gateway's HPA \(CPU, (\d+)\u2013(\d+) replicas in prod, (\d+)\u2013(\d+) in dev\)", operations
        )
        assert match, "docs/operations.md must state the gateway's HPA bounds"
        for overlay, (low, high) in (("prod", match.group(1, 2)), ("dev", match.group(3, 4))):
            hpa = named(overlay, "HorizontalPodAutoscaler", "inference-gateway")["spec"]
            assert (hpa["minReplicas"], hpa["maxReplicas"]) == (int(low), int(high)), overlay

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_deployments_an_hpa_scales_state_no_replicas(self, overlay: str) -> None:
        """Each apply would reset the count the HPA chose."""
        scaled = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(overlay, "HorizontalPodAutoscaler")}
        assert scaled == {*SERVICE_NAMES, WEB}
        for name in scaled:
            assert "replicas" not in named(overlay, "Deployment", name)["spec"], name

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_no_setting_is_left_at_a_loopback_default(self, overlay: str, service: str) -> None:
        """A URL whose default is the service's own loopback (the dev runner's layout) must be set."""
        settings_cls = type(build_app(next(s for s in SERVICES if s.name == service)).state.runtime.settings)
        env = service_env(overlay, service)
        for name, field in settings_cls.model_fields.items():
            if isinstance(field.default, str) and re.search(r"127\.0\.0\.1|localhost", field.default):
                variable = f"{_prefix(service)}{name.upper()}"
                assert variable in env, f"{service}: {variable} is left at {field.default}"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_every_service_url_names_a_service_port_and_its_audience(
        self, overlay: str, service: str
    ) -> None:
        """<X>_URL points at a Service's HTTP port, and <X>_AUDIENCE (the aud of the service tokens sent
        there) is that service's name."""
        env = service_env(overlay, service)
        prefix = _prefix(service)
        checked = 0
        for variable, value in env.items():
            match = re.fullmatch(rf"{prefix}(\w+)_URL", variable)
            if not match or not value.startswith("http://"):
                continue
            url = httpx.URL(value)
            target = named(overlay, "Service", url.host)
            assert url.port in [p["port"] for p in target["spec"]["ports"] if p["name"] == "http"], variable
            audience = env.get(f"{prefix}{match[1]}_AUDIENCE")
            if audience is not None:
                assert audience == url.host, variable
            checked += 1
        assert checked or service in ("registry", "grievance", "inference-gateway")

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
        assert {endpoint["port"] for endpoint in monitor["endpoints"]} == {"metrics", RELAY_SERVICE_PORT}
        assert {endpoint["path"] for endpoint in monitor["endpoints"]} == {"/metrics"}
        assert len({endpoint["interval"] for endpoint in monitor["endpoints"]}) == 1


def _prefix(service: str) -> str:
    return {"inference-gateway": "FMC_GATEWAY_"}.get(service, f"FMC_{service.upper()}_")


def _env_names(settings_cls: type[BaseSettings], prefix: str) -> set[str]:
    return {f"{prefix}{name.upper()}" for name in settings_cls.model_fields}


def _tracing_names() -> set[str]:
    """FMC_TRACING_*: every service reads them (fmc_common.tracing), besides its own settings class."""
    return _env_names(TracingSettings, "FMC_TRACING_")


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


def _selects(policy: Resource, labels: dict[str, str]) -> bool:
    selector: dict[str, str] = policy["spec"]["podSelector"].get("matchLabels", {})
    return selector.items() <= labels.items()


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
        known |= _tracing_names()  # from the shared ConfigMap too (the relay itself makes no spans)
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
        # A *_FILE setting names the file a mounted Secret is read from, not the secret itself.
        and not (key.endswith("_FILE") and r["data"][key].startswith("/"))
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
        for store in of_kind(overlay, "ObjectStore"):
            credentials = store["spec"]["configuration"]["s3Credentials"]
            referenced |= {ref["name"] for ref in credentials.values()}
        for gateway in of_kind(overlay, "Gateway"):
            referenced |= {
                ref["name"]
                for listener in gateway["spec"]["listeners"]
                for ref in listener["tls"]["certificateRefs"]
            }
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
            if u["metadata"]["name"] not in {f"fmc-{s}" for s in SERVICE_NAMES} | {ADMIN_USER}
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


ADMIN_USER = "fmc-admin"


def restricted_problems(
    where: str, pod: dict[str, Any] | None, container: dict[str, Any] | None
) -> list[str]:
    """Why a pod template and container securityContext would fail Pod Security "restricted"."""
    pod = pod or {}
    container = container or {}
    problems = []
    if not (container.get("runAsNonRoot") or pod.get("runAsNonRoot")):
        problems.append(f"{where}: runAsNonRoot is not set")
    seccomp = container.get("seccompProfile") or pod.get("seccompProfile") or {}
    if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append(f"{where}: no RuntimeDefault seccomp profile")
    if container.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: privilege escalation is allowed")
    if container.get("capabilities", {}).get("drop") != ["ALL"]:
        problems.append(f"{where}: capabilities are not all dropped")
    return problems


def strimzi_restricted_problems(resources: tuple[Resource, ...] | list[Resource]) -> list[str]:
    """Every pod Strimzi makes from these resources, with the security contexts their templates give."""
    problems = []
    for kafka in (r for r in resources if r["kind"] == "Kafka"):
        spec = kafka["spec"]
        template = spec["kafka"].get("template", {})
        pools = [r for r in resources if r["kind"] == "KafkaNodePool"]
        for pool in pools:
            pool_template = pool["spec"].get("template", {})
            pod = pool_template.get("pod", template.get("pod", {})).get("securityContext")
            for container_key in ("kafkaContainer", "initContainer"):
                container = pool_template.get(container_key, template.get(container_key, {})).get(
                    "securityContext"
                )
                problems += restricted_problems(f"{pool['metadata']['name']}/{container_key}", pod, container)
        operator = spec.get("entityOperator", {})
        operator_pod = operator.get("template", {}).get("pod", {}).get("securityContext")
        for key, container_key in (
            ("topicOperator", "topicOperatorContainer"),
            ("userOperator", "userOperatorContainer"),
        ):
            if key in operator:
                container = operator["template"].get(container_key, {}).get("securityContext")
                problems += restricted_problems(f"entityOperator/{container_key}", operator_pod, container)
        if "kafkaExporter" in spec:
            exporter = spec["kafkaExporter"].get("template", {})
            problems += restricted_problems(
                "kafkaExporter",
                exporter.get("pod", {}).get("securityContext"),
                exporter.get("container", {}).get("securityContext"),
            )
    return problems


class TestStrimzi:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_current_strimzi_api_and_kafka_4_in_kraft_mode(self, overlay: str) -> None:
        for resource in rendered(overlay):
            if resource["apiVersion"].startswith("kafka.strimzi.io/"):
                assert resource["apiVersion"] == "kafka.strimzi.io/v1", resource["metadata"]["name"]
        kafka = named(overlay, "Kafka", "fmc-kafka")
        assert re.fullmatch(r"4\.[23]\.\d+", kafka["spec"]["kafka"]["version"])
        pools = of_kind(overlay, "KafkaNodePool")
        assert {role for pool in pools for role in pool["spec"]["roles"]} == {"controller", "broker"}
        assert (
            sum(pool["spec"]["replicas"] for pool in pools if "controller" in pool["spec"]["roles"]) % 2 == 1
        )

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_strimzi_pod_meets_pod_security_restricted(self, overlay: str) -> None:
        assert strimzi_restricted_problems(rendered(overlay)) == []

    def test_a_strimzi_pod_without_the_restricted_context_is_caught(self) -> None:
        resources = copy.deepcopy(list(rendered("prod")))
        kafka = next(r for r in resources if r["kind"] == "Kafka")
        del kafka["spec"]["entityOperator"]["template"]["userOperatorContainer"]
        assert strimzi_restricted_problems(resources) == [
            "entityOperator/userOperatorContainer: privilege escalation is allowed",
            "entityOperator/userOperatorContainer: capabilities are not all dropped",
        ]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_brokers_spread_over_nodes_and_zones_and_know_their_rack(self, overlay: str) -> None:
        kafka = named(overlay, "Kafka", "fmc-kafka")["spec"]["kafka"]
        assert kafka["rack"]["topologyKey"] == "topology.kubernetes.io/zone"
        for pool in of_kind(overlay, "KafkaNodePool"):
            pod = pool["spec"]["template"]["pod"]
            [term] = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            assert term["topologyKey"] == "kubernetes.io/hostname"
            assert term["labelSelector"]["matchLabels"]["strimzi.io/pool-name"] == pool["metadata"]["name"]
            [spread] = pod["topologySpreadConstraints"]
            assert spread["topologyKey"] == "topology.kubernetes.io/zone"

    def test_the_admin_user_has_just_the_runbooks_rights(self) -> None:
        acls = _acls("prod", ADMIN_USER)
        operations = {op for acl in acls for op in acl["operations"]}
        assert operations <= {"Describe", "Read", "Write"}
        assert {acl["resource"]["type"] for acl in acls} == {"topic", "group"}
        internal = {str(spec.topic) for spec in CATALOGUE if spec.owner and not spec.partner_facing}
        events = {t for t in internal if ".events." in t}
        # Re-publish a dead letter to the event topic it came from; nothing else is written.
        assert _topics_with(acls, "Write") == {(t, "literal") for t in events}
        assert _topics_with(acls, "Read") == {("fmc.", "prefix")}
        groups = {
            acl["resource"]["name"]: set(acl["operations"])
            for acl in acls
            if acl["resource"]["type"] == "group"
        }
        for service in SERVICE_NAMES:
            assert groups[f"{service}."] == {"Describe", "Read"}  # lag, offset resets
        assert groups[f"{ADMIN_USER}."] == {"Read"}
        assert set(groups) == {f"{s}." for s in SERVICE_NAMES} | {f"{ADMIN_USER}."}


# --- monitoring, alerts, routes --------------------------------------------------------------------

MONITOR_SELECTOR = {"release": "kube-prometheus-stack"}
# Metrics exported by what the platform runs but does not write: Strimzi's Kafka Exporter.
EXTERNAL_METRICS = {"kafka_consumergroup_lag"}
ALERTS = {
    "FmcConsumerLag",
    "FmcDeadLetters",
    "FmcOutboxBacklog",
    "FmcOutboxPublishFailing",
    "FmcBreakerOpen",
    "FmcErrorRate",
}


@cache
def exported_metrics() -> frozenset[str]:
    """The metric names the code registers (prometheus_client), with a histogram's series."""
    names = set()
    for path in [*(ROOT / "libs").rglob("*.py"), *(ROOT / "services").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for kind, name in re.findall(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"(fmc_\w+)\"", text):
            names.add(name)
            if kind == "Histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return frozenset(names)


def _alerts(overlay: str) -> list[dict[str, Any]]:
    return [
        rule
        for rule_set in of_kind(overlay, "PrometheusRule")
        for group in rule_set["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


class TestMonitoring:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_kube_prometheus_stack_selects_every_monitor_and_rule(self, overlay: str) -> None:
        for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
            resources = of_kind(overlay, kind)
            assert resources, kind
            for resource in resources:
                assert MONITOR_SELECTOR.items() <= resource["metadata"]["labels"].items(), resource[
                    "metadata"
                ]["name"]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_alerts_cover_lag_dead_letters_outbox_breakers_and_errors(self, overlay: str) -> None:
        assert {rule["alert"] for rule in _alerts(overlay)} == ALERTS

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_alert_uses_metrics_that_exist(self, overlay: str) -> None:
        known = exported_metrics() | EXTERNAL_METRICS
        for rule in _alerts(overlay):
            used = set(re.findall(r"\b((?:fmc|kafka)_[a-z_]+)\b", rule["expr"]))
            assert used, rule["alert"]
            assert used <= known, f"{rule['alert']}: {sorted(used - known)}"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_alert_has_a_runbook_section(self, overlay: str) -> None:
        operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
        headings = set(re.findall(r"^#+ (\S+)\s*$", operations, flags=re.MULTILINE))
        for rule in _alerts(overlay):
            assert rule["alert"] in headings, f"docs/operations.md has no section {rule['alert']}"
            assert rule["annotations"]["runbook_url"].endswith(f"operations.md#{rule['alert'].lower()}")
            assert rule["labels"]["severity"] in ("warning", "critical")

    def test_kafka_exporter_and_database_exporters_are_scraped(self) -> None:
        monitors = {m["metadata"]["name"]: m["spec"] for m in of_kind("prod", "PodMonitor")}
        exporter = monitors["fmc-kafka-exporter"]["selector"]["matchLabels"]
        assert exporter["strimzi.io/name"] == "fmc-kafka-kafka-exporter"
        assert "kafkaExporter" in named("prod", "Kafka", "fmc-kafka")["spec"]
        roles = monitors["fmc-postgres"]["selector"]["matchExpressions"][0]["values"]
        assert sorted(roles) == ["instance", "pooler"]


class TestRoutes:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_gateway_listens_only_with_tls(self, overlay: str) -> None:
        [gateway] = of_kind(overlay, "Gateway")
        for listener in gateway["spec"]["listeners"]:
            assert listener["protocol"] == "HTTPS"
            assert listener["port"] == 443
            assert listener["tls"]["mode"] == "Terminate"
            assert listener["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "fmc-tls"}]
            assert listener["hostname"].endswith("fmc.example")
        hosts = {listener["hostname"] for listener in gateway["spec"]["listeners"]}
        assert len(hosts) == len(gateway["spec"]["listeners"])

    def test_each_environment_has_its_own_hostnames(self) -> None:
        hosts = {
            overlay: {lst["hostname"] for g in of_kind(overlay, "Gateway") for lst in g["spec"]["listeners"]}
            for overlay in OVERLAYS
        }
        assert hosts["dev"].isdisjoint(hosts["prod"])

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_each_api_is_routed_and_only_its_versioned_paths(self, overlay: str, service: str) -> None:
        route = named(overlay, "HTTPRoute", service)["spec"]
        assert route["parentRefs"] == [{"name": "fmc", "sectionName": "api"}]
        [rule] = route["rules"]
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": f"/{service}/v1"}}]
        rewrite = rule["filters"][0]["urlRewrite"]["path"]
        assert rewrite == {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/v1"}
        assert rule["backendRefs"] == [{"name": service, "port": _http(overlay, service)}]
        grpc = named(overlay, "GRPCRoute", service)["spec"]
        assert grpc["parentRefs"] == [{"name": "fmc", "sectionName": "grpc"}]
        assert grpc["rules"][0]["backendRefs"] == [{"name": service, "port": _grpc(overlay, service)}]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_no_route_reaches_metrics_or_health(self, overlay: str) -> None:
        prefixes = [
            match["path"]["value"]
            for route in of_kind(overlay, "HTTPRoute")
            if route["metadata"]["name"] != WEB  # the pages by their paths: TestWebTier
            for rule in route["spec"]["rules"]
            for match in rule["matches"]
        ]
        for prefix in prefixes:
            assert re.fullmatch(r"/[a-z-]+/v1", prefix), prefix


# --- PostgreSQL ----------------------------------------------------------------------------------

BARMAN_CLOUD = "barman-cloud.cloudnative-pg.io"
URL = re.compile(r"postgresql\+asyncpg://(\w+):\$\((\w+)\)@([\w-]+):5432/(\w+)")
# Connections a database gives away besides the Pooler's and the migrations': superuser_reserved_connections
# (3 by default) and the operator's instance manager, exporter and probes (measured at a handful; 10 kept).
RESERVED_CONNECTIONS = 3 + 10


def _database_urls(overlay: str, service: str) -> dict[str, str]:
    """The database URL of each container of the service's pod: migrate, relay, the service."""
    pod = named(overlay, "Deployment", service)["spec"]["template"]["spec"]
    urls = {}
    for container in [*pod["initContainers"], *pod["containers"]]:
        for entry in container.get("env", []):
            if entry["name"] in (f"{_prefix(service)}DATABASE_URL", RELAY_DATABASE_URL):
                urls[container["name"]] = entry["value"]
    return urls


@cache
def client_connections_per_pod() -> int:
    """The most connections one pod opens: the service's engine and the relay's (fmc_common.db's pool)."""
    from fmc_common.db import create_engine

    engine = create_engine("postgresql+asyncpg://user:password@database:5432/db")
    pool: Any = engine.pool
    return 2 * (int(pool.size()) + int(pool._max_overflow))


def connection_budget_problems(resources: tuple[Resource, ...] | list[Resource], service: str) -> list[str]:
    """Why the service's database could run out of connections at the HPA's maximum; empty when it cannot.

    Clients: (maxReplicas + maxSurge) pods, each with the service's and the relay's pool, all on one
    PgBouncer instance (the other drained): at most its max_client_conn. Servers: every Pooler instance's
    default_pool_size + reserve_pool_size, a migration per surging pod, and the reserved connections, at
    most max_connections. Transaction pooling, so that clients far outnumber server connections.
    """

    def one(kind: str, name: str) -> Resource:
        return next(r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name)

    cluster_name = f"fmc-{service}-db"
    cluster = one("Cluster", cluster_name)["spec"]
    pooler = one("Pooler", f"{cluster_name}-pooler")["spec"]
    hpa = one("HorizontalPodAutoscaler", service)["spec"]
    surge = int(one("Deployment", service)["spec"]["strategy"]["rollingUpdate"]["maxSurge"])
    parameters = pooler["pgbouncer"]["parameters"]
    clients = (hpa["maxReplicas"] + surge) * client_connections_per_pod()
    servers = pooler["instances"] * (
        int(parameters["default_pool_size"]) + int(parameters["reserve_pool_size"])
    )
    servers += surge + RESERVED_CONNECTIONS
    problems = []
    if pooler["pgbouncer"].get("poolMode") != "transaction":
        problems.append(f"{service}: the Pooler does not pool by transaction")
    if clients > int(parameters["max_client_conn"]):
        problems.append(
            f"{service}: {clients} clients at the HPA's maximum, "
            f"max_client_conn {parameters['max_client_conn']}"
        )
    max_connections = int(cluster["postgresql"]["parameters"]["max_connections"])
    if servers > max_connections:
        problems.append(f"{service}: {servers} server connections, max_connections {max_connections}")
    return problems


class TestPostgres:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_each_service_has_its_own_cluster_reached_through_its_pooler(
        self, overlay: str, service: str
    ) -> None:
        urls = _database_urls(overlay, service)
        parsed = {container: URL.fullmatch(url) for container, url in urls.items()}
        assert all(parsed.values()), urls
        cluster_name = f"fmc-{service}-db"
        # Serving and relaying through PgBouncer; the migration straight to the primary.
        assert {name: m.group(3) for name, m in parsed.items() if m} == {
            "migrate": f"{cluster_name}-rw",
            "relay": f"{cluster_name}-pooler",
            service: f"{cluster_name}-pooler",
        }
        user, _, _, database = next(m for m in parsed.values() if m).groups()
        pooler = named(overlay, "Pooler", f"{cluster_name}-pooler")["spec"]
        assert (pooler["cluster"]["name"], pooler["type"]) == (cluster_name, "rw")
        cluster = named(overlay, "Cluster", cluster_name)["spec"]
        assert cluster["bootstrap"]["initdb"] == {"database": database, "owner": user}
        clusters = [c["metadata"]["name"] for c in of_kind(overlay, "Cluster")]
        assert len(clusters) == len(set(clusters)) == len(SERVICE_NAMES)

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_each_cluster_archives_through_the_barman_cloud_plugin_from_day_one(
        self, overlay: str, service: str
    ) -> None:
        cluster_name = f"fmc-{service}-db"
        cluster = named(overlay, "Cluster", cluster_name)["spec"]
        [plugin] = cluster["plugins"]
        assert (plugin["name"], plugin["isWALArchiver"]) == (BARMAN_CLOUD, True)
        store = named(overlay, "ObjectStore", plugin["parameters"]["barmanObjectName"])["spec"]
        assert store["configuration"]["destinationPath"].startswith("s3://")
        assert store["retentionPolicy"] == "30d"
        [backup] = [
            b["spec"]
            for b in of_kind(overlay, "ScheduledBackup")
            if b["spec"]["cluster"]["name"] == cluster_name
        ]
        assert (backup["method"], backup["pluginConfiguration"]["name"]) == ("plugin", BARMAN_CLOUD)
        assert backup["immediate"] is True

    def test_each_environment_archives_to_its_own_path(self) -> None:
        archives: dict[str, set[tuple[str, str]]] = {}
        for overlay in OVERLAYS:
            archives[overlay] = set()
            for cluster in of_kind(overlay, "Cluster"):
                plugin = cluster["spec"]["plugins"][0]
                store = named(overlay, "ObjectStore", plugin["parameters"]["barmanObjectName"])["spec"]
                path = store["configuration"]["destinationPath"]
                assert path.rstrip("/").endswith(f"/{overlay}"), path
                # The plugin archives under <destinationPath>/<serverName>, the cluster's name by default.
                server = plugin["parameters"].get("serverName", cluster["metadata"]["name"])
                archives[overlay].add((path, server))
            assert len(archives[overlay]) == len(SERVICE_NAMES)
        assert archives["dev"].isdisjoint(archives["prod"])

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_databases_keep_a_standby_so_a_node_drain_never_blocks(self, overlay: str) -> None:
        for cluster in of_kind(overlay, "Cluster"):
            assert cluster["spec"]["instances"] >= 2
            assert cluster["spec"]["affinity"]["enablePodAntiAffinity"] is True
        for pooler in of_kind(overlay, "Pooler"):
            assert pooler["spec"]["instances"] >= 2

    def test_production_databases_are_highly_available(self) -> None:
        for cluster in of_kind("prod", "Cluster"):
            assert cluster["spec"]["instances"] >= 3

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("service", SERVICE_NAMES)
    def test_the_connection_budget_holds_at_the_hpa_maximum(self, overlay: str, service: str) -> None:
        assert connection_budget_problems(rendered(overlay), service) == []

    def test_a_budget_that_does_not_hold_is_caught(self) -> None:
        resources = copy.deepcopy(list(rendered("prod")))
        for resource in resources:
            if resource["kind"] == "HorizontalPodAutoscaler" and resource["metadata"]["name"] == "scoring":
                resource["spec"]["maxReplicas"] = 20
            if resource["kind"] == "Pooler" and resource["metadata"]["name"] == "fmc-scoring-db-pooler":
                resource["spec"]["instances"] = 3
                resource["spec"]["pgbouncer"]["poolMode"] = "session"
        per_pod = client_connections_per_pod()
        assert connection_budget_problems(resources, "scoring") == [
            "scoring: the Pooler does not pool by transaction",
            f"scoring: {21 * per_pod} clients at the HPA's maximum, max_client_conn 500",
            "scoring: 224 server connections, max_connections 200",
        ]


# --- Triton --------------------------------------------------------------------------------------


def _release(image: str) -> tuple[int, int]:
    match = re.fullmatch(r"nvcr\.io/nvidia/tritonserver:(\d+)\.(\d+)-py3", image)
    assert match, image
    return int(match[1]), int(match[2])


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

    @pytest.mark.parametrize("pool", sorted(GPU_POOLS))
    def test_each_pool_runs_a_triton_release_whose_cuda_supports_its_gpu(self, pool: str) -> None:
        base = kustomize(K8S / "base")
        deployment = next(
            r for r in base if r["kind"] == "Deployment" and r["metadata"]["name"] == f"triton-{pool}"
        )
        release = _release(deployment["spec"]["template"]["spec"]["containers"][0]["image"])
        assert release >= TRITON_MINIMUM_RELEASE[pool]
        operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
        assert f"{release[0]}.{release[1]:02d}" in operations, (
            "docs/operations.md must state the Triton release"
        )

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("pool", sorted(GPU_POOLS))
    def test_a_pod_loads_only_the_models_the_gateway_asks_for_from_its_pools_bucket(
        self, overlay: str, pool: str
    ) -> None:
        container = named(overlay, "Deployment", f"triton-{pool}")["spec"]["template"]["spec"]["containers"][
            0
        ]
        args = container["args"]
        assert "--model-control-mode=explicit" in args
        assert not [a for a in args if a.startswith("--load-model")]
        [repository] = [a.split("=", 1)[1] for a in args if a.startswith("--model-repository=")]
        assert re.fullmatch(rf"s3://https://[\w.-]+:443/fmc-triton-models-{overlay}/{pool}", repository)
        secrets = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e
        }
        assert secrets == {"AWS_ACCESS_KEY_ID": "fmc-triton-s3", "AWS_SECRET_ACCESS_KEY": "fmc-triton-s3"}
        assert not [m for m in container["volumeMounts"] if m["mountPath"] == "/models"]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    @pytest.mark.parametrize("pool", sorted(GPU_POOLS))
    def test_the_pool_services_are_headless_for_client_side_balancing(self, overlay: str, pool: str) -> None:
        assert named(overlay, "Service", f"triton-{pool}")["spec"]["clusterIP"] == "None"

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

# Stand-ins for what runs outside the platform's namespace (tests/deploy/reachability.py).
OBJECT_STORE = "198.51.100.10"
API_SERVER = "203.0.113.1"
PARTNER = "192.0.2.10"
IDENTITY_PROVIDER = "203.0.113.40"  # the OpenID Connect provider (id.fmc.internal)
INTERNET = "8.8.8.8"


def outside(namespace: str) -> list[Pod]:
    return [
        Pod("gateway-proxy", "envoy-gateway-system", {"app.kubernetes.io/name": "envoy"}),
        Pod("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"}),
        Pod("otel-collector", "observability", {"app.kubernetes.io/name": "opentelemetry-collector"}),
        Pod("cnpg-operator", "cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"}),
        Pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}),
        Pod("stranger", "default", {"app": "stranger"}),
        # A pod someone starts in the platform's namespace without the platform's labels.
        Pod("debug", namespace, {"run": "debug"}),
        Pod("object-store", "", address=OBJECT_STORE),
        Pod("api-server", "", address=API_SERVER),
        Pod("partner", "", address=PARTNER),
        Pod("identity-provider", "", address=IDENTITY_PROVIDER),
        Pod("internet", "", address=INTERNET),
    ]


@cache
def platform_network(overlay: str) -> Network:
    namespace = named(overlay, "Deployment", "registry")["metadata"]["namespace"]
    return network(rendered(overlay), outside(namespace))


def _http(overlay: str, service: str) -> int:
    return int(service_env(overlay, service)[f"{_prefix(service)}HTTP_PORT"])


def _metrics(overlay: str, service: str) -> int:
    return int(service_env(overlay, service)[f"{_prefix(service)}METRICS_PORT"])


def _grpc(overlay: str, service: str) -> int:
    return int(service_env(overlay, service)[f"{_prefix(service)}GRPC_PORT"])


def _web_port(overlay: str) -> int:
    return int(service_env(overlay, WEB)["FMC_WEB_HTTP_PORT"])


def required_paths(overlay: str) -> list[Connection]:
    """Every connection the code and its operators make."""
    paths = []
    for service in SERVICE_NAMES:
        database = f"fmc-{service}-db"
        paths += [
            Connection(service, "kube-dns", 53, "UDP"),
            Connection(service, "fmc-kafka-dual-role", 9093),
            Connection(service, f"{database}-pooler", 5432),  # the service and its relay
            Connection(service, database, 5432),  # the migration
            Connection(service, "otel-collector", 4318),
            Connection(service, "identity-provider", 443),  # the users' keys (FMC_AUTH_JWKS_URL)
            Connection("gateway-proxy", service, _http(overlay, service)),
            Connection("gateway-proxy", service, _grpc(overlay, service)),
            Connection("prometheus", service, _metrics(overlay, service)),
            Connection("prometheus", service, RELAY_HTTP_PORT),
            Connection(f"{database}-pooler", database, 5432),
            Connection(database, database, 5432),  # streaming replication
            Connection("cnpg-operator", database, 8000),
            Connection("prometheus", database, 9187),
            Connection("prometheus", f"{database}-pooler", 9127),
            Connection(database, "object-store", 443),  # WAL archive and base backups
            Connection(database, "api-server", 443),
            Connection(f"{database}-pooler", "api-server", 443),
        ]
    paths += [
        Connection("scoring", "registry", _http(overlay, "registry")),  # a submission's manifest
        Connection(
            "scoring", "inference-gateway", _http(overlay, "inference-gateway")
        ),  # responses, judge, arena
        Connection("scoring", "object-store", 443),  # weights and suites
        Connection("inference-gateway", "scoring", _http(overlay, "scoring")),  # a run's items
        *(
            Connection("inference-gateway", f"triton-{pool}", port)
            for pool in GPU_POOLS
            for port in (8000, 8001)
        ),
        *(Connection(f"triton-{pool}", "object-store", 443) for pool in GPU_POOLS),  # the model bucket
        *(Connection("prometheus", f"triton-{pool}", 8002) for pool in GPU_POOLS),
        Connection("partner", "fmc-kafka-dual-role", 9094),
    ]
    web = _web_port(overlay)
    paths += [
        Connection("gateway-proxy", WEB, web),  # the pages
        Connection(WEB, "kube-dns", 53, "UDP"),
        Connection(WEB, "identity-provider", 443),  # discovery, token endpoint, keys
        *(Connection(WEB, callee, _http(overlay, callee)) for callee in WEB_CALLS),
    ]
    return paths


def forbidden_paths(overlay: str) -> list[Connection]:
    """Connections nothing needs: each must stay closed."""
    paths = []
    for service in SERVICE_NAMES:
        database = f"fmc-{service}-db"
        http = _http(overlay, service)
        paths += [
            Connection("stranger", service, http),
            Connection("debug", service, http),
            Connection("stranger", database, 5432),
            Connection("debug", database, 5432),
            Connection("debug", f"{database}-pooler", 5432),
            Connection("gateway-proxy", database, 5432),
            Connection("gateway-proxy", service, RELAY_HTTP_PORT),  # metrics stay inside
            Connection("gateway-proxy", service, _metrics(overlay, service)),
            Connection("prometheus", service, http),  # metrics are off the API port
            Connection("prometheus", service, _grpc(overlay, service)),
            Connection(service, "internet", 443),
            Connection(database, "internet", 443),
            Connection(f"{database}-pooler", "object-store", 443),
        ]
        for other in SERVICE_NAMES:
            if other != service:
                paths += [
                    Connection(service, f"fmc-{other}-db", 5432),
                    Connection(service, f"fmc-{other}-db-pooler", 5432),
                    Connection(f"fmc-{other}-db-pooler", database, 5432),
                ]
        if service != "inference-gateway":
            paths += [Connection(service, f"triton-{pool}", 8001) for pool in GPU_POOLS]
        if service != "scoring":
            paths.append(Connection(service, "object-store", 443))
    calls = {("scoring", "registry"), ("scoring", "inference-gateway"), ("inference-gateway", "scoring")}
    paths += [
        Connection(caller, callee, _http(overlay, callee))
        for caller in SERVICE_NAMES
        for callee in SERVICE_NAMES
        if caller != callee and (caller, callee) not in calls
    ]
    paths += [
        Connection("stranger", "fmc-kafka-dual-role", 9093),
        Connection("debug", "fmc-kafka-dual-role", 9093),
        Connection("internet", "fmc-kafka-dual-role", 9094),
        Connection("gateway-proxy", "triton-h100", 8001),
        Connection("stranger", "triton-b200", 8001),
        Connection("triton-h100", "internet", 443),
        Connection("triton-h100", "scoring", _http(overlay, "scoring")),
    ]
    # The web tier holds people's tokens: it reaches only the four HTTP APIs it calls and the provider.
    web = _web_port(overlay)
    paths += [
        Connection("stranger", WEB, web),
        Connection("debug", WEB, web),
        Connection("prometheus", WEB, web),
        Connection(WEB, "fmc-kafka-dual-role", 9093),
        Connection(WEB, "fmc-kafka-dual-role", 9094),
        Connection(WEB, "object-store", 443),
        Connection(WEB, "api-server", 443),
        Connection(WEB, "internet", 443),
        Connection(WEB, "otel-collector", 4318),
        *(Connection(WEB, f"triton-{pool}", port) for pool in GPU_POOLS for port in (8000, 8001)),
        *(Connection(WEB, callee, _grpc(overlay, callee)) for callee in WEB_CALLS),
        *(Connection(WEB, callee, _metrics(overlay, callee)) for callee in WEB_CALLS),
        *(Connection(WEB, f"fmc-{service}-db", 5432) for service in SERVICE_NAMES),
        *(Connection(WEB, f"fmc-{service}-db-pooler", 5432) for service in SERVICE_NAMES),
        *(Connection(service, WEB, web) for service in SERVICE_NAMES),
        Connection("inference-gateway", "identity-provider", 8443),
    ]
    return paths


def closed(network_: Network, paths: list[Connection]) -> list[str]:
    return [str(path) for path in paths if not network_.allows(path)]


def opened(network_: Network, paths: list[Connection]) -> list[str]:
    return [str(path) for path in paths if network_.allows(path)]


class TestNetworkPolicies:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_path_the_platform_uses_is_open(self, overlay: str) -> None:
        assert closed(platform_network(overlay), required_paths(overlay)) == []

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_paths_nothing_uses_are_closed(self, overlay: str) -> None:
        assert opened(platform_network(overlay), forbidden_paths(overlay)) == []

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_platform_pod_is_isolated_both_ways(self, overlay: str) -> None:
        """A pod no policy selects for a direction is open in that direction: each pod the manifests make
        (Strimzi's brokers aside, whose ingress Strimzi's own policy governs) is selected for both."""
        net = platform_network(overlay)
        for pod in workload_pods(rendered(overlay)):
            if pod.labels.get("strimzi.io/kind") == "Kafka":
                continue
            assert net.governing(pod, "Ingress"), pod.name
            assert net.governing(pod, "Egress"), pod.name

    def test_a_missing_rule_shows_as_a_closed_path(self) -> None:
        resources = copy.deepcopy(list(rendered("prod")))
        policy = next(
            r for r in resources if r["kind"] == "NetworkPolicy" and r["metadata"]["name"] == "scoring"
        )
        gateway = {"app.kubernetes.io/name": "inference-gateway", "app.kubernetes.io/part-of": "fmc"}
        policy["spec"]["egress"] = [
            rule
            for rule in policy["spec"]["egress"]
            if not any(
                peer.get("podSelector", {}).get("matchLabels") == gateway for peer in rule.get("to", [])
            )
        ]
        net = network(resources, outside("fmc"))
        assert closed(net, required_paths("prod")) == ["scoring -> inference-gateway:8002/TCP"]

    def test_an_over_broad_rule_shows_as_an_open_path(self) -> None:
        resources = copy.deepcopy(list(rendered("prod")))
        policy = next(
            r for r in resources if r["kind"] == "NetworkPolicy" and r["metadata"]["name"] == "scoring"
        )
        policy["spec"]["ingress"].append({"from": [{"podSelector": {}}]})  # every pod of the namespace
        net = network(resources, outside("fmc"))
        # The other services' own egress still holds; a pod without the platform's labels gets through.
        assert opened(net, forbidden_paths("prod")) == ["debug -> scoring:8003/TCP"]

    def test_the_reachability_model_reads_selectors_ports_and_blocks_as_kubernetes_does(self) -> None:
        policy = {
            "metadata": {"name": "p", "namespace": "a"},
            "spec": {
                "podSelector": {"matchExpressions": [{"key": "role", "operator": "In", "values": ["db"]}]},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": "x"}}}], "ports": [{"port": "pg"}]},
                    {
                        "from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                        "ports": [{"port": 9000, "endPort": 9010}],
                    },
                ],
            },
        }
        net = Network(
            [policy],
            [
                Pod("db", "a", {"role": "db"}, {"pg": 5432}),
                Pod("x", "a", {"app": "x"}),
                Pod("x-elsewhere", "b", {"app": "x"}),
                Pod("near", "", address="10.2.0.1"),
                Pod("excepted", "", address="10.1.0.1"),
            ],
            {},
        )
        assert net.allows(Connection("x", "db", 5432))
        assert not net.allows(Connection("x", "db", 5433))
        assert not net.allows(Connection("x-elsewhere", "db", 5432))  # a podSelector alone: same namespace
        assert net.allows(Connection("near", "db", 9005))
        assert not net.allows(Connection("excepted", "db", 9005))
        assert net.allows(Connection("db", "x", 80))  # x is selected by no policy

    def test_kafka_admits_only_labelled_clients_on_the_internal_listener(self) -> None:
        kafka = of_kind("prod", "Kafka")[0]
        internal = next(lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["type"] == "internal")
        peers = internal["networkPolicyPeers"]
        for service in SERVICE_NAMES:
            labels = named("prod", "Deployment", service)["spec"]["template"]["metadata"]["labels"]
            assert any(peer["podSelector"]["matchLabels"].items() <= labels.items() for peer in peers)

    def test_the_external_listener_is_open_only_to_the_partners_networks(self) -> None:
        kafka = of_kind("prod", "Kafka")[0]
        external = [lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["type"] != "internal"]
        assert external
        for listener in external:
            ranges = listener["configuration"]["loadBalancerSourceRanges"]
            blocks = [peer["ipBlock"]["cidr"] for peer in listener["networkPolicyPeers"]]
            assert ranges
            assert sorted(ranges) == sorted(blocks)
            assert "0.0.0.0/0" not in ranges
            assert listener["tls"] is True
            assert listener["authentication"]["type"] == "scram-sha-512"


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
        assert gateway["FMC_GATEWAY_ITEMS_AUDIENCE"] == "scoring"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_network_lets_the_gateway_reach_scorings_api(self, overlay: str) -> None:
        port = int(service_env(overlay, "scoring")["FMC_SCORING_HTTP_PORT"])
        assert platform_network(overlay).allows(Connection("inference-gateway", "scoring", port))


# --- the web tier --------------------------------------------------------------------------------

WEB_SECRETS = {"fmc-web-session", "fmc-web-service-key"}
NEVER_ROUTED = ("/healthz", "/readyz", "/metrics")
DURATION = re.compile(r"(\d+)(ms|h|m|s)")


def _web_container(overlay: str) -> dict[str, Any]:
    pod = named(overlay, "Deployment", WEB)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    return dict(container)


def web_page_paths() -> list[str]:
    """Every path the web tier serves (a path parameter as one segment), its probes included: the
    routers its app includes (fmc_web.main.ROUTERS) and its static files."""
    paths = [route.path for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    return [re.sub(r"\{[^}]+\}", "x", path) for path in paths] + ["/static/x"]


def _admitting_rules(route: Resource, path: str) -> list[Resource]:
    """The route's rules that take ``path`` (Gateway API: Exact, or PathPrefix by whole segments)."""
    found = []
    for rule in route["spec"]["rules"]:
        for match in rule.get("matches", [{}]):
            kind = match.get("path", {}).get("type", "PathPrefix")
            value = match.get("path", {}).get("value", "/")
            prefix = value.rstrip("/")
            if (kind == "Exact" and path == value) or (
                kind == "PathPrefix" and (path == value or path.startswith(f"{prefix}/"))
            ):
                found.append(rule)
                break
    return found


def _seconds(duration: str) -> float:
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(int(n) * units[unit] for n, unit in DURATION.findall(duration))


class TestWebTier:
    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_manifests_environment_is_what_the_web_settings_need(
        self, overlay: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """WebSettings validates the container's environment as fmc-web does at start; without the
        session key or the provider it refuses, naming the setting."""
        env = container_env(overlay, _web_container(overlay))
        for name in [n for n in os.environ if n.startswith("FMC_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():  # a Secret's value: a generated one
            monkeypatch.setenv(name, uuid.uuid4().hex * 2 if value == "<from secret>" else value)
        settings = WebSettings.model_validate({})
        assert settings.auth.jwks_url is not None
        assert settings.auth.jwks_url.startswith("https://")
        # One provider: it signs people in (ID token) and issues the access tokens the services verify.
        assert settings.oidc_issuer == settings.auth.issuer
        assert settings.secure_cookies is True
        assert settings.auth.service_key is not None
        for required in ("FMC_WEB_SESSION_KEY", "FMC_WEB_OIDC_ISSUER"):
            monkeypatch.delenv(required)
            with pytest.raises(ValueError, match=required.removeprefix("FMC_WEB_").lower()):
                WebSettings.model_validate({})
            monkeypatch.setenv(required, env[required] if env[required] != "<from secret>" else "k" * 44)

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_variable_names_a_setting(self, overlay: str) -> None:
        """A misspelt FMC_WEB_* would be silently ignored; the shared ConfigMap's Kafka and tracing
        variables are there too (fmc-web reads neither)."""
        env = container_env(overlay, _web_container(overlay))
        known = _env_names(WebSettings, "FMC_WEB_") | _env_names(AuthSettings, "FMC_AUTH_")
        known |= _env_names(KafkaSettings, "FMC_KAFKA_") | _tracing_names()
        assert {name for name in env if name.startswith("FMC_")} - known == set()
        assert {name for name in env if name.startswith("FMC_WEB_")}

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_no_setting_is_left_at_a_loopback_default(self, overlay: str) -> None:
        env = container_env(overlay, _web_container(overlay))
        for name, field in WebSettings.model_fields.items():
            if isinstance(field.default, str) and re.search(r"127\.0\.0\.1|localhost", field.default):
                variable = f"FMC_WEB_{name.upper()}"
                assert variable in env, f"web: {variable} is left at {field.default}"
                assert not re.search(r"127\.0\.0\.1|localhost", env[variable]), variable

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_it_calls_the_four_apis_inside_the_cluster(self, overlay: str) -> None:
        env = container_env(overlay, _web_container(overlay))
        hosts = set()
        for variable, value in env.items():
            if re.fullmatch(r"FMC_WEB_(\w+)_URL", variable) and value.startswith("http://"):
                url = httpx.URL(value)
                service = named(overlay, "Service", url.host)
                assert url.port in [p["port"] for p in service["spec"]["ports"] if p["name"] == "http"]
                hosts.add(url.host)
        assert hosts == set(WEB_CALLS)

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_it_holds_its_session_key_and_own_service_key_only(self, overlay: str) -> None:
        """No database, no Kafka user, no users' key, no other service's key; no init container."""
        deployment = named(overlay, "Deployment", WEB)
        assert set(_secret_references(deployment)) == WEB_SECRETS
        assert "initContainers" not in deployment["spec"]["template"]["spec"]
        env = container_env(overlay, _web_container(overlay))
        assert not [name for name in env if re.search(r"DATABASE|SASL_PASSWORD", name)]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_probes_ask_the_health_endpoints_on_the_settings_port(self, overlay: str) -> None:
        container = _web_container(overlay)
        env = container_env(overlay, container)
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports == {"http": int(env["FMC_WEB_HTTP_PORT"])}
        assert env["FMC_WEB_HTTP_HOST"] == "0.0.0.0"
        service_ports = named(overlay, "Service", WEB)["spec"]["ports"]
        assert [(p["name"], p["port"], p["targetPort"]) for p in service_ports] == [
            ("http", int(env["FMC_WEB_HTTP_PORT"]), "http")
        ]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_the_pages_are_public_on_their_own_host_by_tls(self, overlay: str) -> None:
        [gateway] = of_kind(overlay, "Gateway")
        [listener] = [lst for lst in gateway["spec"]["listeners"] if lst["name"] == WEB]
        assert listener["protocol"] == "HTTPS"
        assert listener["allowedRoutes"]["kinds"] == [{"kind": "HTTPRoute"}]
        public = httpx.URL(container_env(overlay, _web_container(overlay))["FMC_WEB_PUBLIC_URL"])
        assert public.scheme == "https"
        assert public.host == listener["hostname"]
        route = named(overlay, "HTTPRoute", WEB)["spec"]
        assert route["parentRefs"] == [{"name": "fmc", "sectionName": WEB}]
        port = _web_port(overlay)
        for rule in route["rules"]:
            assert rule["backendRefs"] == [{"name": WEB, "port": port}]

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_every_page_is_routed_and_no_probe_or_metrics(self, overlay: str) -> None:
        route = named(overlay, "HTTPRoute", WEB)
        paths = web_page_paths()
        assert "/arena/stages/x/battles/stream" in paths
        assert "/healthz" in paths
        for path in paths:
            if path in NEVER_ROUTED:
                assert _admitting_rules(route, path) == [], f"{path} is public"
            else:
                assert _admitting_rules(route, path), f"the page {path} is not routed"
        for path in NEVER_ROUTED:
            assert _admitting_rules(route, path) == [], f"{path} is public"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_a_streamed_battle_outlasts_no_gateway_timeout(self, overlay: str) -> None:
        """The proxies would cut a battle the web tier still relays."""
        route = named(overlay, "HTTPRoute", WEB)
        [rule] = _admitting_rules(route, "/arena/stages/x/battles/stream")
        stream_timeout = WebSettings.model_fields["stream_timeout_seconds"].default
        assert _seconds(rule["timeouts"]["request"]) > stream_timeout
        for rule in route["spec"]["rules"]:
            request_timeout = WebSettings.model_fields["request_timeout_seconds"].default
            assert _seconds(rule["timeouts"]["request"]) > request_timeout

    def test_a_route_to_the_probes_would_be_caught(self) -> None:
        route = copy.deepcopy(named("prod", "HTTPRoute", WEB))
        assert not _admitting_rules(route, "/arenafoo")  # a prefix matches whole segments
        assert not _admitting_rules(route, "/healthz")
        route["spec"]["rules"][1]["matches"].append({"path": {"type": "PathPrefix", "value": "/"}})
        assert _admitting_rules(route, "/healthz")
