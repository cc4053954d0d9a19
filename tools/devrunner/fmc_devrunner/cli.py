"""``fmc``: the developer's command line.

fmc dev up      start the embedded stack on stable ports (docs/sandbox.md) until Ctrl-C / SIGTERM
fmc dev clock   read (show) or move forward (advance) the running stack's dev clock
fmc demo        start the stack, run the demonstration flow, print the report, stop everything
fmc token       mint a development token (reads the key written by ``fmc dev up``)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fmc_common.auth import Role
from fmc_common.dev_auth import DevKeys, mint_token
from fmc_common.jwks import SigningKey
from fmc_devrunner import sandbox
from fmc_devrunner.stack import SERVICES, WEB, PortsInUse, write_issuer_key

DEFAULT_VAR = Path("var/dev")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fmc", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the embedded stack")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True)
    up = dev_commands.add_parser("up", help="start everything and wait for Ctrl-C")
    up.add_argument("--var-dir", type=Path, default=DEFAULT_VAR, help="logs, SQLite files, the dev key")
    up.add_argument(
        "--free-ports", action="store_true", help="free ports instead of the stable ones (docs/sandbox.md)"
    )
    up.add_argument("--broker-port", type=int, default=0, help="this broker port instead")
    up.add_argument("--base-http-port", type=int, default=0, help="services on this port and the next three")
    up.add_argument(
        "--seed",
        action="store_true",
        help="load the seed programme (15 applicants, 5 selected teams, support) and the teams' weights",
    )
    up.add_argument("--fresh", action="store_true", help="start from empty databases (wipes --var-dir)")
    clock = dev_commands.add_parser("clock", help="the running stack's dev clock")
    clock_commands = clock.add_subparsers(dest="clock_command", required=True)
    show = clock_commands.add_parser("show", help="the time every service of the stack sees")
    show.add_argument("--var-dir", type=Path, default=DEFAULT_VAR)
    advance = clock_commands.add_parser("advance", help="move every service's clock forward")
    advance.add_argument("--days", type=float, default=0)
    advance.add_argument("--hours", type=float, default=0)
    advance.add_argument("--minutes", type=float, default=0)
    advance.add_argument(
        "--to",
        type=datetime.fromisoformat,
        help="an ISO 8601 time with its offset (e.g. 2026-01-26T00:01+09:00)",
    )
    advance.add_argument("--var-dir", type=Path, default=DEFAULT_VAR)
    demo = commands.add_parser("demo", help="run the demonstration flow end to end")
    demo.add_argument("--var-dir", type=Path, default=Path("var/demo"))
    demo.add_argument("--report-dir", type=Path, default=Path("demo-report"))
    demo.add_argument(
        "--scale", choices=["full", "small"], default="full", help="small: two suites, fewer votes (CI)"
    )
    demo.add_argument(
        "--through",
        choices=["stage-1", "stage-2"],
        default="stage-1",
        help="stage-2: continue into the additional selection and the second evaluation",
    )
    token = commands.add_parser("token", help="mint a development token")
    token.add_argument("--role", choices=[r.value for r in Role], required=True)
    token.add_argument("--team-id", type=uuid.UUID)
    token.add_argument("--subject", default="developer")
    token.add_argument("--var-dir", type=Path, default=DEFAULT_VAR)
    keys = commands.add_parser("keys", help="make keys for docker compose: .env lines on stdout")
    keys.add_argument(
        "--var-dir", type=Path, default=DEFAULT_VAR, help="where `fmc token` finds the issuer key"
    )
    return parser


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def dev_up(args: argparse.Namespace) -> int:
    stack = await sandbox.prepare(
        args.var_dir,
        free_ports=args.free_ports,
        broker_port=args.broker_port,
        base_http_port=args.base_http_port,
        fresh=args.fresh,
    )
    print(f"starting the stack (logs in {stack.logs})")
    try:
        try:
            await stack.start()
        except PortsInUse as taken:
            print(f"\ncannot start: {taken}", file=sys.stderr)
            return 2
        seeded = await sandbox.seed(stack) if args.seed else None
        sandbox.write_state(stack, seeded)
        print(sandbox.summary(stack, seeded))
        print("\nready. Ctrl-C stops everything.", flush=True)
        await _until_signalled()
        print("\nstopping ...")
    finally:
        stack.stop()
        sandbox.clear_state(stack)
    print("stopped.")
    return 0


def dev_clock(args: argparse.Namespace) -> int:
    try:
        if args.clock_command == "show":
            print(sandbox.clock_show(args.var_dir))
            return 0
        delta = sandbox.clock_delta(args.var_dir, args.days, args.hours, args.minutes, args.to)
        print(sandbox.clock_advance(args.var_dir, delta))
        return 0
    except sandbox.ClockError as error:
        print(str(error), file=sys.stderr)
        return 2


def token(args: argparse.Namespace) -> int:
    key_file = args.var_dir / "dev-issuer.json"
    if not key_file.exists():
        print(f"no dev issuer key in {key_file}: run `fmc dev up` first", file=sys.stderr)
        return 2
    issuer = json.loads(key_file.read_text())
    role = Role(args.role)
    if role == Role.TEAM and args.team_id is None:
        print("--team-id is required for a team token", file=sys.stderr)
        return 2
    # The dev issuer stands in for the OpenID Connect provider; services hold only its public key.
    settings = DevKeys(SigningKey.from_pem(issuer["kid"], issuer["pem"]), services={}).settings()
    print(mint_token(settings, subject=args.subject, role=role, team_id=args.team_id, now=datetime.now(UTC)))
    return 0


def make_keys(args: argparse.Namespace) -> int:
    """A dev issuer key (kept in the var dir for ``fmc token``) and a key per service and for the web
    tier (it reads the public schedule with its own service token), as .env lines."""
    prefixes = {spec.name: spec.env_prefix for spec in SERVICES} | {WEB: "FMC_WEB_"}
    made = DevKeys.generate(prefixes)
    write_issuer_key(args.var_dir / "dev-issuer.json", made.users)
    print(f"FMC_AUTH_JWKS='{made.users_jwks()}'")
    print(f"FMC_AUTH_SERVICE_JWKS='{made.service_jwks()}'")
    for name, prefix in prefixes.items():
        key = made.services[name]
        print(f"{prefix}SERVICE_KEY_ID={key.kid}")
        one_line = key.pem().strip().replace("\n", "\\n")  # compose's .env: one line per value
        print(f'{prefix}SERVICE_KEY="{one_line}"')
    return 0


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "dev" and args.dev_command == "clock":
        sys.exit(dev_clock(args))
    if args.command == "dev":
        sys.exit(asyncio.run(dev_up(args)))
    if args.command == "demo":
        from fmc_devrunner.demo import SCALES, run_demo

        sys.exit(asyncio.run(run_demo(args.var_dir, args.report_dir, SCALES[args.scale], args.through)))
    if args.command == "token":
        sys.exit(token(args))
    if args.command == "keys":
        sys.exit(make_keys(args))


if __name__ == "__main__":
    main()
