"""``python -m fmc_scoring.originality``: check a model, run the calibration, write the demo weights.

    python -m fmc_scoring.originality check PATH --donor NAME@REVISION=DONOR_PATH [--donor ...] [--json OUT]
    python -m fmc_scoring.originality fingerprint DONOR_PATH --name NAME --revision REV --out LIBRARY.npz
    python -m fmc_scoring.originality check PATH --library LIBRARY.npz
    python -m fmc_scoring.originality calibrate [--pairs 50]
    python -m fmc_scoring.originality demo-weights DIRECTORY

PATH and DONOR_PATH are a ``.safetensors`` file, a sharded model's index, or a directory. The exit
status is 0 for ``original``, 1 for ``reused``, 3 for ``needs-review`` (2 is a usage error).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality.calibration import run_calibration
from fmc_scoring.originality.check import check_model
from fmc_scoring.originality.demo_weights import write_demo_weights
from fmc_scoring.originality.fingerprint import fingerprint_model, load_library, save_library
from fmc_scoring.originality.report import Report

EXIT_CODES = {Verdict.ORIGINAL: 0, Verdict.REUSED: 1, Verdict.NEEDS_REVIEW: 3}


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
    parser = argparse.ArgumentParser(
        prog="python -m fmc_scoring.originality", description=__doc__.split("\n")[0]
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
        save_library(args.out, [fingerprint_model(args.path, args.name, args.revision)])
        print(f"fingerprints of {args.name}@{args.revision}: {args.out}")
        return 0
    if not args.donor and not args.library:
        parser.error("check needs at least one --donor or --library")
    donors = [fingerprint_model(path, name, revision) for name, revision, path in map(_donor, args.donor)]
    donors += [donor for library in args.library for donor in load_library(library)]
    report = check_model(args.path, donors)
    _print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2))
    return EXIT_CODES[report.verdict]


if __name__ == "__main__":
    sys.exit(main())
