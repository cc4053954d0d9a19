"""One BLAS thread in the containers: the arena's ratings run numpy in a worker thread beside the
event loop, and OpenBLAS's own thread pool would oversubscribe a pod's CPU limit (issue 18, item 2)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PINNED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def test_the_image_runs_with_one_blas_thread() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for name, value in PINNED.items():
        assert re.search(rf"^\s*{name}={value}\b", text, re.MULTILINE), name


def test_compose_pins_scoring_to_one_blas_thread() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["services"]["scoring"]["environment"]
    assert {name: str(environment.get(name)) for name in PINNED} == PINNED


def test_the_scoring_pods_run_with_one_blas_thread() -> None:
    config = yaml.safe_load((ROOT / "deploy/k8s/base/services/scoring/configmap.yaml").read_text())
    assert {name: config["data"].get(name) for name in PINNED} == PINNED
    deployment = (ROOT / "deploy/k8s/base/services/scoring/deployment.yaml").read_text()
    assert re.search(r"configMapRef:\s*\n\s*name: scoring\n", deployment)  # the pods read it (envFrom)
