"""C export of float linear classification heads.

Any scikit-learn linear classifier (``LinearClassifierMixin``: ``LinearSVC``,
``LogisticRegression``, ``LinearDiscriminantAnalysis``, ``RidgeClassifier``, ...)
and :class:`~eegbin.ShrinkageLDA`: ``decision = W x + b`` with ``coef_`` and
``intercept_`` stored at the export's float width (exactly the parameters
``footprint()`` counts), summed in increasing feature order; ``predict`` is the
first argmax, or ``decision > 0`` for a two-class model with one decision value
(then ``scores = {0, decision}``).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model._base import LinearClassifierMixin

from ._core import register_exporter

__all__ = []


def _linear_state(clf):
    coef = np.atleast_2d(np.asarray(clf.coef_, dtype=np.float64))
    intercept = np.asarray(getattr(clf, "intercept_", 0.0), dtype=np.float64)
    intercept = np.broadcast_to(np.atleast_1d(intercept), (coef.shape[0],)).copy()
    return dict(coef=coef, intercept=intercept, classes=np.asarray(clf.classes_))


def linear_classifier_body(ctx, coef, intercept, n_classes, packed=None, bipolar=True):
    """Body of a linear classifier step: decision values, argmax, scores.

    ``packed``: the C expression of packed codes to read as +-1 (``bipolar``) or
    0/1 values instead of the real input ``in``.
    """
    n_out, n = coef.shape
    if n_out != (1 if n_classes == 2 else n_classes):
        raise ValueError(f"coef_ has {n_out} rows for {n_classes} classes")
    w = ctx.weights("coef", coef, note=f"{n_out} x {n} decision weights")
    b = ctx.weights("intercept", intercept, note="biases")
    dec = ctx.buffer("decision", "real", n_out)
    ctx.use("argmax")
    if packed is None:
        ctx.use("linear")
        x, body = ctx.input_as("real")
        body += f"    eb_linear({x}, {w}, {b}, {n_out}, {n}, {dec});\n"
    else:
        ctx.use("linear_packed")
        body = f"    eb_linear_packed({packed}, {int(bipolar)}, {w}, {b}, {n_out}, {n}, {dec});\n"
    if n_out == 1:
        body += f"    scores[0] = 0.0f;\n    scores[1] = (float){dec}[0];\n"
    else:
        body += (f"    {{\n        int32_t c;\n        for (c = 0; c < {n_out}; c++) {{\n"
                 f"            scores[c] = (float){dec}[c];\n        }}\n    }}\n")
    body += f"    return eb_argmax({dec}, {n_out});\n"
    return body


@register_exporter(LinearClassifierMixin)
def _export_linear(clf, port, ctx):
    s = _linear_state(clf)
    name = type(clf).__name__
    n_classes = len(s["classes"])
    if s["coef"].shape[1] != port.size:
        raise ValueError(f"{name} has {s['coef'].shape[1]} weights per class, but the previous step "
                         f"gives {port.describe()}")
    if port.kind == "packed":
        if port.values == "packed":
            raise ValueError(f"{name} was fitted on packed uint64 words, not on bits; give it the "
                             f"bits (output='bipolar' or 'binary' in the previous step)")
        body = linear_classifier_body(ctx, s["coef"], s["intercept"], n_classes, packed="in",
                                      bipolar=port.values == "bipolar")
    elif port.kind == "real":
        body = linear_classifier_body(ctx, s["coef"], s["intercept"], n_classes)
    else:
        raise ValueError(f"{name} reads feature vectors, but gets {port.describe()}")
    return ctx.classify(n_classes, body)
