"""The ``eegbin`` command."""

from __future__ import annotations

import argparse
import sys

from . import __version__

_DEFAULT_OUT = "eegbin-results"


class _Parser(argparse.ArgumentParser):
    """Argument errors: one line on stderr, exit status 2, no usage dump or traceback."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(
        prog="eegbin",
        description="Compact binary and quantized EEG motor-imagery decoding.",
    )
    parser.add_argument("--version", action="version", version=f"eegbin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    ev = sub.add_parser(
        "evaluate",
        help="run a MOABB evaluation of registered pipelines",
        description=(
            "Evaluate registered pipelines on MOABB data: the offline simulated dataset "
            "(default) or BNCI2014_001. Cross-session (default): trained on each subject's "
            "first session (0train), tested on the next (1test). Prints per-subject accuracy "
            "and footprint, writes scores.csv (MOABB-shaped), summary.csv and "
            "accuracy_vs_memory.png."
        ),
    )
    ev.add_argument("--dataset", default="simulated", help="simulated (default) or BNCI2014_001")
    ev.add_argument(
        "--evaluation",
        default="cross-session",
        help="cross-session (default: trained on 0train, tested on 1test) or within-session "
        "(5-fold cross-validation inside each session)",
    )
    ev.add_argument(
        "--pipelines", nargs="+", metavar="NAME",
        help="registered pipeline names, or 'all' (default: those --list does not mark as opt-in)",
    )
    ev.add_argument("--subjects", nargs="+", type=int, metavar="N", help="subject numbers (default: all)")
    ev.add_argument(
        "--n-jobs", type=int, default=-1,
        help="worker processes over subjects (default -1: one per core; 1: this process only)",
    )
    ev.add_argument("--out", default=_DEFAULT_OUT, help=f"output directory (default ./{_DEFAULT_OUT})")
    ev.add_argument("--list", action="store_true", help="list the registered pipelines and exit")
    ev.add_argument("--verbose", action="store_true", help="let MOABB, MNE and Dask log")
    ev.set_defaults(func=_cmd_evaluate, parser=ev)
    _add_dask_arguments(ev)
    _add_report_parser(sub)
    return parser


def _validate(args):
    """Check arguments before any work; return (dataset, pipelines) or raise ValueError."""
    from .datasets.loading import DATASETS, get_dataset
    from .evaluation import EVALUATIONS, check_output_directory, check_scheduler
    from .evaluation.pipelines import get_spec, list_pipelines

    if args.dataset.lower() not in {d.lower() for d in DATASETS}:
        raise ValueError(f"unknown dataset {args.dataset!r} (choose from {', '.join(DATASETS)})")
    if args.evaluation not in EVALUATIONS:
        raise ValueError(
            f"unknown evaluation {args.evaluation!r} (choose from {', '.join(EVALUATIONS)})"
        )
    if args.n_jobs == 0 or args.n_jobs < -1:
        raise ValueError(f"--n-jobs must be a positive integer or -1, got {args.n_jobs}")
    if getattr(args, "dask_workers", None) is not None and args.dask_workers < 1:
        raise ValueError(f"--dask-workers must be a positive integer, got {args.dask_workers}")
    if getattr(args, "scheduler", None) is not None:
        try:
            check_scheduler(args.scheduler)
        except ValueError:
            raise ValueError(
                f"--scheduler must be a Dask scheduler address like tcp://HOST:PORT or HOST:PORT, "
                f"got {args.scheduler!r}"
            ) from None
    if args.pipelines == ["all"]:
        names = list_pipelines()
    else:
        names = args.pipelines or list_pipelines(default_only=True)
    for name in names:
        try:
            get_spec(name)
        except ValueError:
            raise ValueError(
                f"unknown pipeline {name!r} (registered: {', '.join(list_pipelines())})"
            ) from None
    ds = get_dataset(args.dataset, args.subjects)  # subjects out of range -> ValueError
    if getattr(args, "out", None) is not None:
        check_output_directory(args.out)  # before any work: a bad --out loses nothing
    return ds, names


def _add_dask_arguments(ev):
    group = ev.add_argument_group(
        "Dask", "run one task per subject on a Dask cluster (see the docs' scale-out page)"
    )
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDRESS", default=None,
        help="address of a running Dask scheduler (tcp://HOST:PORT or HOST:PORT)",
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
    import warnings

    from . import evaluation
    from .evaluation import SchedulerUnreachable
    from .evaluation.pipelines import get_spec, list_pipelines

    if args.list:
        names = list_pipelines()
        width = max((len(n) for n in names), default=8)
        for name in names:
            spec = get_spec(name)
            flag = "" if spec.default else "  (not run by default)"
            print(f"{name:<{width}}  {spec.description}{flag}")
        return 0
    try:
        ds, names = _validate(args)
    except (ValueError, TypeError) as exc:
        args.parser.error(str(exc))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="could not write to", category=RuntimeWarning)
            res = evaluation.run(
                names,
                dataset=ds,
                evaluation=args.evaluation,
                subjects=args.subjects,
                n_jobs=args.n_jobs,
                out=args.out,
                progress=True,
                scheduler=_scheduler_from_args(args),
                dask_workers=args.dask_workers,
                verbose=args.verbose,
            )
    except (FileNotFoundError, SchedulerUnreachable) as exc:  # BNCI files not on disk, no scheduler
        print(f"eegbin evaluate: error: {exc}", file=sys.stderr)
        return 2
    print(f"\n{res.dataset}; {res.protocol}; accuracy in %, mean ± std over subjects:")
    print(res.table())
    if res.write_error:
        print(f"eegbin evaluate: warning: {res.write_error}", file=sys.stderr)
    for kind, path in res.files.items():
        print(f"{kind}: {path}")
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
