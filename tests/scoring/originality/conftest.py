"""Simulated donor and candidate models written to safetensors files for the originality tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmc_scoring.originality import synthetic
from fmc_scoring.originality.fingerprint import ModelFingerprint, fingerprint_model
from fmc_scoring.originality.synthetic import Architecture, Weights

ARCH = Architecture()


@pytest.fixture(scope="session")
def arch() -> Architecture:
    return ARCH


@pytest.fixture(scope="session")
def donor_weights() -> Weights:
    return synthetic.random_model(ARCH, seed=1)


@pytest.fixture(scope="session")
def donor_dir(tmp_path_factory: pytest.TempPathFactory, donor_weights: Weights) -> Path:
    directory = tmp_path_factory.mktemp("donor")
    synthetic.write_model(directory / "model.safetensors", donor_weights)
    return directory


@pytest.fixture(scope="session")
def donor(donor_dir: Path) -> ModelFingerprint:
    return fingerprint_model(donor_dir / "model.safetensors", "Qwen2.5-VL-sim", "rev-a1b2c3")


@pytest.fixture(scope="session")
def own_weights() -> Weights:
    """A team's own model: same architecture, its own random initialisation."""
    return synthetic.random_model(ARCH, seed=2)
