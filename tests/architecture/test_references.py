"""Every ``docs/...`` file the code or the docs point a reader to exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"\bdocs/[\w./-]+?\.(?:md|json|yaml|html)\b")


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if name.endswith((".py", ".md", ".toml", ".yaml", ".yml"))]


def test_every_docs_reference_points_to_an_existing_file() -> None:
    missing = []
    for path in tracked_text_files():
        if not path.exists():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for reference in REFERENCE.findall(line):
                if not (ROOT / reference).exists():
                    missing.append(f"{path.relative_to(ROOT)}:{number} -> {reference}")
    assert not missing, "references to files that do not exist:\n" + "\n".join(missing)


def test_the_reference_pattern_finds_a_decision_link() -> None:
    line = "# see docs/decisions/2026-11-22-outbox-relay-as-sidecar.md, and why"
    assert REFERENCE.findall(line) == ["docs/decisions/2026-11-22-outbox-relay-as-sidecar.md"]
