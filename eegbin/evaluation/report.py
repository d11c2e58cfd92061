"""Self-contained HTML report of saved MOABB results (``eegbin report RESULTS.csv``).

The page holds a summary table per pipeline (mean and standard deviation of the
score over subjects and sessions, footprint columns), the per-subject table, an
accuracy-versus-footprint plot and a per-subject plot. Plots are PNGs embedded as
base64 ``data:`` URIs, so the single file can be mailed or attached to an issue.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import datetime, timezone

import numpy as np
import pandas as pd

__all__ = ["read_results", "summarize_results", "render_report", "write_report"]

#: Columns every results file must have (MOABB's ``score``, ``subject``, ``pipeline``).
REQUIRED_COLUMNS = ("score", "subject", "pipeline")
#: Footprint column names recognised for the x axis, in order of preference.
MEMORY_COLUMNS = ("memory_kB", "kB", "footprint_kB", "memory_kb", "n_bytes")
_FOOTPRINT_HINTS = ("kB", "kb", "params", "macs", "bit_ops", "word_ops", "bits", "bytes")


#: File names written by ``eegbin evaluate --out DIR`` (:func:`eegbin.evaluation.run`).
SCORES_FILE, SUMMARY_FILE = "scores.csv", "summary.csv"


def read_results(path):
    """Read results written by :func:`eegbin.evaluation.run` (or MOABB).

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file with at least the columns ``score``, ``subject`` and
        ``pipeline`` (MOABB's results), or the output directory of
        ``eegbin evaluate --out DIR`` (its ``scores.csv`` is read). When the
        scores have no footprint column and a ``summary.csv`` with per-pipeline
        footprint columns (``memory_kB``, ``macs``, ``word_ops``) sits beside
        them, those columns are joined on ``pipeline``.

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
    if not _footprint_columns(df) and os.path.abspath(path) != summary_path and os.path.isfile(summary_path):
        summary = _read_csv(summary_path)
        extra = [c for c in _footprint_columns(summary) if c not in df.columns]
        if "pipeline" in summary.columns and extra:
            df = df.merge(summary[["pipeline", *extra]], on="pipeline", how="left")
    return df


def _read_csv(path):
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"results file {path!r} is empty") from None


def _check_results(df, what):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"results must be a pandas.DataFrame, got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {missing}; expected MOABB results with columns "
            f"{list(REQUIRED_COLUMNS)} (got {list(df.columns)})"
        )
    if len(df) == 0:
        raise ValueError(f"{what} has no rows")
    if not pd.api.types.is_numeric_dtype(df["score"]):
        raise ValueError(f"{what}: column 'score' must be numeric, got dtype {df['score'].dtype}")


def _footprint_columns(df):
    return [
        c
        for c in df.columns
        if c not in REQUIRED_COLUMNS
        and any(h in c for h in _FOOTPRINT_HINTS)
        and pd.api.types.is_numeric_dtype(df[c])
    ]


def _memory_column(df):
    for c in MEMORY_COLUMNS:
        if c in df.columns and pd.api.types.is_numeric_dtype(df[c]):
            return c
    return None


def summarize_results(results):
    """One row per (dataset, pipeline): score statistics and footprint.

    Parameters
    ----------
    results : pandas.DataFrame
        MOABB results, one row per (subject, session, pipeline).

    Returns
    -------
    summary : pandas.DataFrame
        Columns ``dataset`` (if present), ``pipeline``, ``score_mean``,
        ``score_std``, ``n_subjects``, then the footprint columns (their first
        value: a pipeline's footprint does not depend on the subject), sorted by
        decreasing mean score.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"pipeline": ["a", "a", "b", "b"], "subject": [1, 2, 1, 2],
    ...                    "score": [0.8, 0.6, 0.5, 0.7], "memory_kB": [1.0, 1.0, 2.0, 2.0]})
    >>> from eegbin.evaluation import summarize_results
    >>> summarize_results(df)[["pipeline", "score_mean", "memory_kB"]]
      pipeline  score_mean  memory_kB
    0        a         0.7        1.0
    1        b         0.6        2.0
    """
    _check_results(results, "results")
    keys = [c for c in ("dataset", "pipeline") if c in results.columns]
    grouped = results.groupby(keys, sort=False)
    summary = grouped["score"].agg(score_mean="mean", score_std="std").reset_index()
    summary["n_subjects"] = grouped["subject"].nunique().to_numpy()
    for c in _footprint_columns(results):
        summary[c] = grouped[c].first().to_numpy()
    summary = summary.sort_values("score_mean", ascending=False, kind="stable")
    return summary.reset_index(drop=True)


def _normalize_summary(summary):
    """``summary.csv`` of ``eegbin evaluate`` -> the columns the plots use."""
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"summary must be a pandas.DataFrame, got {type(summary).__name__}")
    summary = summary.rename(columns={"mean": "score_mean", "std": "score_std"})
    missing = [c for c in ("pipeline", "score_mean", "score_std") if c not in summary.columns]
    if missing:
        raise ValueError(
            f"summary lacks column(s) {missing}; expected the summary.csv of eegbin evaluate "
            f"(pipeline, mean, std, ...), got {list(summary.columns)}"
        )
    return summary.reset_index(drop=True)


def _png_base64(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width=6.4, height=4.2):
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height))


def _plot_accuracy_vs_footprint(summary, memory_col):
    fig = _figure()
    ax = fig.add_subplot()
    x = summary[memory_col].to_numpy(float) if memory_col else np.arange(len(summary), dtype=float)
    ax.errorbar(x, summary["score_mean"], yerr=summary["score_std"].fillna(0.0), fmt="o", capsize=3)
    for xi, yi, name in zip(x, summary["score_mean"], summary["pipeline"]):
        ax.annotate(str(name), (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    if memory_col:
        if np.all(x > 0) and x.max() / x.min() > 20:
            ax.set_xscale("log")
        ax.set_xlabel(f"model footprint ({memory_col})")
    else:
        ax.set_xlabel("pipeline (no footprint column in the results)")
    ax.set_ylabel("score (mean ± std over subjects)")
    ax.set_title("Accuracy versus footprint")
    ax.grid(True, alpha=0.3)
    return fig


def _plot_per_subject(results):
    fig = _figure(width=7.0)
    ax = fig.add_subplot()
    per = results.groupby(["pipeline", "subject"], sort=True)["score"].mean().unstack("pipeline")
    subjects = [str(s) for s in per.index]
    width = 0.8 / max(per.shape[1], 1)
    for k, name in enumerate(per.columns):
        ax.bar(np.arange(len(subjects)) + k * width, per[name].to_numpy(), width, label=str(name))
    ax.set_xticks(np.arange(len(subjects)) + 0.4 - width / 2, subjects)
    ax.set_xlabel("subject")
    ax.set_ylabel("score (mean over sessions)")
    ax.set_title("Score per subject")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
img { max-width: 100%; }
.meta { color: #666; font-size: 0.85em; }
"""


def render_report(results, title="eegbin results", summary=None):
    """The HTML text of the report of ``results``.

    Parameters
    ----------
    results : pandas.DataFrame
        MOABB results (see :func:`read_results`).
    title : str, default="eegbin results"
        Page title and heading.
    summary : pandas.DataFrame, optional
        Per-pipeline summary to show and plot instead of
        :func:`summarize_results` of ``results``: the ``summary.csv`` of
        ``eegbin evaluate`` (columns ``pipeline``, ``S1``..., ``mean``, ``std``,
        footprint columns), whose means follow the evaluation's protocol (for
        cross-session: trained on ``0train``, tested on ``1test``).

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
    from_evaluate = summary is not None
    if summary is None:
        summary = summarize_results(results)
        note = "mean and std of the score over all rows of each pipeline"
    else:
        summary = _normalize_summary(summary)
        note = "as written by eegbin evaluate (summary.csv)"
    memory_col = _memory_column(results)
    if from_evaluate and "memory_kB" in summary.columns:  # the figure evaluate writes
        from .run import _plot

        buf = io.BytesIO()
        evaluate_summary = summary.rename(columns={"score_mean": "mean", "score_std": "std"})
        _plot(evaluate_summary.set_index("pipeline"), buf, title)
        png_fp = base64.b64encode(buf.getvalue()).decode("ascii")
    else:
        png_fp = _png_base64(_plot_accuracy_vs_footprint(summary, memory_col))
    fig_subj = _plot_per_subject(results)
    detail_cols = [
        c
        for c in ("dataset", "subject", "session", "pipeline", "score", "time", "samples")
        if c in results.columns
    ]
    detail = results[detail_cols].sort_values([c for c in ("dataset", "pipeline", "subject") if c in detail_cols])
    fmt = {"float_format": lambda v: f"{v:.4g}", "index": False, "border": 0}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    datasets = ", ".join(map(str, results["dataset"].unique())) if "dataset" in results else "?"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f'<p class="meta">{len(results)} results, {results["pipeline"].nunique()} pipelines, '
            f'{results["subject"].nunique()} subjects, datasets: {html.escape(datasets)}; '
            f"generated {stamp} by eegbin.</p>",
            "<h2>Summary</h2>",
            f'<p class="meta">{html.escape(note)}</p>',
            summary.to_html(classes="summary", **fmt),
            "<h2>Accuracy versus footprint</h2>",
            f'<img alt="accuracy versus footprint" src="data:image/png;base64,{png_fp}">',
            "<h2>Per subject</h2>",
            f'<img alt="score per subject" src="data:image/png;base64,{_png_base64(fig_subj)}">',
            "<h2>All results</h2>",
            detail.to_html(classes="results", **fmt),
            "</body></html>",
        ]
    )


def write_report(results_csv, out=None, title=None):
    """Read ``results_csv`` (and the ``summary.csv`` beside it, if any) and write its HTML report.

    Parameters
    ----------
    results_csv : str or os.PathLike
        Results CSV or ``eegbin evaluate --out`` directory (see :func:`read_results`).
    out : str or os.PathLike, optional
        Output HTML path; default: ``results_csv`` with the suffix ``.html``
        (``DIR/report.html`` for a directory).
    title : str, optional
        Page title; default: "eegbin results: <file name>".

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
    >>> os.path.basename(write_report(folder))
    'report.html'
    """
    results = read_results(results_csv)
    base = os.fspath(results_csv)
    folder = base if os.path.isdir(base) else os.path.dirname(os.path.abspath(base))
    summary_path = os.path.join(folder, SUMMARY_FILE)
    summary = None
    if os.path.isfile(summary_path) and os.path.abspath(base) != summary_path:
        summary = _read_csv(summary_path)
    if out is None:
        base = os.fspath(results_csv)
        out = os.path.join(base, "report.html") if os.path.isdir(base) else os.path.splitext(base)[0] + ".html"
    if title is None:
        title = f"eegbin results: {os.path.basename(os.fspath(results_csv))}"
    text = render_report(results, title=title, summary=summary)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return os.fspath(out)
