"""The ``aionactors`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aionactors.demo import run_demo
from aionactors.store import DEFAULT_URL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aionactors", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run a checkout workflow end to end and show its history"
    )
    demo.add_argument("--db", default=DEFAULT_URL, help=f"store URL (default {DEFAULT_URL})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        return run_demo(args.db, out=sys.stdout)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
