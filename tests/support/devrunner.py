"""Running the ``fmc`` command in tests: a clean environment marked with a run id, and leftovers."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def marked_env() -> tuple[str, dict[str, str]]:
    """A fresh run id and the environment that marks every process ``fmc`` starts with it."""
    run_id = f"test-{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FMC_")} | {"FMC_DEV_RUN_ID": run_id}
    return run_id, env


def processes_marked_with(run_id: str) -> list[int]:
    """Live processes whose environment carries the run id (the command's children and grandchildren)."""
    marker = f"FMC_DEV_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().split()[2]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found
