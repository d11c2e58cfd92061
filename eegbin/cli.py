"""The ``eegbin`` command."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser():
    parser = argparse.ArgumentParser(
        prog="eegbin",
        description="Compact binary and quantized EEG motor-imagery decoding.",
    )
    parser.add_argument("--version", action="version", version=f"eegbin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    ev = sub.add_parser(
        "evaluate",
        help="run a MOABB evaluation of registered pipelines",
        description="Run a MOABB evaluation of registered pipelines.",
    )
    ev.set_defaults(func=_cmd_evaluate)
    return parser


def _cmd_evaluate(args):
    print(
        "eegbin evaluate: the simulated motor-imagery dataset and the MOABB evaluation "
        "runner are not available in this version yet (coming with the data issue); "
        "nothing was evaluated."
    )
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
