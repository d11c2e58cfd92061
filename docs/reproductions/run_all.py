"""Produce the eegbin tables of the reproduction pages (docs/reproductions/results/KEY/).

For each page, evaluates the registered pipelines whose ``reference`` cites the page's
paper (the same selection the page shows) with ``eegbin.evaluation.run`` and writes
``scores.csv``, ``summary.csv`` and ``accuracy_vs_memory.png`` into
``docs/reproductions/results/KEY/``; rebuild the docs afterwards. Usage::

    python docs/reproductions/run_all.py                    # all pages, all 9 subjects
    python docs/reproductions/run_all.py hersche2020 --subjects 1 2 3
    python docs/reproductions/run_all.py --dask local       # one Dask task per subject
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # eegbin from this checkout
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "_ext"))

from eegbin_api import REPRODUCTIONS, pipelines_citing  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", metavar="PAGE",
                        help=f"pages to produce (default: all of {', '.join(REPRODUCTIONS)})")
    parser.add_argument("--subjects", nargs="+", type=int, default=None)
    parser.add_argument("--evaluation", default="cross-session")
    parser.add_argument("--dataset", default="simulated")
    parser.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of a Dask scheduler")
    parser.add_argument("--dask", choices=["local"], default=None)
    args = parser.parse_args(argv)
    unknown = [p for p in args.pages if p not in REPRODUCTIONS]
    if unknown:
        parser.error(f"unknown page(s) {unknown}; choose from {', '.join(REPRODUCTIONS)}")

    from eegbin.evaluation import run

    for key in args.pages or list(REPRODUCTIONS):
        names = pipelines_citing(REPRODUCTIONS[key])
        if not names:
            print(f"{key}: no registered pipeline cites {REPRODUCTIONS[key]!r}; skipped")
            continue
        out = os.path.join(HERE, "results", key)
        print(f"{key}: {', '.join(names)} -> {out}")
        res = run(names, dataset=args.dataset, evaluation=args.evaluation, subjects=args.subjects,
                  out=out, progress=True, scheduler=args.scheduler or args.dask)
        print(res.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
