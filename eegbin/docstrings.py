"""Shared numpydoc fragments of eegbin's docstrings, filled in at import time.

Public within the package (every subpackage but ``kernels`` may import it; it
imports nothing of eegbin), not part of the user API. The scikit-learn methods
of eegbin's estimators say the same things about the same arguments (``y`` is
ignored by an unsupervised ``fit``, ``fit`` returns the estimator, ``predict``
returns one class label per sample): those entries are written once here, in
:data:`docdict`, and a docstring names them with ``%(name)s`` placeholders that
:func:`fill_doc` replaces, as :func:`mne.utils.fill_doc` and
:mod:`scipy._lib.doccer` do. The rendered docstrings (``help()``, Sphinx) are
complete numpydoc.

A fragment is written at zero indentation; :func:`fill_doc` indents its second
and later lines like the line that holds the placeholder, so a placeholder
stands alone on its line, where the fragment's first line would stand.

Examples
--------
>>> from eegbin.docstrings import fill_doc
>>> @fill_doc
... def fit(X, y=None):
...     '''Fit.
...
...     Parameters
...     ----------
...     X : ndarray
...     %(y_ignored)s
...     '''
>>> print(fit.__doc__.splitlines()[6])
        Ignored; present for scikit-learn API consistency.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["docdict", "fill_doc"]

#: Fragment name -> numpydoc text (zero indentation), used as ``%(name)s``.
docdict: dict[str, str] = {}

docdict["y_ignored"] = """\
y : None
    Ignored; present for scikit-learn API consistency."""

docdict["y_labels"] = """\
y : array-like of shape (n_samples,)
    Class labels, one per row of ``X``."""

docdict["y_trials"] = """\
y : array-like of shape (n_trials,)
    Class labels, one per trial."""

docdict["returns_self"] = """\
Returns
-------
self : object
    The fitted estimator."""

docdict["params_X"] = """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Samples, with the ``n_features_in_`` features seen by ``fit``."""

docdict["returns_y_pred"] = """\
Returns
-------
y_pred : ndarray of shape (n_samples,)
    One class label of ``classes_`` per sample."""

docdict["returns_scores"] = """\
Returns
-------
scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
    One column per class; for two classes one value per sample, positive
    for ``classes_[1]``."""

docdict["pq_call"] = """\
Parameters
----------
pq : ProductQuantizer
    A learned product quantizer (see
    :func:`~eegbin.quantize.pq_learning.learn_product_quantizer`).
X : ndarray of shape (n_samples, n_features)
    Rows of ``pq.n_features`` values.
n_threads : int, default=1
    Threads over blocks of rows (1: serial).
check_input : bool, default=True
    False skips the checks of ``X`` (finite, 2-D, ``n_features`` columns,
    C-contiguous float64): for callers that validated it."""

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _fill(doc, where):
    """``doc`` with every ``%(name)s`` replaced by ``docdict[name]``, indented like its line."""

    def indented(match):
        name = match.group(1)
        if name not in docdict:
            raise KeyError(
                f"fill_doc: the docstring of {where} names the fragment %({name})s, which "
                f"eegbin.docstrings.docdict does not define; defined: {', '.join(sorted(docdict))}"
            )
        line_start = doc.rfind("\n", 0, match.start()) + 1
        indent = doc[line_start:match.start()]
        if indent.strip():  # text before the placeholder: indent like the line's own indentation
            indent = indent[: len(indent) - len(indent.lstrip())]
        return docdict[name].replace("\n", "\n" + indent)

    return _PLACEHOLDER.sub(indented, doc)


def fill_doc(obj):
    """Fill the ``%(name)s`` placeholders of a docstring with :data:`docdict` fragments.

    Parameters
    ----------
    obj : function or class
        A function, or a class: then its own docstring and those of the
        functions defined in its body (not inherited ones).

    Returns
    -------
    obj
        The same object, its docstring(s) filled in place.

    Raises
    ------
    KeyError
        A placeholder names a fragment :data:`docdict` does not define; the
        message names it and where it stands.

    Examples
    --------
    >>> import inspect
    >>> from eegbin.docstrings import fill_doc
    >>> @fill_doc
    ... class Center:
    ...     def fit(self, X, y=None):
    ...         '''Learn the mean.
    ...
    ...         %(returns_self)s
    ...         '''
    >>> print(inspect.cleandoc(Center.fit.__doc__))
    Learn the mean.
    <BLANKLINE>
    Returns
    -------
    self : object
        The fitted estimator.
    """
    if inspect.isclass(obj):
        if obj.__doc__:
            obj.__doc__ = _fill(obj.__doc__, obj.__qualname__)
        for name, member in vars(obj).items():
            if inspect.isfunction(member) and member.__doc__:
                member.__doc__ = _fill(member.__doc__, f"{obj.__qualname__}.{name}")
    elif obj.__doc__:  # None under python -OO: nothing to fill
        obj.__doc__ = _fill(obj.__doc__, getattr(obj, "__qualname__", repr(obj)))
    return obj
