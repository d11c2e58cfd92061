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
    _add_dask_arguments(ev)
    _add_report_parser(sub)
    return parser


def _add_dask_arguments(ev):
    group = ev.add_argument_group(
        "Dask", "run one task per subject on a Dask cluster (see the docs' scale-out page)"
    )
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", default=None,
        help="address of a running Dask scheduler",
    )
    where.add_argument(
        "--dask", choices=["local"], default=None,
        help="'local': start a LocalCluster of worker processes on this machine",
    )
    group.add_argument(
        "--dask-workers", type=int, default=None, metavar="N",
        help="number of worker processes of --dask local (default: one per core)",
    )


def _scheduler_from_args(args):
    """The ``scheduler`` argument of :func:`eegbin.evaluation.run` from the CLI flags."""
    return args.scheduler if args.scheduler is not None else args.dask


def _add_report_parser(sub):
    rp = sub.add_parser(
        "report",
        help="turn a saved results CSV into a self-contained HTML page",
        description="Write a single self-contained HTML page (tables, accuracy-versus-"
        "footprint plot, per-subject plot; images embedded) from a results CSV written "
        "by `eegbin evaluate`.",
    )
    rp.add_argument(
        "results", metavar="RESULTS.csv",
        help="results CSV, or the output directory of `eegbin evaluate --out DIR`",
    )
    rp.add_argument("--out", default=None, help="output HTML file (default: RESULTS.html)")
    rp.add_argument("--title", default=None, help="page title")
    rp.set_defaults(func=_cmd_report)


def _cmd_report(args):
    from .evaluation.report import write_report

    try:
        out = write_report(args.results, out=args.out, title=args.title)
    except (FileNotFoundError, ValueError) as exc:
        print(f"eegbin report: error: {exc}", file=sys.stderr)
        return 2
    print(f"eegbin report: wrote {out}")
    return 0


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
