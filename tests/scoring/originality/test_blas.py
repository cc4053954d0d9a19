"""The check runs its small matrix products on one BLAS thread (see ``blas.py`` for why)."""

from __future__ import annotations

import ctypes
from pathlib import Path

from fmc_scoring.originality import synthetic
from fmc_scoring.originality.blas import loaded_openblas
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.fingerprint import fingerprint_model

GETTERS = ("openblas_get_num_threads64_", "openblas_get_num_threads")


def _thread_counts() -> list[int]:
    counts = []
    for path in loaded_openblas():
        library = ctypes.CDLL(path)
        getter = next((getattr(library, n) for n in GETTERS if hasattr(library, n)), None)
        if getter is not None:
            counts.append(int(getter()))
    return counts


def test_numpys_openblas_is_found_among_the_loaded_libraries() -> None:
    assert any("openblas" in Path(p).name for p in loaded_openblas())
    assert _thread_counts(), "numpy's OpenBLAS exposes its thread count"


def test_a_check_leaves_openblas_on_one_thread(tmp_path: Path) -> None:
    arch = synthetic.Architecture()
    donor, candidate = tmp_path / "donor.safetensors", tmp_path / "candidate.safetensors"
    synthetic.write_model(donor, synthetic.random_model(arch, seed=1))
    synthetic.write_model(candidate, synthetic.random_model(arch, seed=2))
    check_model(candidate, [fingerprint_model(donor, "donor", "r1")])
    counts = _thread_counts()
    assert counts
    assert all(count == 1 for count in counts)
