"""The one summary of evaluation results: accuracy per subject, over subjects, and footprint.

``eegbin evaluate`` (its table and ``summary.csv``), ``eegbin report`` (its tables and
plots) and the documentation's result tables all read results through
:func:`summarize_results`, so every number shown of a pipeline comes from one place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..kernels.checks import check_real_array

__all__ = ["summarize_results", "describe_protocol", "format_table", "pareto_front", "FOOTPRINT_COLUMNS"]

#: Per-pipeline footprint columns of a summary, in order (``float_bits``: the bit width
#: real-valued parameters are counted at in ``memory_kB``).
FOOTPRINT_COLUMNS = ("memory_kB", "float_bits", "macs", "word_ops")
_REQUIRED = ("score", "subject", "pipeline")


def _check_results(results, what="results"):
    """Raise unless ``results`` is a MOABB-shaped results table (``score``, ``subject``, ``pipeline``)."""
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas.DataFrame, got {type(results).__name__}")
    missing = [c for c in _REQUIRED if c not in results.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {missing}; expected MOABB results with columns "
            f"{list(_REQUIRED)} (got {list(results.columns)})"
        )
    if len(results) == 0:
        raise ValueError(f"{what} has no rows")
    if not pd.api.types.is_numeric_dtype(results["score"]):
        raise ValueError(f"{what}: column 'score' must be numeric, got dtype {results['score'].dtype}")


def summarize_results(results, footprints=None):
    """One row per pipeline: accuracy of each subject, mean and std over subjects, footprint.

    Parameters
    ----------
    results : pandas.DataFrame
        MOABB-shaped results of one dataset: one row per (pipeline, subject,
        session) with at least ``score``, ``subject`` and ``pipeline``. A subject's
        accuracy is the mean of its rows: for ``eegbin evaluate``'s cross-session
        results that is the one model trained on ``0train`` and tested on ``1test``;
        for MOABB's own ``CrossSessionEvaluation`` the mean of both directions (see
        :func:`describe_protocol`).
    footprints : pandas.DataFrame, optional
        Footprint per pipeline (index: pipeline; any of the columns
        ``memory_kB``, ``float_bits``, ``macs``, ``word_ops``). Default: those
        columns of ``results`` (their first value per pipeline), if any.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by pipeline in the order the pipelines first appear in ``results``:
        ``S<subject>`` per subject, ``mean`` and ``std`` (population standard
        deviation, ``ddof=0``) over subjects, then the footprint columns found.
        Accuracies are fractions; a footprint that is not known is missing (NA).

    Examples
    --------
    >>> import pandas as pd
    >>> from eegbin.evaluation import summarize_results
    >>> df = pd.DataFrame({"pipeline": ["a", "a", "b", "b"], "subject": [1, 2, 1, 2],
    ...                    "score": [0.8, 0.6, 0.5, 0.7], "memory_kB": [1.0, 1.0, 2.0, 2.0]})
    >>> summarize_results(df)  # doctest: +NORMALIZE_WHITESPACE
               S1   S2  mean  std  memory_kB
    pipeline
    a         0.8  0.6   0.7  0.1        1.0
    b         0.5  0.7   0.6  0.1        2.0
    """
    _check_results(results)
    if "dataset" in results.columns and results["dataset"].nunique() > 1:
        raise ValueError(
            f"results hold {results['dataset'].nunique()} datasets "
            f"({', '.join(map(str, results['dataset'].unique()))}); summarize one at a time, "
            "e.g. results[results.dataset == CODE]"
        )
    order = list(pd.unique(results["pipeline"]))
    per_subject = results.groupby(["pipeline", "subject"], sort=True)["score"].mean().unstack("subject")
    per_subject.columns = [f"S{c}" for c in per_subject.columns]
    summary = per_subject.loc[order].copy()
    summary.index.name = "pipeline"
    summary["mean"] = per_subject.loc[order].mean(axis=1)
    summary["std"] = per_subject.loc[order].std(axis=1, ddof=0)
    if footprints is None:
        present = [c for c in FOOTPRINT_COLUMNS if c in results.columns]
        footprints = results.groupby("pipeline", sort=False)[present].first() if present else None
    if footprints is not None:
        for column in FOOTPRINT_COLUMNS:
            if column in footprints.columns:
                values = footprints[column].reindex(summary.index)
                summary[column] = values.astype("Int64") if column != "memory_kB" else values.astype(float)
    return summary


def describe_protocol(results):
    """Which session(s) the models of ``results`` were trained and tested on, in words.

    Parameters
    ----------
    results : pandas.DataFrame
        Results of :func:`eegbin.evaluation.run` (with its ``evaluation`` and
        ``train_session`` columns) or plain MOABB results.

    Returns
    -------
    str
        ``"<evaluation>: trained on <sessions>, tested on <sessions>"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from eegbin.evaluation import describe_protocol
    >>> describe_protocol(pd.DataFrame({"evaluation": ["cross-session"], "train_session": ["0train"],
    ...                                 "session": ["1test"], "score": [0.7]}))
    'cross-session: trained on 0train, tested on 1test'
    """
    if "evaluation" in results.columns and "train_session" in results.columns:
        kinds = []
        for evaluation, part in results.groupby("evaluation", sort=False):
            if evaluation == "within-session":
                kinds.append("within-session: 5-fold cross-validation inside each session, averaged over sessions")
                continue
            pairs = part[["train_session", "session"]].drop_duplicates()
            directions = "; ".join(
                f"trained on {train}, tested on {', '.join(map(str, group['session']))}"
                for train, group in pairs.groupby("train_session", sort=True)
            )
            kinds.append(f"{evaluation}: {directions}")
        return "; ".join(kinds)
    sessions = ", ".join(map(str, sorted(results["session"].unique()))) if "session" in results else "?"
    return (
        f"per subject, the mean over the result rows (sessions {sessions}); the results do not say "
        "which session each model was trained on (MOABB's CrossSessionEvaluation: both directions)"
    )


def _cell(value, fmt):
    return "unknown" if value is None or pd.isna(value) else format(value, fmt)


def format_table(summary):
    """Plain-text table of a summary: accuracy per subject and mean ± std in %, footprint.

    Parameters
    ----------
    summary : pandas.DataFrame
        A :func:`summarize_results` table.

    Returns
    -------
    str
    """
    subjects = [c for c in summary.columns if c.startswith("S") and c[1:].isdigit()]
    name_w = max(len("pipeline"), *(len(str(n)) for n in summary.index))
    head = f"{'pipeline':<{name_w}}  " + "".join(f"{c:>6}" for c in subjects) + f"  {'mean ± std':>12}"
    extra = [(c, w, fmt) for c, w, fmt in (("memory_kB", 10, ".2f"), ("float_bits", 5, "d"),
                                           ("macs", 12, ",d"), ("word_ops", 9, ",d"))
             if c in summary.columns]
    titles = {"memory_kB": "memory kB", "float_bits": "bits", "macs": "MACs/inf.", "word_ops": "word ops"}
    head += "".join(f"  {titles[c]:>{w}}" for c, w, _ in extra)
    lines = [head, "-" * len(head)]
    for name, row in summary.iterrows():
        line = f"{name:<{name_w}}  " + "".join(f"{100 * row[c]:6.1f}" for c in subjects)
        line += f"  {100 * row['mean']:5.1f} ± {100 * row['std']:4.1f}"
        line += "".join(f"  {_cell(row[c], fmt):>{w}}" for c, w, fmt in extra)
        lines.append(line)
    return "\n".join(lines)


def pareto_front(memory, accuracy):
    """Indices of Pareto-optimal points (no other point is smaller and more accurate).

    Parameters
    ----------
    memory, accuracy : array-like of shape (n,)
        Finite numbers (a point whose memory is unknown cannot be placed: leave it out).

    Returns
    -------
    ndarray of int
        Indices sorted by increasing memory.

    Raises
    ------
    ValueError
        If the arrays are not 1-D of equal length or hold NaN or infinity.

    Examples
    --------
    >>> from eegbin.evaluation import pareto_front
    >>> pareto_front([1.0, 2.0, 3.0, 0.5], [0.6, 0.5, 0.8, 0.4]).tolist()
    [3, 0, 2]
    """
    arrays = []
    for name, values in (("memory", memory), ("accuracy", accuracy)):
        values = check_real_array(values, name, ndim=1, finite=False).astype(float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(
                f"{name} must be finite, got {values[bad[0]]} at index {bad[0]} "
                "(leave out points whose memory or accuracy is unknown)"
            )
        arrays.append(values)
    memory, accuracy = arrays
    if memory.shape != accuracy.shape:
        raise ValueError(f"memory and accuracy must have the same length, got {memory.size} and {accuracy.size}")
    order = np.lexsort((-accuracy, memory))
    front, best = [], -np.inf
    for i in order:
        if accuracy[i] > best:
            front.append(int(i))
            best = accuracy[i]
    return np.array(front, dtype=int)
