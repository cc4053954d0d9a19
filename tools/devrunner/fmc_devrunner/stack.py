"""The embedded stack: Tansu broker, Triton on the CPU, and the four services, on one machine.

Every process gets its own process group and a log file under ``<var>/logs``; the stack waits for
each to be ready (broker metadata, Triton's /v2/health/ready, the services' /readyz) and stops them
in reverse order, escalating to SIGKILL if one does not exit in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from fmc_common.clock import DEV_CLOCK_FILE_ENV
from fmc_common.dev_auth import DevKeys, auth_env
from fmc_common.jwks import SigningKey
from fmc_common.settings import AuthSettings
from fmc_devrunner.broker import BrokerProcess
from fmc_devrunner.ports import LOOPBACK, free_port
from fmc_devrunner.process import ManagedProcess
from fmc_devrunner.triton import DEFAULT_MODEL_REPOSITORY, TritonProcess


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    env_prefix: str


SERVICES = (
    ServiceSpec("registry", "fmc_registry", "FMC_REGISTRY_"),
    ServiceSpec("inference-gateway", "fmc_gateway", "FMC_GATEWAY_"),
    ServiceSpec("scoring", "fmc_scoring", "FMC_SCORING_"),
    ServiceSpec("grievance", "fmc_grievance", "FMC_GRIEVANCE_"),
)


# `fmc dev up`'s stable ports (docs/sandbox.md lists them; `--free-ports` picks free ones instead).
# Chosen away from the usual defaults (Kafka 9092, Triton 8000-8002) so a compose stack can run too.
DEFAULT_PORTS: dict[str, int] = {
    "registry": 8101,
    "inference-gateway": 8102,
    "scoring": 8103,
    "grievance": 8104,
    "registry-grpc": 8111,
    "inference-gateway-grpc": 8112,
    "scoring-grpc": 8113,
    "grievance-grpc": 8114,
    "web": 8105,
    "identity": 8106,
    "triton-http": 8121,
    "triton-grpc": 8122,
    "triton-metrics": 8123,
    "broker": 9192,
}


class PortsInUse(RuntimeError):
    """A port the stack must listen on is taken: nothing was started."""

    def __init__(self, taken: dict[str, int]) -> None:
        self.taken = taken
        listed = ", ".join(f"{name} {port}" for name, port in taken.items())
        super().__init__(
            f"port(s) already in use on {LOOPBACK}: {listed}. Another `fmc dev up` may be running "
            "(stop it with Ctrl-C), or another program holds the port (`ss -ltnp | grep <port>`); "
            "or start with `fmc dev up --free-ports`."
        )


def ports_in_use(ports: dict[str, int]) -> dict[str, int]:
    """Those of ``ports`` that cannot be bound on the loopback interface right now."""
    taken = {}
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                taken[name] = port
    return taken


def read_clock_offset(clock_file: Path) -> float:
    """The dev clock's offset in seconds (0 when the file is missing or empty)."""
    try:
        return float(clock_file.read_text().strip() or 0)
    except FileNotFoundError:
        return 0.0


def advance_clock_file(clock_file: Path, delta: timedelta) -> float:
    """Move the dev clock forward (never back): every service reads the file; returns the new offset."""
    if delta < timedelta(0):
        raise ValueError("the dev clock only moves forward")
    offset = read_clock_offset(clock_file) + delta.total_seconds()
    tmp = clock_file.with_suffix(".tmp")
    tmp.write_text(f"{offset:.3f}")
    tmp.replace(clock_file)
    return offset


def dev_now(clock_file: Path) -> datetime:
    """What the services started with this clock file take for now (``fmc_common.clock.ShiftedClock``)."""
    return datetime.now(UTC) + timedelta(seconds=read_clock_offset(clock_file))


@dataclass
class StackConfig:
    var_dir: Path
    broker_port: int = 0
    base_http_port: int = 0
    # Every port by name (DEFAULT_PORTS' keys); a name not given gets a free port.
    fixed_ports: dict[str, int] = field(default_factory=dict)
    # Marks every child's environment, so leftovers can be found; FMC_DEV_RUN_ID may set it.
    run_id: str = field(default_factory=lambda: os.environ.get("FMC_DEV_RUN_ID") or secrets.token_hex(6))
    model_repository: Path = DEFAULT_MODEL_REPOSITORY
    load_models: tuple[str, ...] = ("*",)
    # Extra environment for every service (e.g. FMC_SCORING_GRADING_BOOTSTRAP_ROUNDS for a quick run).
    service_env: dict[str, str] = field(default_factory=dict)
    # The web tier and the dev OpenID Connect provider it signs people in with (`fmc dev up`, browser tests).
    with_web: bool = False

    def port(self, offset: int) -> int:
        return self.base_http_port + offset if self.base_http_port else free_port()

    def named_port(self, name: str) -> int:
        return self.fixed_ports.get(name) or free_port()


@dataclass
class RunningService:
    spec: ServiceSpec
    process: ManagedProcess
    http_port: int
    grpc_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


WEB = "web"


@dataclass
class WebTier:
    process: ManagedProcess
    identity: ManagedProcess
    url: str
    identity_url: str


async def _wait_http(process: ManagedProcess, url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            process.check_alive()
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{process.name} not ready after {timeout}s\n{process.log_tail()}")


def write_issuer_key(path: Path, key: SigningKey) -> None:
    """The dev users' issuer key, readable by its owner only, where ``fmc token`` looks for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps({"kid": key.kid, "pem": key.pem()}))


class DevStack:
    def __init__(self, config: StackConfig, progress: object = print) -> None:
        self.config = config
        self._say = progress if callable(progress) else print
        # One run's keys: the dev users' issuer (stands in for the OIDC provider) and one per service.
        self.keys = DevKeys.generate([*(spec.name for spec in SERVICES), WEB])
        self.broker: BrokerProcess | None = None
        self.web: WebTier | None = None
        self.triton: TritonProcess | None = None
        self.services: dict[str, RunningService] = {}
        self.timings: dict[str, float] = {}

    @property
    def logs(self) -> Path:
        return self.config.var_dir / "logs"

    @property
    def clock_file(self) -> Path:
        """The dev clock's offset in seconds (FMC_DEV_CLOCK_FILE): every service reads it."""
        return self.config.var_dir / "clock-offset"

    @property
    def weights_root(self) -> Path:
        """Where submitted and donor weights are stored (scoring's originality weights root)."""
        return self.config.var_dir / "weights"

    @property
    def auth(self) -> AuthSettings:
        """Settings that verify this run's tokens and mint users' tokens (``dev_auth.mint_token``)."""
        return self.keys.settings()

    @property
    def issuer_key_file(self) -> Path:
        """The dev users' issuer key (``fmc token`` reads it); services get only the public keys."""
        return self.config.var_dir / "dev-issuer.json"

    def advance_clock(self, delta: timedelta) -> float:
        """Move every service's clock forward (never back); returns the new offset in seconds."""
        return advance_clock_file(self.clock_file, delta)

    def now(self) -> datetime:
        """The services' time: the system clock plus the dev clock's offset."""
        return dev_now(self.clock_file)

    def env(self) -> dict[str, str]:
        """Environment shared by every child: the run id lets tests find leftovers."""
        env = dict(os.environ)
        env["FMC_DEV_RUN_ID"] = self.config.run_id
        env["FMC_AUTH_JWKS"] = self.keys.users_jwks()
        env["FMC_AUTH_SERVICE_JWKS"] = self.keys.service_jwks()
        env[DEV_CLOCK_FILE_ENV] = str(self.clock_file.resolve())
        if self.broker:
            env["FMC_KAFKA_BOOTSTRAP_SERVERS"] = self.broker.bootstrap
            # Our Tansu holds each consumer's group join for half the session timeout: 1 s, not 5.
            env.setdefault("FMC_KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "2000")
        return env

    async def start(self) -> None:
        taken = ports_in_use(self.config.fixed_ports)
        if taken:
            raise PortsInUse(taken)
        self.config.var_dir.mkdir(parents=True, exist_ok=True)
        write_issuer_key(self.issuer_key_file, self.keys.users)
        if not self.clock_file.exists():  # a kept var dir keeps its time with its databases
            self.clock_file.write_text("0")
        self.weights_root.mkdir(parents=True, exist_ok=True)
        await self._timed("broker", self._start_broker())
        await self._timed("triton", self._start_triton())
        await self._timed("services", self._start_services())
        if self.config.with_web:
            await self._timed("web", self._start_web())

    async def _timed(self, name: str, step: object) -> None:
        started = time.perf_counter()
        assert asyncio.iscoroutine(step)
        await step
        self.timings[name] = time.perf_counter() - started

    async def _start_broker(self) -> None:
        port = self.config.broker_port or self.config.named_port("broker")
        self.broker = BrokerProcess(port, self.logs / "broker.log")
        self.broker.env = self.env()
        self.broker.start()
        await self.broker.wait_ready()
        self._say(f"  broker     ready  {self.broker.bootstrap}")

    async def _start_triton(self) -> None:
        named = self.config.named_port
        self.triton = TritonProcess(
            named("triton-http"),
            named("triton-grpc"),
            named("triton-metrics"),
            self.config.model_repository,
            load_models=self.config.load_models,
        )
        os.environ["FMC_DEV_RUN_ID"] = self.config.run_id  # inherited by tritonserver and its stubs
        self.triton.start(self.logs / "triton.log")
        await self.triton.wait_ready(timeout=120)
        self._say(f"  triton     ready  http {self.triton.http_url}  grpc {self.triton.grpc_url}")

    async def _start_services(self) -> None:
        assert self.triton is not None
        ports = {
            spec.name: (
                self.config.fixed_ports.get(spec.name) or self.config.port(index),
                self.config.named_port(f"{spec.name}-grpc"),
            )
            for index, spec in enumerate(SERVICES)
        }
        urls = {name: f"http://127.0.0.1:{http}" for name, (http, _) in ports.items()}
        for spec in SERVICES:
            http_port, grpc_port = ports[spec.name]
            env = self.env()
            p = spec.env_prefix
            env[f"{p}DATABASE_URL"] = f"sqlite+aiosqlite:///{self.config.var_dir / (spec.name + '.db')}"
            env[f"{p}HTTP_PORT"] = str(http_port)
            env[f"{p}GRPC_PORT"] = str(grpc_port)
            env[f"{p}HTTP_HOST"] = "127.0.0.1"
            if spec.name == "inference-gateway":
                env["FMC_GATEWAY_TRITON_URL"] = self.triton.grpc_url
                # The only Triton endpoints may name: this one, over gRPC or HTTP (docs/security.md).
                env["FMC_GATEWAY_TRITON_ALLOWED_HOSTS"] = json.dumps(
                    [self.triton.grpc_url, self.triton.http_url]
                )
                # Scoring serves a run's items at <items base>/v1/runs/{id}/items; nothing else is fetched.
                env["FMC_GATEWAY_ITEMS_ALLOWED_URLS"] = json.dumps([f"{urls['scoring']}/v1/runs/"])
            if spec.name == "scoring":
                env["FMC_SCORING_ITEMS_BASE_URL"] = urls["scoring"]
                env["FMC_SCORING_GATEWAY_URL"] = urls["inference-gateway"]
                env["FMC_SCORING_ORIGINALITY_WEIGHTS_ROOT"] = str(self.weights_root.resolve())
                # The originality check reads a frozen submission's manifest from the registry.
                env["FMC_SCORING_REGISTRY_URL"] = urls["registry"]
            env.update(auth_env(self.keys.settings(spec.name)))  # its own service key only
            env.update(self.config.service_env)
            process = ManagedProcess(
                spec.name, [sys.executable, "-m", spec.module, "serve"], self.logs / f"{spec.name}.log", env
            )
            process.start()
            self.services[spec.name] = RunningService(spec, process, http_port, grpc_port)
        await asyncio.gather(*(self._wait_ready(s) for s in self.services.values()))

    async def _wait_ready(self, service: RunningService, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                service.process.check_alive()
                try:
                    response = await client.get(f"{service.url}/readyz")
                    if response.status_code == 200:
                        name = service.spec.name
                        self._say(f"  {name:<18} ready  {service.url}  grpc 127.0.0.1:{service.grpc_port}")
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{service.spec.name} not ready after {timeout}s\n{service.process.log_tail()}")

    async def _start_web(self) -> None:
        web_port, idp_port = self.config.named_port("web"), self.config.named_port("identity")
        web_url, idp_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{idp_port}"
        env = self.env()
        identity = ManagedProcess(
            "identity",
            [
                sys.executable,
                "-m",
                "fmc_devrunner.identity",
                "--port",
                str(idp_port),
                "--issuer-key-file",
                str(self.issuer_key_file),
                "--redirect-uri",
                f"{web_url}/auth/callback",
            ],
            self.logs / "identity.log",
            env,
        )
        identity.start()
        env.update(auth_env(self.keys.settings(WEB)))  # its service key: the schedule for the public pages
        env |= {
            "FMC_WEB_HTTP_PORT": str(web_port),
            "FMC_WEB_PUBLIC_URL": web_url,
            "FMC_WEB_OIDC_ISSUER": idp_url,
            "FMC_WEB_SESSION_KEY": Fernet.generate_key().decode(),
            "FMC_WEB_REGISTRY_URL": self.services["registry"].url,
            "FMC_WEB_SCORING_URL": self.services["scoring"].url,
            "FMC_WEB_GRIEVANCE_URL": self.services["grievance"].url,
            "FMC_WEB_GATEWAY_URL": self.services["inference-gateway"].url,
        }
        web = ManagedProcess(WEB, [sys.executable, "-m", "fmc_web"], self.logs / "web.log", env)
        web.start()
        self.web = WebTier(web, identity, web_url, idp_url)
        await _wait_http(identity, f"{idp_url}/.well-known/openid-configuration")
        await _wait_http(web, f"{web_url}/readyz")
        self._say(f"  web                ready  {web_url}  (sign-in: dev OpenID Connect provider {idp_url})")

    def stop(self) -> None:
        """Reverse order: web tier, services (graceful, they flush their outboxes), Triton, broker."""
        if self.web is not None:
            self.web.process.stop(timeout=10)
            self.web.identity.stop(timeout=10)
        for service in reversed(list(self.services.values())):
            service.process.stop(timeout=20)
        if self.triton is not None:
            self.triton.stop()
        if self.broker is not None:
            self.broker.stop()
