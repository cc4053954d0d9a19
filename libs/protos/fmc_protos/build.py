"""Regenerate the Python code of every .proto here: ``python -m fmc_protos.build``."""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent


def proto_files() -> list[Path]:
    return sorted(ROOT.rglob("*.proto"))


def generate(output: Path = ROOT.parent) -> int:
    include = Path(protoc.__file__).resolve().parent / "_proto"
    args = [
        "protoc",
        f"-I{ROOT.parent}",
        f"-I{include}",
        f"--python_out={output}",
        f"--grpc_python_out={output}",
        f"--pyi_out={output}",
        *(str(p.relative_to(ROOT.parent)) for p in proto_files()),
    ]
    return int(protoc.main(args))


if __name__ == "__main__":
    sys.exit(generate())
