"""``python -m fmc_common.contracts export|check [--root DIR] [--allow-breaking]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fmc_common.contracts.export import (
    CONTRACTS_DIR,
    EXPORT_COMMAND,
    ContractBreak,
    breaking_changes,
    generate,
    read_committed,
    stale_files,
    write,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmc_common.contracts",
        description="Export the AsyncAPI, event JSON Schemas, OpenAPI and proto summary to docs/contracts.",
    )
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: cwd)")
    parser.add_argument(
        "--allow-breaking",
        action="store_true",
        help="export even if a published event schema or proto changed incompatibly",
    )
    args = parser.parse_args(argv)
    root: Path = args.root
    generated = generate()
    if args.command == "export":
        try:
            changed = write(root, generated, allow_breaking=args.allow_breaking)
        except ContractBreak as exc:
            print("refused: incompatible contract changes\n" + str(exc), file=sys.stderr)
            return 1
        for path in changed:
            print(f"wrote {CONTRACTS_DIR / path}")
        return 0
    committed = read_committed(root)
    problems = [str(change) for change in breaking_changes(generated, committed)]
    stale = stale_files(generated, committed)
    for problem in problems:
        print(f"breaking: {problem}", file=sys.stderr)
    for path in stale:
        print(f"stale: {CONTRACTS_DIR / path} (run `{EXPORT_COMMAND}`)", file=sys.stderr)
    return 1 if problems or stale else 0


if __name__ == "__main__":
    sys.exit(main())
