"""docker-compose.yml, checked statically (docker cannot run here): the Compose Specification's schema,
then what the platform needs from it: KRaft Kafka with the catalogue's topics, a database per service,
Triton with the demo model repository, the four services wired to them, health-gated start-up, and
no secret in the repository.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from fmc_common.contracts.openapi import SERVICES, build_app
from fmc_common.events.topics import Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_gateway.runs.sources import HttpSource, ItemsSources
from fmc_gateway.triton.hosts import TritonHostNotAllowed, TritonHosts
from fmc_scoring.planning.service import items_uri
from fmc_web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "compose" / "env.example"
# Read by the numeric libraries, not by a settings class (one BLAS thread: tests/deploy/test_blas_threads.py).
RUNTIME_VARIABLES = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}
SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"
SERVICE_NAMES = tuple(service.name for service in SERVICES)
PREFIXES = {
    "registry": "FMC_REGISTRY_",
    "inference-gateway": "FMC_GATEWAY_",
    "scoring": "FMC_SCORING_",
    "grievance": "FMC_GRIEVANCE_",
}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<modifier>[^}]*)\}")


@cache
def compose() -> dict[str, Any]:
    with COMPOSE.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name}"
    found: dict[str, Any] = services[name]
    return found


def env_example() -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            entries[name.strip()] = value.strip()
    return entries


def http_port(name: str) -> int:
    return int(service(name)["environment"][f"{PREFIXES[name]}HTTP_PORT"])


class TestSpecification:
    def test_the_file_validates_against_the_compose_specification(self) -> None:
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(compose())

    def test_the_schema_rejects_a_misspelt_field(self) -> None:
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        broken = json.loads(json.dumps(compose()))
        broken["services"]["registry"]["depends_onn"] = broken["services"]["registry"].pop("depends_on")
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft202012Validator(schema).validate(broken)


class TestKafka:
    def test_kafka_runs_in_kraft_mode_without_zookeeper(self) -> None:
        environment = service("kafka")["environment"]
        assert set(environment["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
        assert "CONTROLLER" in environment["KAFKA_CONTROLLER_LISTENER_NAMES"]
        assert not any("ZOOKEEPER" in name for name in environment)
        assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", service("kafka")["image"])
        assert service("kafka-topics")["image"] == service("kafka")["image"]

    def test_the_topic_job_creates_exactly_the_catalogue(self) -> None:
        job = service("kafka-topics")
        specs = [entry.rsplit(":", 1) for entry in job["command"]]
        assert sorted(name for name, _ in specs) == sorted(str(topic) for topic in Topic)
        assert all(int(partitions) >= 1 for _, partitions in specs)
        script = job["entrypoint"][-1]
        mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in job["volumes"]}
        assert (ROOT / mounted[script]).is_file()
        assert job["depends_on"]["kafka"]["condition"] == "service_healthy"

    def test_services_use_the_advertised_internal_listener(self) -> None:
        advertised = dict(
            entry.split("://")
            for entry in service("kafka")["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
        )
        internal = service("kafka")["environment"]["KAFKA_INTER_BROKER_LISTENER_NAME"]
        for name in SERVICE_NAMES:
            environment = service(name)["environment"]
            assert environment["FMC_KAFKA_BOOTSTRAP_SERVERS"] == advertised[internal]
            assert environment["FMC_KAFKA_IDEMPOTENT_PRODUCER"] == "true"


class TestPostgres:
    def test_each_service_has_its_own_database_and_role(self) -> None:
        postgres = service("postgres")
        init = next(v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v)
        script = (ROOT / init.split(":")[0]).read_text(encoding="utf-8")
        created = dict(re.findall(r"^create_database (\w+) \"\$\{(\w+):\?\}\"$", script, re.MULTILINE))
        databases = set()
        for name in SERVICE_NAMES:
            url = service(name)["environment"][f"{PREFIXES[name]}DATABASE_URL"]
            match = re.fullmatch(r"postgresql\+asyncpg://(\w+):\$\{(\w+):\?[^}]*\}@postgres:5432/(\w+)", url)
            assert match, url
            user, password_variable, database = match.groups()
            assert user == database, "each service connects as the owner of its own database"
            assert created.get(database) == password_variable
            assert postgres["environment"][password_variable] == f"${{{password_variable}:?set it in .env}}"
            databases.add(database)
        assert len(databases) == len(SERVICE_NAMES)

    def test_postgres_reports_its_health_over_tcp(self) -> None:
        """Without -h, pg_isready asks the Unix socket, where the image's temporary initdb server already
        answers: the services would start before the databases exist."""
        command = shlex.split(service("postgres")["healthcheck"]["test"][-1])
        assert command[0] == "pg_isready"
        assert _option(command, "-h") == "127.0.0.1"


class TestTriton:
    def test_triton_serves_the_demo_model_repository_on_the_cpu(self) -> None:
        triton = service("triton")
        assert triton["image"].startswith("nvcr.io/nvidia/tritonserver:")
        source, target, *_ = triton["volumes"][0].split(":")
        repository = ROOT / source
        assert (repository / "demo-lm" / "config.pbtxt").is_file()
        assert f"--model-repository={target}" in triton["command"]
        assert "deploy" not in triton, "no GPU reservation: the demo models run on the CPU"
        assert "/v2/health/ready" in " ".join(triton["healthcheck"]["test"])

    def test_the_gateway_fetches_items_only_from_scoring_and_scoring_points_there(self) -> None:
        bases = json.loads(service("inference-gateway")["environment"]["FMC_GATEWAY_ITEMS_ALLOWED_URLS"])
        run_items = items_uri(service("scoring")["environment"]["FMC_SCORING_ITEMS_BASE_URL"], uuid.uuid4())
        assert isinstance(ItemsSources(bases, None).check(run_items), HttpSource)
        assert [(httpx.URL(base).host, httpx.URL(base).port) for base in bases] == [
            ("scoring", http_port("scoring"))
        ]

    def test_triton_loads_models_when_asked_as_on_kubernetes(self) -> None:
        command = service("triton")["command"]
        assert "--model-control-mode=explicit" in command
        release = re.fullmatch(r"nvcr\.io/nvidia/tritonserver:(\d+)\.(\d+)-py3", service("triton")["image"])
        assert release
        assert (int(release[1]), int(release[2])) >= (25, 1)

    def test_the_gateway_calls_tritons_grpc_port(self) -> None:
        gateway = service("inference-gateway")
        host, port = gateway["environment"]["FMC_GATEWAY_TRITON_URL"].split(":")
        assert host == "triton"
        assert port == "8001"
        assert gateway["depends_on"]["triton"]["condition"] == "service_healthy"

    def test_the_gateway_connects_only_to_the_triton_service(self) -> None:
        environment = service("inference-gateway")["environment"]
        allowed = json.loads(environment["FMC_GATEWAY_TRITON_ALLOWED_HOSTS"])
        assert sorted(allowed) == ["triton:8000", "triton:8001"]  # HTTP and gRPC
        hosts = TritonHosts([*allowed, environment["FMC_GATEWAY_TRITON_URL"]])
        for elsewhere in ("triton:8002", "scoring:8003", "postgres:5432"):
            with pytest.raises(TritonHostNotAllowed):
                hosts.check(elsewhere)


class TestServices:
    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_a_service_builds_from_the_one_dockerfile_at_the_root(self, name: str) -> None:
        build = service(name)["build"]
        assert build["context"] == "."
        assert build["dockerfile"] == "Dockerfile"
        assert (ROOT / build["dockerfile"]).is_file()
        assert build["args"] == {"SERVICE": name}

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_a_service_starts_after_its_dependencies_are_healthy(self, name: str) -> None:
        depends_on = service(name)["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["kafka"]["condition"] == "service_healthy"
        assert depends_on["kafka-topics"]["condition"] == "service_completed_successfully"

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_a_service_is_healthy_when_ready(self, name: str) -> None:
        port = http_port(name)
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(service(name)["healthcheck"]["test"])
        assert f"127.0.0.1:{port}:{port}" in service(name)["ports"]
        assert service(name)["environment"][f"{PREFIXES[name]}HTTP_HOST"] == "0.0.0.0"

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_a_service_runs_unprivileged(self, name: str) -> None:
        definition = service(name)
        assert definition["user"].split(":")[0] not in ("0", "root")
        assert definition["read_only"] is True
        assert definition["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in definition["security_opt"]

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_every_variable_names_a_setting(self, name: str) -> None:
        settings_cls = type(build_app(next(s for s in SERVICES if s.name == name)).state.runtime.settings)
        known = {f"{PREFIXES[name]}{field.upper()}" for field in settings_cls.model_fields}
        known |= {f"FMC_KAFKA_{field.upper()}" for field in KafkaSettings.model_fields}
        known |= {f"FMC_AUTH_{field.upper()}" for field in AuthSettings.model_fields}
        known |= RUNTIME_VARIABLES
        # The gateway's explicit model control (branch i21code), while its settings class lacks it.
        pending = {"FMC_GATEWAY_TRITON_MODEL_CONTROL", "FMC_GATEWAY_TRITON_RESOLVE_PODS"}
        if name == "inference-gateway" and not pending & known:
            known |= pending
        assert set(service(name)["environment"]) - known == set()

    def test_every_published_port_is_bound_to_the_loopback_address(self) -> None:
        published = [
            (name, port)
            for name, definition in compose()["services"].items()
            for port in definition.get("ports", [])
        ]
        assert published
        for name, port in published:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_no_setting_is_left_at_a_loopback_default(self, name: str) -> None:
        """In a container, 127.0.0.1 is the container itself: every URL defaulting there must be set."""
        settings_cls = type(build_app(next(s for s in SERVICES if s.name == name)).state.runtime.settings)
        environment = service(name)["environment"]
        for field_name, field in settings_cls.model_fields.items():
            if isinstance(field.default, str) and re.search(r"127\.0\.0\.1|localhost", field.default):
                variable = f"{PREFIXES[name]}{field_name.upper()}"
                assert variable in environment, f"{name}: {variable} is left at {field.default}"

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_every_service_url_names_a_service_and_its_audience(self, name: str) -> None:
        environment = service(name)["environment"]
        for variable, value in environment.items():
            match = re.fullmatch(rf"{PREFIXES[name]}(\w+)_URL", variable)
            if not match or not str(value).startswith("http://"):
                continue
            url = httpx.URL(value)
            assert url.port == http_port(url.host), variable
            audience = environment.get(f"{PREFIXES[name]}{match[1]}_AUDIENCE")
            if audience is not None:  # a URL this service calls with a token (not one it hands out)
                assert audience == url.host, f"{variable}: the tokens sent there are for {audience}"

    def test_scoring_reaches_the_gateway_and_the_gateway_scoring(self) -> None:
        scoring, gateway = service("scoring")["environment"], service("inference-gateway")["environment"]
        assert httpx.URL(scoring["FMC_SCORING_GATEWAY_URL"]).host == "inference-gateway"
        assert gateway["FMC_GATEWAY_ITEMS_AUDIENCE"] == "scoring"
        for name in SERVICE_NAMES:  # each signs with its own key
            key = service(name)["environment"]["FMC_AUTH_SERVICE_KEY"]
            assert key == f"${{{PREFIXES[name]}SERVICE_KEY:?run `fmc keys` and put its lines in .env}}"

    def test_every_dependency_has_a_healthcheck(self) -> None:
        for name, definition in compose()["services"].items():
            for dependency, condition in definition.get("depends_on", {}).items():
                if condition["condition"] == "service_healthy":
                    assert "healthcheck" in service(dependency), f"{name} waits on {dependency}'s health"


RELAY_ENTRYPOINT = ["python", "-m", "fmc_common.messaging.relay_main"]
RELAY_DATABASE_URL = "FMC_RELAY_DATABASE_URL"
RELAY_HTTP_PORT = 8090  # relay_main's default --http-port


def _option(arguments: list[str], flag: str) -> str | None:
    return arguments[arguments.index(flag) + 1] if flag in arguments[:-1] else None


def relay_problems(name: str, definitions: dict[str, Any]) -> list[str]:
    """Why the compose file does not relay the service's outbox the production way; empty when it does.

    The service does not relay (``<PREFIX>RELAY_IN_PROCESS=false``; the setting defaults to true), and
    a service ``<name>-relay`` runs ``relay_main`` from the service's image, named ``<name>-relay``,
    with the service's Kafka settings and its database URL in ``FMC_RELAY_DATABASE_URL`` (never on the
    command line), once the service is healthy (it has migrated its database).
    """
    prefix = PREFIXES[name]
    environment = definitions[name]["environment"]
    problems = []
    if str(environment.get(f"{prefix}RELAY_IN_PROCESS", "true")).lower() != "false":
        problems.append(
            f"{name}: the service still relays in process ({prefix}RELAY_IN_PROCESS is not false)"
        )
    relay = definitions.get(f"{name}-relay")
    if relay is None:
        return [*problems, f"{name}: no {name}-relay service"]
    if relay["image"] != definitions[name]["image"]:
        problems.append(f"{name}: the relay runs {relay['image']}, the service {definitions[name]['image']}")
    if relay.get("entrypoint") != RELAY_ENTRYPOINT:
        problems.append(f"{name}: the relay runs {relay.get('entrypoint')}, not {RELAY_ENTRYPOINT}")
    command = relay.get("command", [])
    if "--database-url" in command:
        problems.append(f"{name}: the relay gets its database URL on the command line")
    if _option(command, "--name") != f"{name}-relay":
        problems.append(f"{name}: the relay's --name is {_option(command, '--name')}, not {name}-relay")
    kafka = {k: v for k, v in environment.items() if k.startswith("FMC_KAFKA_")}
    expected = {**kafka, RELAY_DATABASE_URL: environment[f"{prefix}DATABASE_URL"]}
    if relay.get("environment") != expected:
        problems.append(
            f"{name}: the relay's environment is not the service's Kafka settings and its database URL"
        )
    if relay.get("depends_on", {}).get(name, {}).get("condition") != "service_healthy":
        problems.append(f"{name}: the relay does not wait for the service (and its migrations)")
    return problems


def relay_healthcheck_problems(name: str, definitions: dict[str, Any]) -> list[str]:
    """Why ``<name>-relay`` has no healthcheck on relay_main's /healthz; empty when it has one."""
    relay = definitions[f"{name}-relay"]
    test = relay.get("healthcheck", {}).get("test", [])
    port = _option(relay.get("command", []), "--http-port") or str(RELAY_HTTP_PORT)
    # The image has Python but no curl; CMD (no shell) as the services' own healthchecks.
    if test[:3] != ["CMD", "python", "-c"] or f"http://127.0.0.1:{port}/healthz" not in " ".join(test):
        return [f"{name}: the relay's healthcheck {test} does not ask its /healthz on port {port}"]
    return []


class TestRelays:
    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_each_service_has_a_relay_of_its_own_and_does_not_relay_itself(self, name: str) -> None:
        assert relay_problems(name, compose()["services"]) == []

    def test_a_missing_relay_or_a_service_still_relaying_fails(self) -> None:
        definitions = json.loads(json.dumps(compose()["services"]))
        del definitions["registry-relay"]
        del definitions["registry"]["environment"]["FMC_REGISTRY_RELAY_IN_PROCESS"]
        assert relay_problems("registry", definitions) == [
            "registry: the service still relays in process (FMC_REGISTRY_RELAY_IN_PROCESS is not false)",
            "registry: no registry-relay service",
        ]

    def test_a_relay_on_another_database_fails(self) -> None:
        definitions = json.loads(json.dumps(compose()["services"]))
        definitions["registry-relay"]["environment"] = definitions["scoring-relay"]["environment"]
        assert relay_problems("registry", definitions) == [
            "registry: the relay's environment is not the service's Kafka settings and its database URL"
        ]

    def test_a_relay_given_its_url_as_an_argument_under_another_name_fails(self) -> None:
        definitions = json.loads(json.dumps(compose()["services"]))
        relay = definitions["registry-relay"]
        url = relay["environment"].pop(RELAY_DATABASE_URL)
        relay["command"] = ["--database-url", url]
        assert relay_problems("registry", definitions) == [
            "registry: the relay gets its database URL on the command line",
            "registry: the relay's --name is None, not registry-relay",
            "registry: the relay's environment is not the service's Kafka settings and its database URL",
        ]

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_a_relay_is_healthy_while_its_loop_turns(self, name: str) -> None:
        assert relay_healthcheck_problems(name, compose()["services"]) == []

    def test_a_relay_without_a_healthcheck_or_on_another_port_fails(self) -> None:
        definitions = json.loads(json.dumps(compose()["services"]))
        del definitions["registry-relay"]["healthcheck"]
        definitions["scoring-relay"]["command"] += ["--http-port", "9000"]
        assert relay_healthcheck_problems("registry", definitions) == [
            "registry: the relay's healthcheck [] does not ask its /healthz on port 8090"
        ]
        assert len(relay_healthcheck_problems("scoring", definitions)) == 1

    @pytest.mark.parametrize("name", SERVICE_NAMES)
    def test_a_relay_runs_unprivileged_from_the_image_the_service_builds(self, name: str) -> None:
        relay = service(f"{name}-relay")
        assert relay["user"].split(":")[0] not in ("0", "root")
        assert relay["read_only"] is True
        assert relay["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in relay["security_opt"]
        assert relay["restart"] == "unless-stopped"
        # Built once, by the service: two services building one tag race; the image is in no registry.
        assert "build" not in relay
        assert relay["pull_policy"] == "never"
        assert "build" in service(name)


def command_line_secrets(definitions: dict[str, Any]) -> list[str]:
    """Services whose entrypoint or command holds a database URL or a password: a process's arguments
    are readable by every user of the host (``ps``), its environment is not."""
    return [
        name
        for name, definition in definitions.items()
        for part in ("entrypoint", "command")
        if re.search(r"postgresql|PASSWORD|SECRET", json.dumps(definition.get(part) or []))
    ]


class TestSecrets:
    def test_secrets_are_interpolated_and_required(self) -> None:
        for name, definition in compose()["services"].items():
            for variable, value in (definition.get("environment") or {}).items():
                if re.search(r"PASSWORD|SECRET", variable):
                    assert INTERPOLATION.fullmatch(str(value)), f"{name}.{variable} holds a literal secret"

    def test_every_interpolated_variable_is_in_the_example_without_a_value(self) -> None:
        text = COMPOSE.read_text(encoding="utf-8")
        used = {match["name"] for match in INTERPOLATION.finditer(text)}
        assert all(match["modifier"].startswith(":?") for match in INTERPOLATION.finditer(text))
        example = env_example()
        assert used == set(example)
        assert all(value == "" for value in example.values()), "env.example must not carry values"

    def test_no_database_url_or_password_is_on_a_command_line(self) -> None:
        assert command_line_secrets(compose()["services"]) == []

    def test_a_database_url_on_a_command_line_is_caught(self) -> None:
        definitions = json.loads(json.dumps(compose()["services"]))
        url = definitions["registry"]["environment"]["FMC_REGISTRY_DATABASE_URL"]
        definitions["registry-relay"]["command"] = ["--database-url", url]
        assert command_line_secrets(definitions) == ["registry-relay"]

    def test_the_env_file_is_kept_out_of_images(self) -> None:
        ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
        assert ".env" in ignored

    def test_commands_are_well_formed_shell(self) -> None:
        for definition in compose()["services"].values():
            test = definition.get("healthcheck", {}).get("test", [])
            if test and test[0] == "CMD-SHELL":
                assert shlex.split(test[1])


# --- the web tier --------------------------------------------------------------------------------

WEB_CALLS = ("registry", "inference-gateway", "scoring", "grievance")


class TestWeb:
    def test_it_builds_from_the_one_dockerfile_and_runs_unprivileged(self) -> None:
        web = service("web")
        assert web["build"] == {"context": ".", "dockerfile": "Dockerfile", "args": {"SERVICE": "web"}}
        assert web["user"].split(":")[0] not in ("0", "root")
        assert web["read_only"] is True
        assert web["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in web["security_opt"]

    def test_it_is_healthy_when_ready_on_the_loopback_port(self) -> None:
        web = service("web")
        port = int(web["environment"]["FMC_WEB_HTTP_PORT"])
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(web["healthcheck"]["test"])
        assert web["ports"] == [f"127.0.0.1:{port}:{port}"]
        assert web["environment"]["FMC_WEB_HTTP_HOST"] == "0.0.0.0"
        assert web["environment"]["FMC_WEB_PUBLIC_URL"] == f"http://127.0.0.1:{port}"

    def test_every_variable_names_a_setting_and_none_is_left_at_loopback(self) -> None:
        environment = service("web")["environment"]
        known = {f"FMC_WEB_{field.upper()}" for field in WebSettings.model_fields}
        known |= {f"FMC_AUTH_{field.upper()}" for field in AuthSettings.model_fields}
        assert set(environment) - known == set()
        for field_name, field in WebSettings.model_fields.items():
            if isinstance(field.default, str) and re.search(r"127\.0\.0\.1|localhost", field.default):
                assert f"FMC_WEB_{field_name.upper()}" in environment, field_name

    def test_it_calls_the_four_apis_and_starts_once_they_are_healthy(self) -> None:
        web = service("web")
        hosts = set()
        for variable, value in web["environment"].items():
            # PUBLIC_URL is where people reach the pages, not a service it calls.
            if variable == "FMC_WEB_PUBLIC_URL" or not re.fullmatch(r"FMC_WEB_(\w+)_URL", variable):
                continue
            if str(value).startswith("http://"):
                url = httpx.URL(value)
                assert url.port == http_port(url.host), variable
                hosts.add(url.host)
        assert hosts == set(WEB_CALLS)
        assert {name: c["condition"] for name, c in web["depends_on"].items()} == dict.fromkeys(
            WEB_CALLS, "service_healthy"
        )

    def test_its_secrets_come_from_the_env_file_and_its_key_is_its_own(self) -> None:
        environment = service("web")["environment"]
        for variable in ("FMC_WEB_SESSION_KEY", "FMC_WEB_OIDC_ISSUER", "FMC_AUTH_SERVICE_KEY"):
            match = INTERPOLATION.fullmatch(str(environment[variable]))
            assert match, variable
            assert match["modifier"].startswith(":?"), variable
        assert environment["FMC_AUTH_SERVICE_KEY"].startswith("${FMC_WEB_SERVICE_KEY:?")
        # No database, no broker: the web tier owns no data.
        assert not [name for name in environment if re.search(r"DATABASE|KAFKA", name)]

    def test_the_settings_accept_the_environment_with_the_env_file_filled_in(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name in [n for n in os.environ if n.startswith("FMC_")]:
            monkeypatch.delenv(name)
        for variable, value in service("web")["environment"].items():
            filled = INTERPOLATION.sub(lambda m: '{"keys": []}' if "JWKS" in m["name"] else "x", str(value))
            monkeypatch.setenv(variable, filled)
        settings = WebSettings.model_validate({})
        assert settings.registry_url == "http://registry:8001"
        assert settings.secure_cookies is True
