"""Self-contained HTML report of saved results (``eegbin report DIR`` or ``RESULTS.csv``).

Every number on the page comes from one summary, :func:`~eegbin.evaluation.summarize_results`
of the results: the summary table, the accuracy-versus-memory plot and the per-subject
bars. Accuracies are shown in % with one decimal, the protocol (which session trained
and which tested the models) above each dataset's section. Plots are PNGs embedded as
base64 ``data:`` URIs, so the single file can be mailed or attached to an issue.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import datetime, timezone

import pandas as pd

from .plotting import plot_accuracy_vs_memory, plot_per_subject
from .runner import SCORES_FILE, SUMMARY_FILE
from .summary import FOOTPRINT_COLUMNS, _check_results, describe_protocol, summarize_results

__all__ = ["read_results", "render_report", "write_report"]


def read_results(path):
    """Read results written by :func:`eegbin.evaluation.run` (or MOABB).

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file with at least the columns ``score``, ``subject`` and
        ``pipeline`` (MOABB's results), or the output directory of
        ``eegbin evaluate --out DIR`` (its ``scores.csv`` is read). When the
        scores have no footprint column and a ``summary.csv`` with per-pipeline
        footprint columns (``memory_kB``, ``float_bits``, ``macs``, ``word_ops``)
        sits beside them, those columns are joined on ``pipeline``.

    Returns
    -------
    results : pandas.DataFrame

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty or lacks a required column.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from eegbin.evaluation import read_results
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
    >>> pd.DataFrame({"score": [0.7], "subject": [1], "pipeline": ["CSP+LDA"]}).to_csv(path)
    >>> read_results(path)[["pipeline", "score"]]
      pipeline  score
    0  CSP+LDA    0.7
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, SCORES_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"results file {path!r} does not exist")
    df = _read_csv(path)
    _check_results(df, f"results file {path!r}")
    summary_path = os.path.join(os.path.dirname(os.path.abspath(path)), SUMMARY_FILE)
    has_footprint = any(c in df.columns for c in FOOTPRINT_COLUMNS)
    if not has_footprint and os.path.abspath(path) != summary_path and os.path.isfile(summary_path):
        summary = _read_csv(summary_path)
        extra = [c for c in FOOTPRINT_COLUMNS if c in summary.columns]
        if "pipeline" in summary.columns and extra:
            df = df.merge(summary[["pipeline", *extra]], on="pipeline", how="left")
    return df


def _read_csv(path):
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"results file {path!r} is empty") from None


def _png_base64(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _percent(v):
    return "" if pd.isna(v) else f"{100 * v:.1f}"


def _summary_html(summary):
    """The summary as an HTML table: accuracy in %, mean ± std, footprint (unknown shown as such)."""
    subjects = [c for c in summary.columns if c.startswith("S") and c[1:].isdigit()]
    table = pd.DataFrame(index=summary.index)
    for c in subjects:
        table[c] = summary[c].map(_percent)
    table["mean ± std"] = [f"{100 * m:.1f} ± {100 * s:.1f}" for m, s in zip(summary["mean"], summary["std"])]
    formats = {"memory_kB": ("memory [kB]", "{:,.2f}"), "float_bits": ("float bits", "{:d}"),
               "macs": ("MACs/inf.", "{:,d}"), "word_ops": ("word ops", "{:,d}")}
    for column, (title, fmt) in formats.items():
        if column in summary.columns:
            table[title] = [
                "unknown" if pd.isna(v) else fmt.format(int(v) if fmt.endswith("d}") else float(v))
                for v in summary[column]
            ]
    return table.to_html(classes="summary", border=0, index_names=False)


def _details_html(results):
    columns = [c for c in ("subject", "pipeline", "train_session", "session", "score", "time", "samples",
                           "samples_test") if c in results.columns]
    detail = results[columns].sort_values([c for c in ("pipeline", "subject", "session") if c in columns])
    detail = detail.rename(columns={"score": "accuracy [%]", "time": "fit time [s]",
                                    "session": "tested on", "train_session": "trained on"})
    formatters = {"accuracy [%]": _percent, "fit time [s]": lambda v: "" if pd.isna(v) else f"{v:.2f}"}
    return detail.to_html(classes="results", border=0, index=False, formatters=formatters)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.45em; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; }
tbody th { text-align: left; }
img { max-width: 100%; }
.meta { color: #555; font-size: 0.9em; }
"""


def _section(results, dataset, chance):
    summary = summarize_results(results)
    protocol = describe_protocol(results)
    n_subjects = results["subject"].nunique()
    fig_memory = plot_accuracy_vs_memory(summary, title=f"{dataset}: {protocol}", chance=chance)
    fig_subjects = plot_per_subject(summary, title=f"{dataset}: {protocol}")
    return [
        f"<h2>{html.escape(str(dataset))}</h2>",
        f'<p class="meta"><b>Protocol</b>: {html.escape(protocol)}. Accuracy in %; mean ± std over '
        f"{n_subjects} subject(s) (population std); memory with real-valued parameters at the width in "
        "“float bits”, binary ones at 1 bit.</p>",
        f'<div class="wide">{_summary_html(summary)}</div>',
        "<h3>Accuracy versus memory</h3>",
        f'<img alt="accuracy versus memory" src="data:image/png;base64,{_png_base64(fig_memory)}">',
        "<h3>Per subject</h3>",
        f'<img alt="accuracy per subject" src="data:image/png;base64,{_png_base64(fig_subjects)}">',
        "<h3>All results</h3>",
        f'<div class="wide">{_details_html(results)}</div>',
    ]


def render_report(results, title="eegbin results"):
    """The HTML text of the report of ``results``.

    Parameters
    ----------
    results : pandas.DataFrame
        MOABB-shaped results (see :func:`read_results`); one section per dataset.
    title : str, default="eegbin results"
        Page title and heading.

    Returns
    -------
    html : str
        A complete, self-contained HTML document (images embedded as base64 PNG).

    Examples
    --------
    >>> import pandas as pd
    >>> from eegbin.evaluation import render_report
    >>> df = pd.DataFrame({"pipeline": ["a", "a", "b", "b"], "subject": [1, 2, 1, 2],
    ...                    "score": [0.8, 0.6, 0.5, 0.7], "memory_kB": [1.0, 1.0, 2.0, 2.0]})
    >>> page = render_report(df, title="demo")
    >>> page.startswith("<!DOCTYPE html>"), page.count('src="data:image/png;base64,')
    (True, 2)
    """
    _check_results(results, "results")
    if "dataset" not in results.columns:
        results = results.assign(dataset="dataset")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = []
    for dataset, part in results.groupby("dataset", sort=False):
        n_classes = part["n_classes"].max() if "n_classes" in part.columns else None
        chance = 1 / n_classes if n_classes and n_classes > 0 and not pd.isna(n_classes) else None
        body += _section(part, dataset, chance)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f'<p class="meta">{len(results)} results, {results["pipeline"].nunique()} pipelines, '
            f'{results["subject"].nunique()} subjects; generated {stamp} by eegbin.</p>',
            *body,
            "</body></html>",
        ]
    )


def write_report(results_csv, out=None, title=None):
    """Read ``results_csv`` and write its HTML report.

    Parameters
    ----------
    results_csv : str or os.PathLike
        Results CSV or ``eegbin evaluate --out`` directory (see :func:`read_results`).
    out : str or os.PathLike, optional
        Output HTML path; default: ``results_csv`` with the suffix ``.html``
        (``DIR/report.html`` for a directory).
    title : str, optional
        Page title; default: "eegbin results: <name of the file or directory>".

    Returns
    -------
    out : str
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from eegbin.evaluation import write_report
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"pipeline": ["a", "b"], "subject": [1, 1], "score": [0.8, 0.5]}).to_csv(
    ...     os.path.join(folder, "scores.csv"), index=False)
    >>> os.path.basename(write_report(folder + os.sep))
    'report.html'
    """
    results = read_results(results_csv)
    base = os.path.abspath(os.fspath(results_csv))  # no trailing separator
    if out is None:
        out = os.path.join(base, "report.html") if os.path.isdir(base) else os.path.splitext(base)[0] + ".html"
    if title is None:
        title = f"eegbin results: {os.path.basename(base)}"
    text = render_report(results, title=title)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return os.fspath(out)
