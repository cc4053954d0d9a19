"""The Triton pods behind an endpoint's address, and gRPC channels balanced across them.

An endpoint names a pool's Triton Service (``triton-h100:8001``). Behind it run several pods; a single
gRPC channel to the Service name holds one HTTP/2 connection, so every request of a gateway replica
would go to one pod. Here the address is expanded to its pods:

* ``triton_pods`` (static): the Service address mapped to pod addresses (for example a StatefulSet's
  ``triton-h100-0.triton-h100:8001``...), or
* ``triton_resolve_pods``: the Service name resolved by DNS (a headless Service answers with every
  ready pod's address), re-resolved every ``triton_resolve_interval_seconds``.

A model client then opens one gRPC channel over every pod address (``ipv4:a:p,b:p`` with gRPC's
``round_robin`` policy: a subchannel per pod, each request to the next ready pod). When the pod set
changes, clients are told and open a new channel (the old one closes after the requests on it).
Explicit model control (``fmc_gateway.runs.loading``) loads a model on every pod of the set.
Addresses of pods are reached only as the expansion of an allowed address (``TritonHosts``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fmc_gateway.triton.hosts import host_port_of

log = logging.getLogger(__name__)

Retarget = Callable[[str, list[tuple[str, Any]]], None]
Resolve = Callable[[str, int], list[str]]


def _split(host_port: str) -> tuple[str, int]:
    host, _, port = host_port.rpartition(":")
    return host.strip("[]"), int(port)


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_with_dns(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 first), as ``ip:port``; an IP literal is itself."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [_join(host, port)]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = sorted({str(info[4][0]) for info in infos}, key=lambda ip: (":" in ip, ip))
    return [_join(ip, port) for ip in found]


class TritonPods:
    """Pods per Triton address; ``channel`` gives the gRPC target and arguments for a balanced channel."""

    def __init__(
        self,
        *,
        static: Mapping[str, Sequence[str]] | None = None,
        resolve: bool = False,
        base_args: Sequence[tuple[str, Any]] = (),
        resolver: Resolve = resolve_with_dns,
    ) -> None:
        self._static = {
            host_port_of(k).lower(): [host_port_of(p) for p in v] for k, v in (static or {}).items()
        }
        self._resolve = resolve
        self._resolver = resolver
        self._base_args = list(base_args)
        self._known: dict[str, list[str]] = {}
        self._watchers: dict[str, weakref.WeakSet[Any]] = {}
        self._callbacks: dict[str, list[weakref.WeakMethod[Retarget]]] = {}

    @property
    def enabled(self) -> bool:
        return self._resolve or bool(self._static)

    def _lookup(self, host_port: str) -> list[str]:
        """The pod addresses (``ip:port``) behind an address, resolved now."""
        names = self._static.get(host_port.lower(), [host_port]) if self._static else [host_port]
        if not self._resolve and not self._static:
            return [host_port]
        addresses: list[str] = []
        for name in names:
            host, port = _split(name)
            try:
                addresses.extend(a for a in self._resolver(host, port) if a not in addresses)
            except OSError as exc:
                log.warning("a Triton address did not resolve", extra={"address": name, "error": str(exc)})
        return addresses or [host_port]

    def pods(self, url: str) -> list[str]:
        """The pods behind ``url`` (its ``host:port`` alone when expansion is off): from the last resolution,
        resolved now the first time."""
        host_port = host_port_of(url)
        if not self.enabled:
            return [host_port]
        known = self._known.get(host_port)
        if known is None:
            known = self._known[host_port] = self._lookup(host_port)
        return list(known)

    def pod_urls(self, url: str) -> list[str]:
        """``pods`` with ``url``'s scheme kept (so TLS stays TLS)."""
        scheme = url.split("://", 1)[0] + "://" if "://" in url else ""
        return [scheme + pod for pod in self.pods(url)]

    def channel(self, url: str) -> tuple[str, list[tuple[str, Any]]]:
        """The gRPC target and channel arguments for ``url``: the address itself, or every pod with
        round robin (the Service name stays the TLS name and ``:authority``)."""
        host_port = host_port_of(url)
        pods = self.pods(url)
        if len(pods) <= 1:
            return (pods[0] if pods else host_port), list(self._base_args)
        families = {"ipv6" if p.startswith("[") else "ipv4" for p in pods}
        family = "ipv4" if "ipv4" in families else "ipv6"
        chosen = [p for p in pods if (p.startswith("[")) == (family == "ipv6")]
        args = [
            *self._base_args,
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.default_authority", host_port),
            ("grpc.ssl_target_name_override", _split(host_port)[0]),
        ]
        return f"{family}:{','.join(chosen)}", args

    def watch(self, url: str, retarget: Retarget) -> None:
        """Call ``retarget(target, args)`` when the pods behind ``url`` change (held weakly)."""
        if not self.enabled:
            return
        host_port = host_port_of(url)
        self._callbacks.setdefault(host_port, []).append(weakref.WeakMethod(retarget))

    async def refresh(self) -> list[str]:
        """Resolve every known address again; returns the addresses whose pods changed (watchers told)."""
        changed = []
        loop = asyncio.get_running_loop()
        for host_port in list(self._known):
            found = await loop.run_in_executor(None, self._lookup, host_port)
            if found != self._known[host_port]:
                log.info(
                    "Triton pods changed",
                    extra={"address": host_port, "before": self._known[host_port], "after": found},
                )
                self._known[host_port] = found
                changed.append(host_port)
                self._tell(host_port)
        return changed

    def _tell(self, host_port: str) -> None:
        alive = []
        for reference in self._callbacks.get(host_port, []):
            callback = reference()
            if callback is None:
                continue
            alive.append(reference)
            target, args = self.channel(host_port)
            try:
                callback(target, args)
            except Exception:
                log.exception("a Triton client could not move to the new pods")
        self._callbacks[host_port] = alive

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                await self.refresh()
