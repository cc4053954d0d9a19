"""One BLAS thread for the originality check's small products.

The check's matrix products are small (128 x 128 Grams, 24 x 4,096 null samples, 128 x 4,096
correlations): OpenBLAS splitting each over its thread pool gains nothing, and on a machine whose
cores are busy with other work the calling thread waits for a pool thread the scheduler has not run
yet. Measured with `bench/originality_speed.py`'s model on a shared 2-core machine: a check took
7.5-10.7 s with the default pool and 4.6-5.7 s with one thread (docs/performance.md). Parallelism
belongs one level up, in processes per shard (docs/originality.md).

OpenBLAS reads ``OPENBLAS_NUM_THREADS`` only when it loads, after numpy is imported, so the limit is
set through the library's own ``openblas_set_num_threads`` on the OpenBLAS copies already loaded.
It is process-wide and set once (the scoring service's other numpy work is light). Where no OpenBLAS
is found (another BLAS, another platform), nothing changes.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import numpy as np  # noqa: F401  (loads numpy's OpenBLAS before it is looked for)

_SETTERS = (
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
)
_LOCK = threading.Lock()
_done: list[int] = []


def loaded_openblas(maps: Path = Path("/proc/self/maps")) -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (empty if none or unknown)."""
    try:
        lines = maps.read_text().splitlines()
    except OSError:
        return []
    return sorted({line.split()[-1] for line in lines if "openblas" in line.rsplit("/", 1)[-1].lower()})


def single_threaded_blas() -> int:
    """Limit every loaded OpenBLAS to one thread, once per process; how many libraries were limited."""
    with _LOCK:
        if _done:
            return _done[0]
        limited = 0
        for path in loaded_openblas():
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            for name in _SETTERS:
                setter = getattr(library, name, None)
                if setter is not None:
                    setter(ctypes.c_int(1))
                    limited += 1
                    break
        _done.append(limited)
        return limited
