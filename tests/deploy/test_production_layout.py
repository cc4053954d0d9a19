"""The production layout, run for real: the rendered prod overlay's Deployments become processes here.

For each service the test takes the Deployment of ``kubectl kustomize deploy/k8s/overlays/prod`` and
runs its containers as the kubelet would: the ``migrate`` init container to completion, the ``relay``
sidecar, then the service, each with exactly its manifest's environment (its ConfigMaps, then its
``env`` entries in order with ``$(VAR)`` expanded), its arguments, and the Secrets it names (generated
here; a Secret the harness does not know fails the test). Then it drives one evaluation across them:
the stage-1 replay at small scale (``fmc demo --scale small``), which registers the teams, runs the
suites on Triton through the gateway, grades in scoring and publishes through grievance.

What necessarily differs from a cluster, and nothing else:
* cluster addresses map to local ones: each Service's ``host:port`` (the services' own ports become free
  ports), the databases' ``-rw``/``-pooler`` hosts to the local PostgreSQL (a fresh database per service,
  owned by the manifest's role), both Triton pools to the local CPU Triton, the identity provider's JWKS
  URL to a local server of this run's users' keys, and mounted Secret files to files in a temporary
  directory;
* the broker is the local Tansu: PLAINTEXT instead of SASL_SSL with SCRAM (no user, password or CA),
  no idempotent producer (Tansu refuses it), and the topics are created from the rendered KafkaTopics
  (Strimzi's job);
* each process's ports: the services' HTTP, gRPC and metrics ports and the relays' ``--http-port`` are free
  ports (the pods' network namespaces are one here);
* the replay's own needs: its dev clock file (it moves the services' time through the stage's windows)
  and the demo's raised arena limits, as ``fmc demo`` sets them.
A setting the manifests lack is therefore missing here too, and fails the test fast, named:
* a service deployed (``environment=cluster``) refuses to start while a setting whose default only fits
  one machine is unset (the database URL, a URL on loopback): its process exits naming the variable;
* a process (service or relay) that exits while the evaluation runs fails it with its last log lines;
* a stage of the replay that does not advance for ``STALL_SECONDS`` (no new line of the replay) fails
  it naming the stage and the warnings and errors the services logged meanwhile (a run waiting on a
  URL, a refused call), instead of running into the replay's own or pytest's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import importlib
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.fernet import Fernet

from deploy.cluster import K8S, kustomize
from fmc_common.clock import DEV_CLOCK_FILE_ENV
from fmc_common.settings import AuthSettings
from fmc_devrunner.demo import check_outcome
from fmc_devrunner.ports import free_port
from fmc_devrunner.process import ManagedProcess
from fmc_devrunner.stack import SERVICES as DEV_SERVICES
from fmc_devrunner.stack import WEB, DevStack, RunningService, StackConfig
from fmc_devrunner.stage1 import models, world
from fmc_devrunner.stage1.scenario import SMALL, Replay
from support.databases import _dsn, postgres_admin_url, postgres_available

pytestmark = [pytest.mark.broker, pytest.mark.triton, pytest.mark.postgres]

Resource = dict[str, Any]
MODULES = {spec.name: spec.module for spec in DEV_SERVICES}
REFERENCE = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
# The broker substitution (module docstring): these come from the manifests for Apache Kafka.
KAFKA_TLS_AND_SASL = (
    "FMC_KAFKA_SASL_MECHANISM",
    "FMC_KAFKA_SASL_USERNAME",
    "FMC_KAFKA_SASL_PASSWORD",
    "FMC_KAFKA_SSL_CAFILE",
)


STALL_SECONDS = 60.0
"""Longest the replay may go without a new line (a stage with no progress): its slowest stage (the
arena's battles) takes about 16 s here."""


class LayoutError(Exception):
    """The manifests ask for something the layout cannot provide (an unknown Secret or ConfigMap)."""


def of_kind(resources: tuple[Resource, ...], kind: str) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind]


def one(resources: tuple[Resource, ...], kind: str, name: str) -> Resource:
    found = [r for r in of_kind(resources, kind) if r["metadata"]["name"] == name]
    if len(found) != 1:
        raise LayoutError(f"the manifests have no {kind} {name}")
    return found[0]


def generated_secrets(resources: tuple[Resource, ...], stack: DevStack) -> dict[tuple[str, str], str]:
    """A value for every Secret key the platform expects: the operators' and those docs/operations.md
    says to create. The service-token keys are this run's (each service its own)."""
    values: dict[tuple[str, str], str] = {}
    for cluster in of_kind(resources, "Cluster"):
        owner = cluster["spec"]["bootstrap"]["initdb"]["owner"]
        values[(f"{cluster['metadata']['name']}-app", "username")] = owner
        values[(f"{cluster['metadata']['name']}-app", "password")] = secrets.token_hex(16)
    for user in of_kind(resources, "KafkaUser"):
        values[(user["metadata"]["name"], "password")] = secrets.token_hex(16)
    values[("fmc-auth", "service-jwks")] = stack.keys.service_jwks()
    for name in MODULES:
        settings = stack.keys.settings(name)
        assert settings.service_key is not None
        assert settings.service_key_id is not None
        values[(f"fmc-{name}-service-key", "private-key")] = settings.service_key.get_secret_value()
        values[(f"fmc-{name}-service-key", "kid")] = settings.service_key_id
    values[("fmc-grievance-audit", "checkpoint-key")] = secrets.token_hex(32)
    web = stack.keys.settings(WEB)  # the web tier's own service key, in fmc-auth's service JWKS too
    assert web.service_key is not None
    assert web.service_key_id is not None
    values[("fmc-web-service-key", "private-key")] = web.service_key.get_secret_value()
    values[("fmc-web-service-key", "kid")] = web.service_key_id
    values[("fmc-web-session", "session-key")] = Fernet.generate_key().decode()
    for bucket_user in ("fmc-scoring-s3", "fmc-triton-s3"):
        values[(bucket_user, "access-key-id")] = secrets.token_hex(8)
        values[(bucket_user, "secret-access-key")] = secrets.token_hex(20)
    values[("fmc-kafka-cluster-ca-cert", "ca.crt")] = "no TLS to this broker\n"
    return values


class Layout:
    """Turns a pod's containers into local processes' environments and arguments."""

    def __init__(
        self,
        resources: tuple[Resource, ...],
        secret_values: dict[tuple[str, str], str],
        addresses: dict[str, str],
        files: Path,
    ) -> None:
        self.resources = resources
        self.secrets = secret_values
        # Longest first: "scoring:8003" must not be rewritten inside "fmc-scoring-db-pooler:5432".
        self.addresses = sorted(addresses.items(), key=lambda item: -len(item[0]))
        self.files = files

    def _secret(self, name: str, key: str) -> str:
        if (name, key) not in self.secrets:
            raise LayoutError(f"Secret {name} (key {key}) is neither an operator's nor documented")
        return self.secrets[(name, key)]

    def _map(self, value: str) -> str:
        for cluster_address, local in self.addresses:
            value = re.sub(rf"(?<![\w.-]){re.escape(cluster_address)}(?![\w.-])", local, value)
        return value

    def _mounted_files(self, pod: str, pod_spec: Resource, container: Resource) -> dict[str, str]:
        """Secret volumes the container mounts, written under the layout's directory: mount path ->
        local directory."""
        volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
        mounted = {}
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            if "secret" not in volume:
                continue
            directory = self.files / pod / container["name"] / mount["mountPath"].strip("/")
            directory.mkdir(parents=True, exist_ok=True)
            secret = volume["secret"]["secretName"]
            for item in volume["secret"].get("items", []):
                (directory / item["path"]).write_text(self._secret(secret, item["key"]), encoding="utf-8")
            mounted[mount["mountPath"].rstrip("/")] = str(directory)
        return mounted

    def environment(self, pod: str, pod_spec: Resource, container: Resource) -> dict[str, str]:
        """The container's environment as the kubelet builds it, then mapped to local addresses."""
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                env.update(one(self.resources, "ConfigMap", source["configMapRef"]["name"])["data"])
            else:
                raise LayoutError(f"{pod}/{container['name']}: envFrom {source} is not supported")
        for entry in container.get("env", []):
            if "value" in entry:
                env[entry["name"]] = REFERENCE.sub(lambda m: env.get(m[1], m[0]), entry["value"])
            elif "secretKeyRef" in entry.get("valueFrom", {}):
                ref = entry["valueFrom"]["secretKeyRef"]
                env[entry["name"]] = self._secret(ref["name"], ref["key"])
            else:
                raise LayoutError(f"{pod}/{container['name']}: {entry['name']} has an unsupported source")
        mounted = self._mounted_files(pod, pod_spec, container)
        for name, value in env.items():
            for mount_path, local in mounted.items():
                if value.startswith(f"{mount_path}/"):
                    value = local + value[len(mount_path) :]
            env[name] = self._map(value)
        return env

    def arguments(self, container: Resource, env: dict[str, str]) -> list[str]:
        return [self._map(REFERENCE.sub(lambda m: env.get(m[1], m[0]), a)) for a in container.get("args", [])]


def local_broker(env: dict[str, str], bootstrap: str) -> dict[str, str]:
    """The broker substitution of the module docstring."""
    changed = {k: v for k, v in env.items() if k not in KAFKA_TLS_AND_SASL}
    changed["FMC_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    changed["FMC_KAFKA_SECURITY_PROTOCOL"] = "PLAINTEXT"
    changed["FMC_KAFKA_IDEMPOTENT_PRODUCER"] = "false"
    changed["FMC_KAFKA_CONSUMER_SESSION_TIMEOUT_MS"] = "2000"  # Tansu's group join: 1 s, not 5
    return changed


@contextmanager
def serving_jwks(document: str) -> Iterator[str]:
    """The identity provider's jwks_uri, here: this run's users' public keys over HTTP; it also takes
    the trace collector's POSTs (and drops them)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = document.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            # The trace collector's OTLP/HTTP endpoint: spans are accepted and dropped.
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    finally:
        server.shutdown()
        server.server_close()


class ManifestStack(DevStack):
    """The dev runner's broker and Triton, and the services started from the prod overlay's pods."""

    def __init__(self, config: StackConfig, resources: tuple[Resource, ...]) -> None:
        super().__init__(config)
        self.resources = resources
        self.jwks_url = ""  # set once the users' keys are served
        self.relays: list[ManagedProcess] = []
        self.databases: list[str] = []
        self.s3_endpoint: str | None = None
        self._s3: ManagedProcess | None = None
        self.layout: Layout | None = None
        self.web_process: ManagedProcess | None = None
        self._mirror: asyncio.Task[None] | None = None

    @property
    def auth(self) -> AuthSettings:
        """The replay mints users' tokens as the identity provider the manifests name (its issuer)."""
        issuer = one(self.resources, "ConfigMap", "fmc-platform")["data"]["FMC_AUTH_ISSUER"]
        return self.keys.settings().model_copy(update={"issuer": issuer})

    async def _create_databases(self) -> dict[str, str]:
        """A fresh database per service, owned by the role its Cluster's initdb names: cluster host and
        database -> local address and database."""
        mapped = {}
        connection = await asyncpg.connect(_dsn(postgres_admin_url()))
        try:
            for cluster in of_kind(self.resources, "Cluster"):
                name, initdb = cluster["metadata"]["name"], cluster["spec"]["bootstrap"]["initdb"]
                owner, database = initdb["owner"], initdb["database"]
                if not await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", owner):
                    with contextlib.suppress(asyncpg.DuplicateObjectError):  # made by another run meanwhile
                        await connection.execute(f'CREATE ROLE "{owner}" LOGIN')
                local = f"fmc_layout_{database}_{secrets.token_hex(6)}"
                await connection.execute(f'CREATE DATABASE "{local}" OWNER "{owner}"')
                self.databases.append(local)
                for host in (f"{name}-rw", f"{name}-pooler"):
                    mapped[f"{host}:5432/{database}"] = f"127.0.0.1:5432/{local}"
        finally:
            await connection.close()
        return mapped

    async def drop_databases(self) -> None:
        connection = await asyncpg.connect(_dsn(postgres_admin_url()))
        try:
            for name in self.databases:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    async def _create_topics(self) -> None:
        assert self.broker is not None
        admin = AIOKafkaAdminClient(bootstrap_servers=self.broker.bootstrap)
        await admin.start()
        try:
            await admin.create_topics(
                [
                    NewTopic(t["spec"]["topicName"], t["spec"]["partitions"], 1)
                    for t in of_kind(self.resources, "KafkaTopic")
                ]
            )
        finally:
            await admin.close()

    def _addresses(self, ports: dict[str, tuple[int, int]], databases: dict[str, str]) -> dict[str, str]:
        assert self.triton is not None
        addresses = dict(databases)
        for name, (http, grpc) in ports.items():
            configured = one(self.resources, "ConfigMap", name)["data"]
            prefix = next(spec.env_prefix for spec in DEV_SERVICES if spec.name == name)
            addresses[f"{name}:{configured[f'{prefix}HTTP_PORT']}"] = f"127.0.0.1:{http}"
            addresses[f"{name}:{configured[f'{prefix}GRPC_PORT']}"] = f"127.0.0.1:{grpc}"
        triton_http = self.triton.http_url.removeprefix("http://")
        for pool in ("h100", "b200"):
            addresses[f"triton-{pool}:8000"] = triton_http
            addresses[f"triton-{pool}:8001"] = self.triton.grpc_url
        platform = one(self.resources, "ConfigMap", "fmc-platform")["data"]
        addresses[platform["FMC_AUTH_JWKS_URL"]] = self.jwks_url
        local = httpx.URL(self.jwks_url)
        if "FMC_TRACING_OTLP_ENDPOINT" in platform:
            collector = httpx.URL(platform["FMC_TRACING_OTLP_ENDPOINT"])
            addresses[f"{collector.host}:{collector.port}"] = f"{local.host}:{local.port}"
        if self.s3_endpoint is not None:
            scoring = one(self.resources, "ConfigMap", "scoring")["data"]
            addresses[scoring["FMC_SCORING_S3_ENDPOINT_URL"]] = self.s3_endpoint
        return addresses

    def _process_env(self, container_env: dict[str, str]) -> dict[str, str]:
        assert self.broker is not None
        base = {k: v for k, v in os.environ.items() if not k.startswith(("FMC_", "OTEL_"))}
        env = base | local_broker(container_env, self.broker.bootstrap)
        env["FMC_DEV_RUN_ID"] = self.config.run_id
        env[DEV_CLOCK_FILE_ENV] = str(self.clock_file.resolve())
        env.update(self.config.service_env)
        return env

    async def _start_object_store(self) -> None:
        """When scoring reads an S3 bucket (its settings have ``artefact_store``): moto's S3 server for
        the bucket the manifests name, and the weights the replay writes locally mirrored into it at the
        prefixes the manifests give (donors and submissions)."""
        from fmc_scoring.settings import ScoringSettings

        if "artefact_store" not in ScoringSettings.model_fields:
            return  # this branch's scoring reads local folders (their defaults, below the run directory)
        port = free_port()
        self._s3 = ManagedProcess(
            "s3", [sys.executable, "-m", "moto.server", "-p", str(port)], self.logs / "s3.log", os.environ
        )
        self._s3.start()
        self.s3_endpoint = f"http://127.0.0.1:{port}"
        data = one(self.resources, "ConfigMap", "scoring")["data"]
        client = await asyncio.to_thread(_s3_client, self.s3_endpoint)
        for _ in range(150):
            self._s3.check_alive()
            try:
                await asyncio.to_thread(client.create_bucket, Bucket=data["FMC_SCORING_S3_BUCKET"])
                break
            except Exception:  # not listening yet
                await asyncio.sleep(0.2)
        prefixes = (data["FMC_SCORING_S3_WEIGHTS_PREFIX"], data["FMC_SCORING_S3_SUBMISSION_WEIGHTS_PREFIX"])
        self._mirror = asyncio.create_task(
            _mirror(client, data["FMC_SCORING_S3_BUCKET"], self.weights_root, prefixes)
        )

    async def _start_services(self) -> None:
        databases = await self._create_databases()
        await self._create_topics()
        await self._start_object_store()
        ports = {name: (free_port(), free_port()) for name in MODULES}
        layout = Layout(
            self.resources,
            generated_secrets(self.resources, self),
            self._addresses(ports, databases),
            self.config.var_dir / "secrets",
        )
        self.layout = layout
        # The services' working directory: relative defaults (var/...) land in the run's directory.
        workdir = self.config.var_dir.parent
        relays = []
        for spec in DEV_SERVICES:
            deployment = one(self.resources, "Deployment", spec.name)
            pod = deployment["spec"]["template"]["spec"]
            for init in pod["initContainers"]:
                env = self._process_env(layout.environment(spec.name, pod, init))
                args = layout.arguments(init, env)
                if init.get("restartPolicy") == "Always":  # the relay sidecar
                    relay_port = free_port()
                    args[args.index("--http-port") + 1] = str(relay_port)
                    command = ["env", "-C", str(workdir), *init["command"], *args]
                    command[3] = sys.executable  # the image's "python"
                    relay = ManagedProcess(
                        f"{spec.name}-relay", command, self.logs / f"{spec.name}-relay.log", env
                    )
                    relay.start()
                    self.relays.append(relay)
                    relays.append((relay, relay_port))
                    continue
                assert args == ["migrate"], args
                migrate = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    spec.module,
                    "migrate",
                    env=env,
                    cwd=workdir,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                )
                output, _ = await migrate.communicate()
                tail = "\n".join(output.decode(errors="replace").splitlines()[-8:])
                assert migrate.returncode == 0, f"{spec.name}: the migrate init container failed:\n{tail}"
            [container] = pod["containers"]
            env = self._process_env(layout.environment(spec.name, pod, container))
            env[f"{spec.env_prefix}HTTP_PORT"], env[f"{spec.env_prefix}GRPC_PORT"] = map(
                str, ports[spec.name]
            )
            env[f"{spec.env_prefix}HTTP_HOST"] = "127.0.0.1"
            if f"{spec.env_prefix}METRICS_PORT" in env:  # every pod has its own network; here they share one
                env[f"{spec.env_prefix}METRICS_PORT"] = str(free_port())
            assert layout.arguments(container, env) == ["serve"]
            command = ["env", "-C", str(workdir), sys.executable, "-m", spec.module, "serve"]
            process = ManagedProcess(spec.name, command, self.logs / f"{spec.name}.log", env)
            process.start()
            self.services[spec.name] = RunningService(spec, process, *ports[spec.name])
        await asyncio.gather(*(self._wait_ready(s) for s in self.services.values()))
        await asyncio.gather(*(self._relay_ready(relay, port) for relay, port in relays))

    async def _relay_ready(self, relay: ManagedProcess, port: int, timeout: float = 60.0) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
            for _ in range(int(timeout / 0.2)):
                relay.check_alive()
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{relay.name} not ready\n{relay.log_tail()}")

    async def start_web_pod(self, timeout: float = 60.0) -> str:
        """The web tier's pod as the prod overlay configures it (its one container, its ConfigMaps and
        Secrets; the services' addresses mapped as theirs are): its local URL once /readyz answers."""
        assert self.layout is not None
        pod = one(self.resources, "Deployment", WEB)["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = self._process_env(self.layout.environment(WEB, pod, container))
        port = free_port()
        env["FMC_WEB_HTTP_PORT"], env["FMC_WEB_HTTP_HOST"] = str(port), "127.0.0.1"
        command = ["env", "-C", str(self.config.var_dir.parent), sys.executable, "-m", "fmc_web"]
        self.web_process = ManagedProcess(WEB, command, self.logs / "web-pod.log", env)
        self.web_process.start()
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
            for _ in range(int(timeout / 0.2)):
                self.web_process.check_alive()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/readyz")).status_code == 200:
                        return url
                await asyncio.sleep(0.2)
        raise TimeoutError(f"the web pod is not ready\n{self.web_process.log_tail()}")

    def stop(self) -> None:
        if self.web_process is not None:
            self.web_process.stop(timeout=10)
        for service in reversed(list(self.services.values())):
            service.process.stop(timeout=20)
        for relay in reversed(self.relays):
            relay.stop(timeout=20)
        self.services.clear()
        if self._mirror is not None:
            self._mirror.cancel()
        if self._s3 is not None:
            self._s3.stop()
        super().stop()


def _s3_client(endpoint: str) -> Any:
    session = importlib.import_module("botocore.session").get_session()
    return session.create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )


def _mirror_once(
    client: Any, bucket: str, directory: Path, prefixes: tuple[str, ...], sent: dict[Path, tuple[int, int]]
) -> None:
    for path in [p for p in directory.rglob("*") if p.is_file()]:
        stat = path.stat()
        if sent.get(path) == (stat.st_mtime_ns, stat.st_size):
            continue
        body = path.read_bytes()
        for prefix in prefixes:
            key = f"{prefix.strip('/')}/{path.relative_to(directory).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=body)
        sent[path] = (stat.st_mtime_ns, stat.st_size)


async def _mirror(client: Any, bucket: str, directory: Path, prefixes: tuple[str, ...]) -> None:
    """Upload every new or changed file below ``directory`` under each prefix, twice a second."""
    sent: dict[Path, tuple[int, int]] = {}
    while True:
        await asyncio.to_thread(_mirror_once, client, bucket, directory, prefixes, sent)
        await asyncio.sleep(0.5)


class EvaluationStalled(AssertionError):
    """The replay did not advance: the stage and what the services logged meanwhile."""


def _problems(process: ManagedProcess, since: int) -> list[str]:
    """The WARNING and ERROR lines of the process's log written after byte ``since``."""
    try:
        with process.log_path.open("rb") as handle:
            handle.seek(since)
            text = handle.read().decode(errors="replace")
    except OSError:
        return []
    return [
        f"{process.name}: {line[:400]}"
        for line in text.splitlines()
        if '"level": "WARNING"' in line or '"level": "ERROR"' in line or "Traceback" in line
    ]


def _log_size(process: ManagedProcess) -> int:
    try:
        return process.log_path.stat().st_size
    except OSError:
        return 0


async def supervised(
    replay: Replay, stack: ManifestStack, lines: list[str], stall: float = STALL_SECONDS
) -> None:
    """Run the replay while watching it: a process that exits, or a stage that does not advance for
    ``stall`` seconds, fails at once with what went wrong (instead of a timeout far later)."""
    processes = [s.process for s in stack.services.values()] + stack.relays
    task = asyncio.create_task(replay.run())
    seen, advanced = len(lines), time.monotonic()
    offsets = {p.name: _log_size(p) for p in processes}
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            for process in processes:
                process.check_alive()
            if len(lines) != seen:
                seen, advanced = len(lines), time.monotonic()
                offsets = {p.name: _log_size(p) for p in processes}
            elif time.monotonic() - advanced > stall:
                stages = [line.strip() for line in lines if line.startswith("\n[")]
                stage = stages[-1] if stages else "starting"
                problems = [line for p in processes for line in _problems(p, offsets[p.name])[-5:]]
                raise EvaluationStalled(
                    f"the evaluation did not advance for {stall:.0f} s in stage {stage!r} "
                    f"(last line: {lines[-1].strip() if lines else '-'!r}); the services logged meanwhile:\n"
                    + ("\n".join(problems) or "no warning or error")
                )
        task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def published_through_the_web_pod(stack: ManifestStack, replay: Replay) -> None:
    """The web tier started from its prod pod shows the stage's outcome: it reaches the registry with its
    own service key (the stage) and scoring's public results, as its manifests wire it."""
    web = await stack.start_web_pod()
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
        page = await client.get(f"{web}/results/stages/{replay.stage_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text[:2000]
    for team in replay.record.teams:
        name = re.escape(html.escape(team.name))
        row = re.search(rf'<tr data-outcome="(\w+)">\s*<th scope="row">{name}</th>', page.text)
        assert row, f"{team.name} is not on the results page"
        # The decision says advance/eliminate; the public view, what became of the team.
        assert row[1] == {"advance": "advanced", "eliminate": "eliminated"}[team.outcome], team.name


@pytest.fixture
async def production_resources() -> tuple[Resource, ...]:
    if not await postgres_available():
        pytest.fail("PostgreSQL is not reachable: the production layout runs on it")
    return kustomize(K8S / "overlays" / "prod")


class TestLayoutResolution:
    def test_an_undocumented_secret_fails_the_layout(self, tmp_path: Path) -> None:
        resources = kustomize(K8S / "overlays" / "prod")
        layout = Layout(resources, {}, {}, tmp_path)
        pod = one(resources, "Deployment", "scoring")["spec"]["template"]["spec"]
        with pytest.raises(LayoutError, match="fmc-scoring-db-app"):
            layout.environment("scoring", pod, pod["containers"][0])

    def test_cluster_addresses_map_whole_and_longest_first(self, tmp_path: Path) -> None:
        layout = Layout(
            (), {}, {"scoring:8003": "127.0.0.1:1", "fmc-scoring-db-pooler:5432/scoring": "x"}, tmp_path
        )
        assert layout._map("http://scoring:8003/v1/runs/") == "http://127.0.0.1:1/v1/runs/"
        assert layout._map("postgresql://s:p@fmc-scoring-db-pooler:5432/scoring") == "postgresql://s:p@x"
        assert layout._map("http://other-scoring:8003") == "http://other-scoring:8003"


class TestProductionLayout:
    async def test_one_evaluation_runs_across_the_services_as_the_prod_overlay_configures_them(
        self, production_resources: tuple[Resource, ...], tmp_path: Path
    ) -> None:
        var_dir = tmp_path / "var"
        repository = var_dir / "model_repository"
        questions = models.demo_questions(SMALL.suites)
        await asyncio.to_thread(models.build_repository, repository, world.TEAM_MODELS, questions)
        config = StackConfig(
            var_dir,
            model_repository=repository,
            load_models=tuple(m.model_name for m in world.TEAM_MODELS),
            service_env={"FMC_SCORING_ARENA_DAILY_VOTES": "200", "FMC_GATEWAY_ARENA_VOTER_LIMIT": "200"},
        )
        lines: list[str] = []
        stack = ManifestStack(config, production_resources)
        with serving_jwks(stack.keys.users_jwks()) as jwks_url:
            stack.jwks_url = jwks_url
            try:
                await stack.start()
                replay = Replay(stack, SMALL, lines.append)
                await supervised(replay, stack, lines)
                check_outcome(replay.record)
                await published_through_the_web_pod(stack, replay)
            finally:
                await asyncio.to_thread(stack.stop)
                await stack.drop_databases()
