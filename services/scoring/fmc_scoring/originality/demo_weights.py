"""Simulated weights for the demo: a donor and five teams' models, one reusing the donor's vision encoder.

Everything here is random numbers shaped like a small vision-language model. No real model's
weights are involved: the donor only *stands in* for a public model (the seed article's case is
Alibaba's Qwen 2.5 vision encoder), and the team whose model reuses it (after continued training)
stands in for the Naver Cloud case. ``SIMULATED.json`` in the directory says so for any reader.
"""

from __future__ import annotations

import json
from pathlib import Path

from fmc_scoring.originality import synthetic
from fmc_scoring.originality.synthetic import Architecture

DEMO_ARCH = Architecture()
DONOR_NAME = "simulated-qwen2.5-vl-vision-donor"
DONOR_REVISION = "sim-0001"
TEAMS = {
    "Naver Cloud": "reuses the donor's vision encoder after continued training (simulated)",
    "Upstage": "trained from its own initialisation (simulated)",
    "SK Telecom": "trained from its own initialisation (simulated)",
    "NC AI": "trained from its own initialisation (simulated)",
    "LG AI Research": "trained from its own initialisation (simulated)",
}
REUSING_TEAM = "Naver Cloud"


def team_directory(team: str) -> str:
    return team.lower().replace(" ", "-")


def write_demo_weights(directory: Path, arch: Architecture = DEMO_ARCH) -> dict[str, Path]:
    """Write ``donor/model.safetensors`` and ``teams/<team>/model.safetensors``; return label -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    donor = synthetic.random_model(arch, seed=2024)
    paths = {"donor": synthetic.write_model(_dir(directory / "donor") / "model.safetensors", donor)}
    for index, team in enumerate(TEAMS):
        own = synthetic.random_model(arch, seed=3000 + index)
        if team == REUSING_TEAM:
            tuned = synthetic.fine_tune(donor, "visual.", 0.25, seed=77)
            own = synthetic.with_own_language_model(tuned, own)
        target = _dir(directory / "teams" / team_directory(team)) / "model.safetensors"
        paths[team] = synthetic.write_model(target, own)
    (directory / "SIMULATED.json").write_text(
        json.dumps(
            {
                "simulated": True,
                "note": "Random weights shaped like a small vision-language model; no real weights included.",
                "donor": {
                    "name": DONOR_NAME,
                    "revision": DONOR_REVISION,
                    "stands_in_for": "a public vision encoder",
                },
                "teams": TEAMS,
            },
            indent=2,
        )
    )
    return paths


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
