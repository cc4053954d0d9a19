"""What the name-free layer evidence costs inside an originality check, against sha256 of the same bytes.

Writes the simulated model of ``bench/originality_speed.py`` (a donor, and a candidate whose vision
tower is a fine-tuned copy and whose language model is its own), fingerprints the donor, then checks
the candidate twice in this process: as it is, and with every layer aligned (none skipped because
other evidence already settled it). Prints the CPU seconds of the layer evidence, of the whole check
and of hashlib's sha256 over the file, as one JSON line at the end.

    .venv/bin/python bench/originality_layers.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import originality_speed

from fmc_scoring.originality import check
from fmc_scoring.originality.fingerprint import fingerprint_model


def cpu_of_check(path: Path, donor: Any, *, skip_settled: bool) -> tuple[float, float]:
    """CPU seconds of the whole check and of its layer evidence."""
    original = check._layer_evidence
    spent = {"layers": 0.0}

    def timed(tensors: Any, donors: Any, structural: Any, settled: frozenset[str]) -> Any:
        started = time.process_time()
        result = original(tensors, donors, structural, settled if skip_settled else frozenset())
        spent["layers"] += time.process_time() - started
        return result

    check._layer_evidence = timed
    try:
        started = time.process_time()
        check.check_model(path, [donor])
        total = time.process_time() - started
    finally:
        check._layer_evidence = original
    return total, spent["layers"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    arch = originality_speed.architecture(args.size_mb)
    with tempfile.TemporaryDirectory(prefix="fmc-originality-layers-") as tmp:
        donor_path, candidate = Path(tmp) / "donor.safetensors", Path(tmp) / "candidate.safetensors"
        originality_speed.write(donor_path, arch, candidate=False)
        originality_speed.write(candidate, arch, candidate=True)
        donor = fingerprint_model(donor_path, "donor", "bench")
        started = time.process_time()
        digest = hashlib.sha256()
        with candidate.open("rb") as handle:
            while chunk := handle.read(4 << 20):
                digest.update(chunk)
        sha_cpu = time.process_time() - started
        total, layers = cpu_of_check(candidate, donor, skip_settled=True)
        total_all, layers_all = cpu_of_check(candidate, donor, skip_settled=False)
        size = candidate.stat().st_size
    count = arch.vision_layers + arch.text_layers
    print(f"model: {size / 1e6:.0f} MB, {count} layers; sha256 {sha_cpu:.2f} s CPU")
    print(f"check {total:.2f} s CPU, of which layer evidence {layers:.2f} s (settled layers skipped)")
    print(f"check {total_all:.2f} s CPU, of which layer evidence {layers_all:.2f} s (every layer aligned)")
    print(
        json.dumps(
            {
                "bytes": size,
                "layers": count,
                "sha256_cpu_s": round(sha_cpu, 3),
                "check_cpu_s": round(total, 3),
                "layer_evidence_cpu_s": round(layers, 3),
                "layer_evidence_every_layer_cpu_s": round(layers_all, 3),
                "layer_evidence_share_of_check": round(layers / total, 3) if total else None,
                "layer_evidence_every_layer_per_layer_ms": round(1000 * layers_all / count, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
