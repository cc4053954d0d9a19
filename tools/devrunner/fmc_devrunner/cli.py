"""``fmc``: the developer's command line.

fmc dev up      start the embedded stack and keep it running until Ctrl-C / SIGTERM
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
from fmc_devrunner.stack import SERVICES, DevStack, StackConfig, write_issuer_key

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
    up.add_argument("--broker-port", type=int, default=0, help="0: a free port")
    up.add_argument("--base-http-port", type=int, default=0, help="services on this port and the next three")
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
    stack = DevStack(StackConfig(args.var_dir, args.broker_port, args.base_http_port))
    print(f"starting the stack (logs in {stack.logs})")
    try:
        await stack.start()
        print("\nready. Mint a token:  fmc token --role operator\nCtrl-C stops everything.")
        await _until_signalled()
        print("\nstopping ...")
    finally:
        stack.stop()
    print("stopped.")
    return 0


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
    """A dev issuer key (kept in the var dir for ``fmc token``) and a key per service, as .env lines."""
    made = DevKeys.generate(spec.name for spec in SERVICES)
    write_issuer_key(args.var_dir / "dev-issuer.json", made.users)
    print(f"FMC_AUTH_JWKS='{made.users_jwks()}'")
    print(f"FMC_AUTH_SERVICE_JWKS='{made.service_jwks()}'")
    for spec in SERVICES:
        key = made.services[spec.name]
        print(f"{spec.env_prefix}SERVICE_KEY_ID={key.kid}")
        one_line = key.pem().strip().replace("\n", "\\n")  # compose's .env: one line per value
        print(f'{spec.env_prefix}SERVICE_KEY="{one_line}"')
    return 0


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
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
