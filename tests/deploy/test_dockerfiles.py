"""The one Dockerfile (a build argument selects the service), checked statically for every service:
multi-stage, slim, pinned installs, non-root, no build tools in the final image, and the right entry
point and bind address."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from fmc_common.contracts.openapi import SERVICES, build_app
from fmc_web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
# The four services and the web tier: one image definition builds each.
SERVICE_DIRS = {name: ROOT / "services" / name for name in (*(s.name for s in SERVICES), "web")}
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|pip|setuptools)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]]


def stages(service: str, dockerfile: Path = DOCKERFILE) -> list[Stage]:
    """The stages as built for ``service`` (its name given as the SERVICE build argument)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    text = re.sub(r"\$\{?SERVICE\}?", service, text)
    args: dict[str, str] = {}
    result: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not result:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
            stage_name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            result.append(Stage(base, stage_name, []))
        else:
            result[-1].instructions.append((keyword, rest))
    return result


def final_stage(name: str) -> Stage:
    return stages(name)[-1]


def env_prefix(name: str) -> str:
    if name == "web":
        return str(WebSettings.model_config.get("env_prefix"))
    settings = build_app(next(s for s in SERVICES if s.name == name)).state.runtime.settings
    return str(type(settings).model_config.get("env_prefix"))


@pytest.mark.parametrize("name", sorted(SERVICE_DIRS))
class TestServiceImage:
    def test_it_builds_in_one_stage_and_runs_in_another_slim_one(self, name: str) -> None:
        found = stages(name)
        assert len(found) >= 2
        for stage in found:
            assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", stage.base), stage.base
        copies = [rest for keyword, rest in found[-1].instructions if keyword == "COPY"]
        assert any(rest.startswith(f"--from={found[0].name} ") for rest in copies)
        assert all(rest.startswith("--from=") for rest in copies), "the final image receives only the venv"

    def test_the_install_is_pinned_and_takes_the_libraries_and_the_service(self, name: str) -> None:
        runs = " ".join(rest for keyword, rest in stages(name)[0].instructions if keyword == "RUN")
        assert "-c constraints.txt" in runs
        for package in ("./libs/common", "./libs/protos", f"./services/{name}"):
            assert package in runs
        assert "pip uninstall -y pip" in runs, "no installer is left in the runtime image"

    def test_the_final_image_has_no_build_tools(self, name: str) -> None:
        for keyword, rest in final_stage(name).instructions:
            if keyword == "RUN":
                assert not BUILD_TOOLS.search(rest), rest

    def test_it_runs_as_a_numeric_unprivileged_user(self, name: str) -> None:
        instructions = final_stage(name).instructions
        users = [rest for keyword, rest in instructions if keyword == "USER"]
        assert users, "no USER"
        uid = dict(rest.partition("=")[::2] for keyword, rest in instructions if keyword == "ARG").get(
            "UID", users[-1]
        )
        user = users[-1].replace("${UID}", uid).split(":")[0]
        assert user.isdigit()
        assert int(user) >= 1000

    def test_it_starts_the_services_console_script(self, name: str) -> None:
        pyproject = tomllib.loads((SERVICE_DIRS[name] / "pyproject.toml").read_text(encoding="utf-8"))
        scripts = list(pyproject["project"]["scripts"])
        runs = " ".join(rest for keyword, rest in stages(name)[0].instructions if keyword == "RUN")
        # The build links the service's first console script as the one entry point: run the very
        # expression the Dockerfile runs, on this service's pyproject.
        found = re.search(r"python -c '([^']+)' (services/\S+/pyproject\.toml)", runs)
        assert found, runs
        assert found.group(2) == f"services/{name}/pyproject.toml"
        linked = subprocess.run(
            [sys.executable, "-c", found.group(1), found.group(2)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert linked.stdout.strip() == scripts[0]
        assert 'ln -s "/opt/venv/bin/${script}" /opt/venv/bin/fmc-service' in runs
        instructions = dict(final_stage(name).instructions)
        assert instructions["ENTRYPOINT"] == '["fmc-service"]'
        assert instructions["CMD"] == '["serve"]'

    def test_it_listens_on_all_interfaces_at_the_settings_ports(self, name: str) -> None:
        prefix = env_prefix(name)
        instructions = final_stage(name).instructions
        environment = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
        assert f"{prefix}HTTP_HOST=0.0.0.0" in environment
        # The ports are the settings' defaults: the image does not override them.
        assert f"{prefix}HTTP_PORT" not in environment
        assert f"{prefix}GRPC_PORT" not in environment


def test_the_build_stops_without_a_service() -> None:
    runs = [rest for keyword, rest in stages("")[0].instructions if keyword == "RUN"]
    assert runs[0].startswith('test -n ""'), "SERVICE is checked before anything is installed"


def test_there_is_one_dockerfile() -> None:
    assert [path for path in (ROOT / "services").glob("*/Dockerfile")] == []


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in ("**/.venv", "**/.git", ".env", "**/__pycache__", "**/*.egg-info"):
        assert entry in ignored
