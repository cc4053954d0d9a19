"""Bytes of weights checked per second by the originality check, against sha256 of the same bytes.

Generates a simulated donor and a candidate of about ``--size-mb`` (float32 safetensors, written one
tensor at a time): the candidate carries the donor's vision encoder after continued training and its
own language model. The donor is fingerprinted once (not timed). Then, on the same warm page cache:

* the in-process OpenSSL sha256 (``hashlib``, 4 MB reads) of the candidate file: the I/O limit of
  one pass over the bytes in Python, and the baseline of ``ratio`` (target: at least 0.5);
* ``sha256sum`` of the same file (a second reference, printed);
* the check in a separate process (library loaded from saved fingerprints, timed around
  ``check_model``), with its peak RSS (``VmHWM``; target: under 500 MB).

Prints the throughputs, ``ratio`` (check / hashlib sha256 throughput) and the peak RSS; the last
line is JSON.

    .venv/bin/python bench/originality_speed.py [--size-mb 2048] [--directory DIR] [--repeat 2] [--dtype BF16]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from fmc_scoring.originality.fingerprint import fingerprint_model, save_library
from fmc_scoring.originality.safetensors_io import SafetensorsWriter, bf16_bits
from fmc_scoring.originality.synthetic import Architecture, random_tensor

CHILD = """
import json, sys, time
from pathlib import Path
import fmc_scoring.originality.check as check
from fmc_scoring.originality.fingerprint import load_library
library = load_library(Path(sys.argv[1]))
scanning = [0.0]
scan_tensor = check.scan_tensor
def timed(*args, **kwargs):  # the per-byte path: reading, sample, sketches (hashes of suspects)
    started = time.perf_counter()
    try:
        return scan_tensor(*args, **kwargs)
    finally:
        scanning[0] += time.perf_counter() - started
check.scan_tensor = timed
started = time.perf_counter()
report = check.check_model(Path(sys.argv[2]), library)
elapsed = time.perf_counter() - started
# This process's own high-water mark (ru_maxrss from wait4 would include the parent's, via fork).
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
peak = int(status["VmHWM"].split()[0]) * 1024
out = {"seconds": elapsed, "scan_seconds": scanning[0], "verdict": str(report.verdict), "peak_rss": peak}
print(json.dumps(out))
"""


def architecture(size_mb: int, width: int = 4) -> Architecture:
    """A vision tower of 12 layers and as many decoder layers as the size asks for (``width`` bytes each)."""
    base = Architecture(
        vision_hidden=768,
        vision_layers=12,
        patch=14,
        text_hidden=1024,
        text_layers=1,
        intermediate=4096,
        vocab=32000,
    )
    per_layer = width * (4 * 1024 * 1024 + 3 * 1024 * 4096 + 2 * 1024)
    fixed = sum(width * int(np.prod(shape)) for _, shape in base.layout()) - per_layer
    layers = max(1, round((size_mb * 1024 * 1024 - fixed) / per_layer))
    return Architecture(
        vision_hidden=768,
        vision_layers=12,
        patch=14,
        text_hidden=1024,
        text_layers=layers,
        intermediate=4096,
        vocab=32000,
    )


def write(path: Path, arch: Architecture, *, candidate: bool, dtype: str = "F32") -> None:
    """Donor: seeded tensors. Candidate: donor's vision tower plus noise, its own language model."""
    layout = arch.layout()
    with SafetensorsWriter(path, [(name, dtype, shape) for name, shape in layout]) as writer:
        for index, (name, shape) in enumerate(layout):
            own = candidate and not name.startswith("visual.")
            value = random_tensor(name, shape, np.random.default_rng([7 if own else 1, index]))
            if candidate and not own:
                noise = np.random.default_rng([3, index]).standard_normal(shape, dtype=np.float32)
                value += np.float32(0.3 * float(value.std())) * noise
            writer.write(name, bf16_bits(value, round_nearest=True) if dtype == "BF16" else value)


def time_sha256sum(path: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(["sha256sum", str(path)], check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


def time_openssl_sha256(path: Path, repeat: int) -> float:
    """Python's hashlib (OpenSSL, SHA extensions when the CPU has them) over the file: a second reference."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(4 << 20):
                digest.update(chunk)
        best = min(best, time.perf_counter() - started)
    return best


def time_check(library: Path, path: Path, repeat: int) -> tuple[float, int, dict[str, Any]]:
    """Best seconds of the check, the largest peak RSS (bytes) of its processes, and the best run's output."""
    best, peak = float("inf"), 0
    output: dict[str, Any] = {}
    for _ in range(repeat):
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(library), str(path)], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        out = process.stdout.read()
        if process.wait() != 0:
            raise SystemExit(f"the check failed ({process.returncode})")
        found = json.loads(out.strip().splitlines()[-1])
        if float(found["seconds"]) < best:
            best, output = float(found["seconds"]), found
        peak = max(peak, int(output["peak_rss"]))
    return best, peak, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--directory", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dtype", choices=["F32", "BF16"], default="F32", help="how both models are stored")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fmc-originality-bench-", dir=args.directory) as tmp:
        directory = Path(tmp)
        arch = architecture(args.size_mb, 2 if args.dtype == "BF16" else 4)
        donor, candidate = directory / "donor.safetensors", directory / "candidate.safetensors"
        write(donor, arch, candidate=False, dtype=args.dtype)
        write(candidate, arch, candidate=True, dtype=args.dtype)
        library = directory / "library.npz"
        started = time.perf_counter()
        save_library(library, [fingerprint_model(donor, "simulated-donor", "bench")])
        fingerprint_seconds = time.perf_counter() - started
        donor.unlink()
        size = candidate.stat().st_size
        time_sha256sum(candidate, 1)  # warm the page cache for both sides alike
        sha_seconds = time_sha256sum(candidate, args.repeat)
        openssl_seconds = time_openssl_sha256(candidate, args.repeat)
        check_seconds, peak_rss, output = time_check(library, candidate, args.repeat)
    mb = size / 1e6
    ratio = openssl_seconds / check_seconds
    print(f"model: {mb:.0f} MB {args.dtype}, {arch.text_layers} decoder layers + 12 vision layers")
    print(f"donor fingerprinting: {fingerprint_seconds:.1f} s (once, not in the ratio)")
    print(f"sha256sum:            {mb / sha_seconds:8.0f} MB/s ({sha_seconds:.2f} s)")
    print(f"hashlib sha256:       {mb / openssl_seconds:8.0f} MB/s ({openssl_seconds:.2f} s)")
    verdict = output["verdict"]
    print(f"originality check:    {mb / check_seconds:8.0f} MB/s ({check_seconds:.2f} s), verdict {verdict}")
    print(f"ratio (check / hashlib sha256): {ratio:.2f} (target >= 0.5)")
    print(f"ratio (check / sha256sum): {sha_seconds / check_seconds:.2f}")
    scan = float(output["scan_seconds"])
    print(
        f"  of which the per-byte scan: {scan:.2f} s ({openssl_seconds / scan:.2f} x hashlib sha256's speed)"
    )
    print(
        "  and the evidence after it (alignments, CKA, rank tests, name-free layer evidence, baselines): "
        f"{check_seconds - scan:.2f} s"
    )
    print(f"peak RSS of the check process: {peak_rss / 2**20:.0f} MiB (target < 500)")
    print(
        json.dumps(
            {
                "bytes": size,
                "dtype": args.dtype,
                "sha256sum_mb_per_s": round(mb / sha_seconds, 1),
                "check_mb_per_s": round(mb / check_seconds, 1),
                "hashlib_sha256_mb_per_s": round(mb / openssl_seconds, 1),
                "ratio": round(ratio, 3),
                "ratio_vs_sha256sum": round(sha_seconds / check_seconds, 3),
                "scan_seconds": round(scan, 2),
                "evidence_seconds": round(check_seconds - scan, 2),
                "peak_rss_mib": round(peak_rss / 2**20, 1),
                "verdict": output["verdict"],
            }
        )
    )


if __name__ == "__main__":
    main()
