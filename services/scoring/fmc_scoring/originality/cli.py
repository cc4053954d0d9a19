"""``python -m fmc_scoring.originality``: check a model, run the calibration, write the demo weights.

    python -m fmc_scoring.originality check PATH --donor NAME@REVISION=DONOR_PATH [--donor ...] [--json OUT]
    python -m fmc_scoring.originality fingerprint DONOR_PATH --name NAME --revision REV --out LIBRARY.npz
    python -m fmc_scoring.originality check PATH --library LIBRARY.npz
    python -m fmc_scoring.originality calibrate [--pairs 50]
    python -m fmc_scoring.originality demo-weights DIRECTORY

PATH and DONOR_PATH are a ``.safetensors`` file, a sharded model's index, or a directory (nothing
outside it is read; links are never followed). Exit status of ``check`` (distinct per outcome):

    0   original        no module matches any donor
    1   reused          a module is another model's weights
    2   usage error     bad arguments, a missing path, a donor or library that cannot be read
    3   needs-review    weak or partial similarity: a person decides
    4   not-comparable  nothing could be compared (no tensors, all values NaN or infinite)
    5   unreadable      the model's files were refused (hostile or broken: see the summary)
    70  internal error  any unexpected exception (never the status of a verdict)

``fingerprint`` exits 0, or 5 if the donor's files are refused; the other commands 0, 2 or 70.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality.calibration import run_calibration
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.demo_weights import write_demo_weights
from fmc_scoring.originality.fingerprint import (
    ModelFingerprint,
    fingerprint_model,
    load_library,
    save_library,
)
from fmc_scoring.originality.report import Report
from fmc_scoring.originality.safetensors_io import SafetensorsError

EXIT_CODES = {
    Verdict.ORIGINAL: 0,
    Verdict.REUSED: 1,
    Verdict.NEEDS_REVIEW: 3,
    Verdict.NOT_COMPARABLE: 4,
    Verdict.UNREADABLE: 5,
}
EXIT_USAGE = 2
EXIT_INTERNAL = 70


class UsageError(Exception):
    """A problem with the command's arguments (exit 2); the message says which."""


def _donor(spec: str) -> tuple[str, str, Path]:
    label, sep, path = spec.rpartition("=")
    if not sep:
        label, path = Path(spec).stem, spec
    name, _, revision = label.partition("@")
    return name, revision or "unpinned", Path(path)


def _print_report(report: Report) -> None:
    print(f"verdict: {report.verdict}")
    print(report.summary)
    for finding in report.modules:
        if finding.decision is Verdict.ORIGINAL:
            continue
        value = "-" if finding.value is None else f"{finding.value:.3f}"
        baseline = (
            ""
            if finding.baseline_mean is None
            else f" (baseline {finding.baseline_mean:.3f} ± {finding.baseline_sd or 0:.3f})"
        )
        print(
            f"  {finding.decision:12} {finding.module:32} {finding.statistic}: {value}{baseline}"
            f" ~ {finding.donor}@{finding.donor_revision}"
        )
    for caveat in report.caveats:
        print(f"  caveat: {caveat}")


def main(argv: list[str] | None = None) -> int:
    """Run a command; its exit status (see the module's docstring). Never raises but ``SystemExit``."""
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        traceback.print_exc()
        print("internal error: the check did not finish (no verdict)", file=sys.stderr)
        return EXIT_INTERNAL


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmc_scoring.originality", description=(__doc__ or "").split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a model against donor models")
    check.add_argument("path", type=Path)
    check.add_argument("--donor", action="append", default=[], help="NAME@REVISION=PATH (repeatable)")
    check.add_argument(
        "--library", action="append", default=[], type=Path, help="saved fingerprints (repeatable)"
    )
    check.add_argument("--json", type=Path, help="write the full report here")
    fingerprint = commands.add_parser("fingerprint", help="save a donor's fingerprints (not its weights)")
    fingerprint.add_argument("path", type=Path)
    fingerprint.add_argument("--name", required=True)
    fingerprint.add_argument("--revision", required=True)
    fingerprint.add_argument("--out", type=Path, required=True)
    calibrate = commands.add_parser("calibrate", help="false-positive and detection rates on simulated pairs")
    calibrate.add_argument("--pairs", type=int, default=50)
    demo = commands.add_parser("demo-weights", help="write the simulated demo donor and team models")
    demo.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.command == "calibrate":
        print(json.dumps(run_calibration(pairs=args.pairs).to_json(), indent=2))
        return 0
    if args.command == "demo-weights":
        for label, path in write_demo_weights(args.directory).items():
            print(f"{label}: {path}")
        return 0
    if args.command == "fingerprint":
        _exists(args.path, "the donor")
        try:
            save_library(args.out, [fingerprint_model(args.path, args.name, args.revision)])
        except SafetensorsError as exc:
            print(f"unreadable: {exc}", file=sys.stderr)
            return EXIT_CODES[Verdict.UNREADABLE]
        print(f"fingerprints of {args.name}@{args.revision}: {args.out}")
        return 0
    if not args.donor and not args.library:
        parser.error("check needs at least one --donor or --library")
    _exists(args.path, "the model to check")
    report = check_model(args.path, _donors(args.donor, args.library))
    _print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2))
    return EXIT_CODES[report.verdict]


def _exists(path: Path, what: str) -> None:
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{what}: nothing at {path}")


def _donors(specs: list[str], libraries: list[Path]) -> list[ModelFingerprint]:
    donors = []
    for name, revision, path in map(_donor, specs):
        _exists(path, f"donor {name}")
        try:
            donors.append(fingerprint_model(path, name, revision))
        except SafetensorsError as exc:
            raise UsageError(f"donor {name}@{revision} is unreadable: {exc}") from None
    for library in libraries:
        _exists(library, "the library")
        try:
            donors += load_library(library)
        except (OSError, ValueError, KeyError) as exc:
            raise UsageError(f"{library.name}: not a fingerprint library ({type(exc).__name__})") from None
    return donors


if __name__ == "__main__":
    sys.exit(main())
