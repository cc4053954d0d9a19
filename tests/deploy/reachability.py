"""Which connections the rendered NetworkPolicies let through, computed the way Kubernetes does.

A connection from pod A to port P of pod B is allowed when A's egress allows it (no policy of A's
namespace selects A with the Egress type, or a rule of one that does admits B and P) and B's ingress
allows it (likewise). Peers: ``podSelector`` (in the policy's namespace unless a ``namespaceSelector``
is given), ``namespaceSelector`` (on the namespace's labels, ``kubernetes.io/metadata.name`` included),
``ipBlock`` (addresses outside the cluster only: pods here have no address, so a CIDR never admits a
pod). Ports by number or by the destination container's port name, with ``endPort`` ranges.

The pods are those the manifests make (Deployments, CloudNativePG instances and Poolers, Strimzi's
brokers) plus stand-ins for what lives elsewhere (the Gateway's proxies, Prometheus, the operators, DNS,
addresses outside the cluster). Strimzi's generated policy for the brokers is derived from the Kafka
resource's listeners, as the operator does (each listener's port, from its ``networkPolicyPeers``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Resource = dict[str, Any]


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)  # container port names
    address: str | None = None  # set for endpoints outside the cluster


@dataclass(frozen=True)
class Connection:
    source: str
    target: str
    port: int
    protocol: str = "TCP"

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}:{self.port}/{self.protocol}"


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions); the empty selector selects everything."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


class Network:
    def __init__(
        self, policies: Iterable[Resource], pods: Iterable[Pod], namespaces: Mapping[str, Mapping[str, str]]
    ) -> None:
        self.policies = list(policies)
        self.pods = {pod.name: pod for pod in pods}
        self.namespace_labels = {
            name: {"kubernetes.io/metadata.name": name, **labels} for name, labels in namespaces.items()
        }

    def pod(self, name: str) -> Pod:
        return self.pods[name]

    def _labels_of_namespace(self, namespace: str) -> Mapping[str, str]:
        return self.namespace_labels.get(namespace, {"kubernetes.io/metadata.name": namespace})

    def governing(self, pod: Pod, kind: str) -> list[Resource]:
        if pod.address is not None:
            return []
        governing = []
        for policy in self.policies:
            if policy["metadata"].get("namespace") != pod.namespace:
                continue
            spec = policy["spec"]
            types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
            if kind in types and selects(spec.get("podSelector", {}), pod.labels):
                governing.append(policy)
        return governing

    def _peer_admits(self, peer: Mapping[str, Any], policy_namespace: str, pod: Pod) -> bool:
        if "ipBlock" in peer:
            if pod.address is None:
                return False
            address = ipaddress.ip_address(pod.address)
            block = peer["ipBlock"]
            return address in ipaddress.ip_network(block["cidr"]) and not any(
                address in ipaddress.ip_network(excepted) for excepted in block.get("except", [])
            )
        if pod.address is not None:
            return False
        namespace_selector = peer.get("namespaceSelector")
        if namespace_selector is None:
            if pod.namespace != policy_namespace:
                return False
        elif not selects(namespace_selector, self._labels_of_namespace(pod.namespace)):
            return False
        return selects(peer.get("podSelector", {}), pod.labels)

    @staticmethod
    def _port_admits(ports: list[Mapping[str, Any]] | None, target: Pod, port: int, protocol: str) -> bool:
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != protocol:
                continue
            if "port" not in entry:
                return True
            value = entry["port"]
            number = target.ports.get(value) if isinstance(value, str) else value
            if number is None:
                continue
            if number == port or number <= port <= entry.get("endPort", number):
                return True
        return False

    def _side_allows(self, pod: Pod, kind: str, other: Pod, target: Pod, port: int, protocol: str) -> bool:
        governing = self.governing(pod, kind)
        if not governing:
            return True
        rules_key, peers_key = ("egress", "to") if kind == "Egress" else ("ingress", "from")
        for policy in governing:
            namespace = policy["metadata"]["namespace"]
            for rule in policy["spec"].get(rules_key, []):
                peers = rule.get(peers_key)
                if peers and not any(self._peer_admits(peer, namespace, other) for peer in peers):
                    continue
                if self._port_admits(rule.get("ports"), target, port, protocol):
                    return True
        return False

    def allows(self, connection: Connection) -> bool:
        """Whether the connection gets through; a pod the manifests do not make connects nowhere."""
        if connection.source not in self.pods or connection.target not in self.pods:
            return False
        source, target = self.pods[connection.source], self.pods[connection.target]
        port, protocol = connection.port, connection.protocol
        return self._side_allows(source, "Egress", target, target, port, protocol) and self._side_allows(
            target, "Ingress", source, target, port, protocol
        )


# --- the pods the manifests make -------------------------------------------------------------------


def _container_ports(pod_spec: Mapping[str, Any]) -> dict[str, int]:
    containers = [*pod_spec.get("initContainers", []), *pod_spec.get("containers", [])]
    return {p["name"]: p["containerPort"] for c in containers for p in c.get("ports", []) if "name" in p}


def workload_pods(resources: Iterable[Resource]) -> list[Pod]:
    """A pod per Deployment, CloudNativePG instance set and Pooler, and Kafka node pool."""
    resources = list(resources)
    pods = []
    for resource in resources:
        kind, meta = resource["kind"], resource["metadata"]
        namespace = meta.get("namespace", "default")
        if kind == "Deployment":
            template = resource["spec"]["template"]
            pods.append(
                Pod(
                    meta["name"],
                    namespace,
                    template["metadata"]["labels"],
                    _container_ports(template["spec"]),
                )
            )
        elif kind == "Cluster" and resource["apiVersion"].startswith("postgresql.cnpg.io/"):
            labels = {"cnpg.io/cluster": meta["name"], "cnpg.io/podRole": "instance"}
            labels.update(resource["spec"].get("inheritedMetadata", {}).get("labels", {}))
            ports = {"postgresql": 5432, "metrics": 9187, "status": 8000}
            pods.append(Pod(meta["name"], namespace, labels, ports))
        elif kind == "Pooler":
            labels = {"cnpg.io/poolerName": meta["name"], "cnpg.io/podRole": "pooler"}
            labels.update(resource["spec"].get("template", {}).get("metadata", {}).get("labels", {}))
            pods.append(Pod(meta["name"], namespace, labels, {"pgbouncer": 5432, "metrics": 9127}))
        elif kind == "KafkaNodePool":
            cluster = meta["labels"]["strimzi.io/cluster"]
            labels = {
                "strimzi.io/cluster": cluster,
                "strimzi.io/kind": "Kafka",
                "strimzi.io/name": f"{cluster}-kafka",
                "strimzi.io/pool-name": meta["name"],
            }
            kafka = next(r for r in resources if r["kind"] == "Kafka" and r["metadata"]["name"] == cluster)
            ports = {lst["name"]: lst["port"] for lst in kafka["spec"]["kafka"]["listeners"]}
            pods.append(Pod(f"{cluster}-{meta['name']}", namespace, labels, ports))
    return pods


def strimzi_policies(resources: Iterable[Resource]) -> list[Resource]:
    """The NetworkPolicy Strimzi writes for each Kafka cluster's brokers: a rule per listener (its port,
    its networkPolicyPeers; none: everyone). Its other rules (replication, the operators) are left out."""
    policies = []
    for kafka in (r for r in resources if r["kind"] == "Kafka"):
        name = kafka["metadata"]["name"]
        rules = []
        for listener in kafka["spec"]["kafka"]["listeners"]:
            rule: Resource = {"ports": [{"protocol": "TCP", "port": listener["port"]}]}
            if listener.get("networkPolicyPeers"):
                rule["from"] = listener["networkPolicyPeers"]
            rules.append(rule)
        policies.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {
                    "name": f"{name}-network-policy-kafka",
                    "namespace": kafka["metadata"]["namespace"],
                },
                "spec": {
                    "podSelector": {"matchLabels": {"strimzi.io/cluster": name, "strimzi.io/kind": "Kafka"}},
                    "policyTypes": ["Ingress"],
                    "ingress": rules,
                },
            }
        )
    return policies


def network(resources: Iterable[Resource], outside: Iterable[Pod]) -> Network:
    resources = list(resources)
    namespaces = {
        r["metadata"]["name"]: r["metadata"].get("labels", {}) for r in resources if r["kind"] == "Namespace"
    }
    policies = [r for r in resources if r["kind"] == "NetworkPolicy"] + strimzi_policies(resources)
    return Network(policies, [*workload_pods(resources), *outside], namespaces)
