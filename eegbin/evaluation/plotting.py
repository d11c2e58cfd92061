"""Plots of a summary (:func:`~eegbin.evaluation.summarize_results`): accuracy versus memory, per subject.

Both return a :class:`matplotlib.figure.Figure` built without pyplot (no global state,
no GUI backend), which ``eegbin evaluate`` saves as a PNG and ``eegbin report`` embeds.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .summary import pareto_front

__all__ = ["plot_accuracy_vs_memory", "plot_per_subject"]

_MARKERS = {32: ("o", "real parameters at 32 bits"), 16: ("s", "real parameters at 16 bits")}


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # a renderer, to measure the labels
    return fig


def _subject_columns(summary):
    return [c for c in summary.columns if c.startswith("S") and c[1:].isdigit()]


def _place_labels(ax, texts, points_px, gap=7.0, pad=2.0, max_steps=16):
    """Put each label right of its point where it covers no other label, marker or the legend.

    Candidates, nearest first: ``gap`` pixels right of the point, shifted down or up by
    multiples of a quarter label height; labels stay on one side and are placed from the
    top point down. A label that moved gets a leader line to its point.
    """
    from matplotlib.text import Text

    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    sizes = [(b.width, b.height) for b in (Text.get_window_extent(t, renderer) for t in texts)]
    marker = 5.0  # half a marker, in pixels
    legend = ax.get_legend()
    placed = [tuple(legend.get_window_extent(renderer).extents)] if legend is not None else []

    def free(x0, y0, x1, y1, own):
        if x0 < frame.x0 or x1 > frame.x1 or y0 < frame.y0 or y1 > frame.y1:
            return False
        if any(x0 < b[2] + pad and b[0] < x1 + pad and y0 < b[3] + pad and b[1] < y1 + pad for b in placed):
            return False
        return not any(k != own and x0 - marker < mx < x1 + marker and y0 - marker < my < y1 + marker
                       for k, (mx, my) in enumerate(points_px))

    to_points = 72.0 / ax.figure.dpi
    for i in sorted(range(len(texts)), key=lambda k: -points_px[k][1]):
        (px, py), (w, h) = points_px[i], sizes[i]
        shifts = [sign * step * h / 4 for step in range(4 * max_steps) for sign in (-1, 1)]  # nearest first
        dy = next((d for d in shifts if free(px + gap, py + d - h / 2, px + gap + w, py + d + h / 2, own=i)), 0.0)
        placed.append((px + gap, py + dy - h / 2, px + gap + w, py + dy + h / 2))
        texts[i].set_position((gap * to_points, dy * to_points))
        texts[i].arrow_patch.set_visible(abs(dy) > 3)  # a leader line when moved


def _two_lines(name, width=18):
    """A long pipeline name on two lines, cut before its last "(" or after its last "+"."""
    if len(name) <= width:
        return name
    cut = name.rfind("(")
    if cut <= 0:
        cut = name.rfind("+", 0, len(name) - 1) + 1
    return name if cut <= 0 else name[:cut] + "\n" + name[cut:]


def plot_accuracy_vs_memory(summary, title="", chance=None):
    """Mean accuracy against model memory, one labelled point per pipeline, with the Pareto front.

    Parameters
    ----------
    summary : pandas.DataFrame
        A :func:`~eegbin.evaluation.summarize_results` table with ``memory_kB``
        (pipelines whose memory is unknown are listed under the plot, not placed);
        ``float_bits``, if present, picks the marker (circles: real parameters
        counted at 32 bits; squares: at 16 bits; binary parameters count 1 bit).
    title : str, default=""
        Title; the protocol (which sessions trained and tested) belongs here.
    chance : float, optional
        Chance accuracy (a fraction), drawn as a dotted line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from eegbin.evaluation.plotting import plot_accuracy_vs_memory
    >>> s = pd.DataFrame({"mean": [0.6, 0.7], "std": [0.1, 0.1], "memory_kB": [1.0, 50.0],
    ...                   "float_bits": [32, 16]}, index=["a", "b"])
    >>> fig = plot_accuracy_vs_memory(s, title="demo", chance=0.25)
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['a', 'b']
    """
    fig = _figure(7.5, 5.0)
    ax = fig.add_subplot()
    memory = summary["memory_kB"].to_numpy(dtype=float) if "memory_kB" in summary else np.full(len(summary), np.nan)
    known = np.isfinite(memory) & (memory > 0)
    acc = 100 * summary["mean"].to_numpy(dtype=float)
    std = 100 * summary["std"].to_numpy(dtype=float)
    bits = summary["float_bits"].tolist() if "float_bits" in summary else [None] * len(summary)
    bits = np.array([0 if b is None or b != b or str(b) == "<NA>" else int(b) for b in bits])
    names = [str(n) for n in summary.index]
    ax.errorbar(memory[known], acc[known], yerr=std[known], fmt="none", ecolor="0.8", elinewidth=1,
                capsize=2, zorder=1, label="± std over subjects")
    for b in sorted(set(bits[known].tolist()), reverse=True):
        sel = known & (bits == b)
        marker, label = _MARKERS.get(b, ("D", f"real parameters at {b} bits" if b else "pipelines"))
        ax.scatter(memory[sel], acc[sel], marker=marker, s=36, color="tab:blue", zorder=3, label=label)
    if known.any():
        idx = np.flatnonzero(known)
        front = idx[pareto_front(memory[known], acc[known])]
        ax.plot(memory[front], acc[front], "-", color="tab:green", lw=1.5, zorder=2, label="Pareto front")
        ax.scatter(memory[front], acc[front], s=140, facecolors="none", edgecolors="tab:green", lw=1.5,
                   zorder=2)
    if chance is not None:
        ax.axhline(100 * chance, color="0.4", ls=":", lw=1, label=f"chance ({100 * chance:.0f} %)")
    ax.set_xscale("log")
    if known.any():
        lo, hi = memory[known].min(), memory[known].max()
        ax.set_xlim(lo / 2.5, hi * 6)  # room for the labels on the right
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("model memory [kB], log scale (binary parameters count 1 bit)")
    ax.set_ylabel("accuracy [%], mean over subjects")
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
    texts = [
        ax.annotate(_two_lines(name), (m, a), xytext=(7, 0), textcoords="offset points", va="center", ha="left",
                    fontsize=8, zorder=4, arrowprops=dict(arrowstyle="-", color="0.55", lw=0.6,
                                                          shrinkA=0, shrinkB=3))
        for name, m, a in zip(np.array(names)[known], memory[known], acc[known])
    ]
    unknown = [n for n, k in zip(names, known) if not k]
    if unknown:
        fig.text(0.01, 0.01, "memory unknown, not placed: " + ", ".join(unknown), fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.03 if unknown else 0, 1, 1))
    if texts:  # after the layout and the (lazy) autoscaling: labels are placed in display pixels
        fig.canvas.draw()
        points = ax.transData.transform(np.column_stack([memory[known], acc[known]]))
        _place_labels(ax, texts, points)
    return fig


def plot_per_subject(summary, title=""):
    """Accuracy of each pipeline for each subject: the ``S<subject>`` columns of a summary.

    Parameters
    ----------
    summary : pandas.DataFrame
        A :func:`~eegbin.evaluation.summarize_results` table (the same numbers as
        its table, so bars and table agree).
    title : str, default=""

    Returns
    -------
    matplotlib.figure.Figure
    """
    subjects = _subject_columns(summary)
    n_pipes = len(summary)
    fig = _figure(min(max(8.0, 0.12 * len(subjects) * n_pipes + 4.5), 16.0), 4.2)
    ax = fig.add_subplot()
    width = 0.8 / max(n_pipes, 1)
    x = np.arange(len(subjects))
    colors = [f"C{k % 10}" for k in range(n_pipes)]
    hatches = ["", "//", "..", "xx"]
    for k, (name, row) in enumerate(summary.iterrows()):
        ax.bar(x + (k - (n_pipes - 1) / 2) * width, 100 * row[subjects].to_numpy(dtype=float), width,
               label=str(name), color=colors[k], hatch=hatches[(k // 10) % len(hatches)], edgecolor="white",
               linewidth=0.3)
    ax.set_xticks(x, [c[1:] for c in subjects])
    ax.set_xlabel("subject")
    ax.set_ylabel("accuracy [%]")
    ax.set_ylim(0, 100)
    ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("\n".join(textwrap.wrap(title, 100)), fontsize=9)  # over the figure: the legend widens it
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    fig.tight_layout()
    return fig
