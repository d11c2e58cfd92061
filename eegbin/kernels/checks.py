"""Input checks for every layer of eegbin: one module, one error type per kind of mistake.

Plain numpy (kernels import nothing of eegbin, DESIGN.md), public within the
package: ``features``, ``binary``, ``quantize``, ``nn``, ``datasets`` and
``evaluation`` import their checks from here.

The rule, for every public function and estimator:

``TypeError``
    The argument has the wrong *type*: not an array where an array is expected, a
    non-integer where an integer is expected (``True`` is not an integer, nor is
    ``2.0``), or an array of the wrong *kind* — strings (numeric strings are not
    parsed), objects that are not numbers, ``bool`` where real numbers are
    expected, anything but ``uint64`` where packed words are expected.
``ValueError``
    The type is right, the value is not: out of range, NaN or Inf, the wrong
    number of dimensions, empty, a shape that does not match the fitted model,
    complex values (scikit-learn's rule, "Complex data not supported"), or a
    size that cannot fit in this machine's memory.

Every message names the argument, what it got and what was expected.
Estimators validate ``X`` with scikit-learn's ``validate_data`` after
:func:`refuse_strings`, so that the 2-D and the 3-D (EEG epochs,
:func:`check_epochs`) estimators apply the same rule to strings.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

__all__ = [
    "WORD",
    "all_finite",
    "check_allocation",
    "check_epochs",
    "check_int",
    "check_n_bits",
    "check_n_jobs",
    "check_n_levels",
    "check_packed",
    "check_padding",
    "check_real",
    "check_real_array",
    "check_real_dtype",
    "check_seed",
    "physical_memory",
    "refuse_strings",
]

#: bits per packed word (uint64), least significant bit first (DESIGN.md)
WORD = 64

#: largest seed of a rematerialized projection (a 32-bit unsigned integer)
MAX_SEED = 2**32 - 1


# ---------------------------------------------------------------------------
# scalars
# ---------------------------------------------------------------------------


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(value, name, low=None, high=None):
    """``value`` as a Python int in ``[low, high]``.

    Raises ``TypeError`` if ``value`` is not an integer (``bool`` and ``2.0`` are
    not) and ``ValueError`` if it is out of range, both naming ``name``.

    Examples
    --------
    >>> check_int(3, "k", 1)
    3
    >>> check_int(0, "k", 1)
    Traceback (most recent call last):
    ...
    ValueError: k must be >= 1, got 0
    """
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            expected = f">= {low}"
        elif low is None:
            expected = f"<= {high}"
        else:
            expected = f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {expected}, got {value}")
    return value


def check_n_levels(value, name="n_levels", *, in_file=False):
    """A number of binarization levels as an ``int >= 1``, or a clear error naming ``name``.

    The one check of every level count of Algorithm 1 (multi-level binarization,
    the binarized LSTMs, the reader of exported models). A Python argument of the
    wrong type is a ``TypeError`` and a count below 1 a ``ValueError``; a value
    read from a file (``in_file=True``) is a ``ValueError`` either way: then the
    file is wrong, not the call.

    Examples
    --------
    >>> check_n_levels(2)
    2
    """
    if not _is_int(value):
        error = ValueError if in_file else TypeError
        raise error(f"{name} must be an integer >= 1, got {type(value).__name__} {value!r}")
    return check_int(value, name, 1)


def check_real(value, name, low=None, high=None, *, low_open=False, high_open=False):
    """``value`` as a finite Python float in the interval from ``low`` to ``high``.

    Raises ``TypeError`` if ``value`` is not a real number (``True`` is not) and
    ``ValueError`` if it is NaN, infinite or out of range; ``low_open`` /
    ``high_open`` exclude the bounds.

    Examples
    --------
    >>> check_real(0.5, "sparsity", 0, 1, high_open=True)
    0.5
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not np.isfinite(value) or below or above:
        lo = "(-inf" if low is None else f"{'(' if low_open else '['}{low:g}"
        hi = "inf)" if high is None else f"{high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a finite number in {lo}, {hi}, got {value!r}")
    return value


def check_seed(seed, name="seed"):
    """``seed`` as an int in ``[0, 2**32 - 1]`` (the 4 bytes a rematerialized projection stores)."""
    return check_int(seed, name, 0, MAX_SEED)


def check_n_jobs(n_jobs, name="n_jobs"):
    """``n_jobs`` as scikit-learn reads it: None, or a non-zero integer (-1: all cores).

    Returns None or an int; the thread count itself is
    :func:`eegbin.kernels.threads.n_threads`.
    """
    if n_jobs is None:
        return None
    if not _is_int(n_jobs):
        raise TypeError(f"{name} must be None or a non-zero integer, got {type(n_jobs).__name__} {n_jobs!r}")
    if n_jobs == 0:
        raise ValueError(f"{name} must be None or a non-zero integer (-1: all cores), got 0")
    return int(n_jobs)


# ---------------------------------------------------------------------------
# arrays
# ---------------------------------------------------------------------------


def all_finite(X):
    """True if every element of the numeric array ``X`` is finite.

    One pass over the data without a temporary: the sum of the array is finite
    only if every element is (NaN and Inf propagate through addition); only when
    the sum is not finite (a non-finite element, or an overflow of finite values)
    is the exact element-wise check run. About 2x faster than
    ``np.isfinite(X).all()`` on large inputs (the check is the cost of reading X).
    """
    X = np.asarray(X)
    if X.dtype.kind not in "fc":
        return True
    if X.size < 65536:  # small: the plain check is cheaper than errstate's bookkeeping
        return bool(np.isfinite(X).all())
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(X)):
            return True
    return bool(np.isfinite(X).all())


def _not_numbers(X):
    """What ``X`` holds that is not a number: "strings", the type name of another object, or None.

    For an array (or DataFrame) of strings or bytes, or of objects among which are
    some; ``None`` for numbers (object arrays of numbers included).
    """
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # a DataFrame: per-column dtypes
        for i, dt in enumerate(X.dtypes):
            if getattr(dt, "kind", "O") in "USO":
                found = _not_numbers(np.asarray(X.iloc[:, i], dtype=object))
                if found:
                    return found
        return None
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError):  # ragged: left to the caller's own validation
            return None
    if X.dtype.kind in "US":
        return "strings"
    if X.dtype.kind == "O":
        for v in X.ravel():
            if isinstance(v, (str, bytes)):
                return "strings"
            if not isinstance(v, (numbers.Number, np.number, np.bool_)):
                return f"objects that are not numbers ({type(v).__name__})"
    return None


def refuse_strings(X, name="X"):
    """Return ``X`` unchanged, or raise ``TypeError`` if it holds strings or other non-numbers.

    numpy and scikit-learn would parse numeric strings (``"1.5"``) as numbers when
    a float dtype is requested; eegbin refuses them everywhere, with the same
    message for 2-D features and 3-D epochs. Object arrays of numbers pass (as in
    scikit-learn); an object that is not a number (a dict, None) is refused here,
    naming ``name``, rather than by numpy's ``float()`` deep inside a conversion.
    ``X`` is not converted, so a DataFrame keeps its column names.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got a {type(X).__name__}")
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):  # sparse matrices hold numbers
        return X
    found = _not_numbers(X)
    if found == "strings":
        raise TypeError(
            f"{name} must hold numbers, got strings; numeric strings are not parsed: convert "
            f"{name} to a numeric dtype first"
        )
    if found:  # numpy's own words too: scikit-learn's check_dtype_object expects them
        raise TypeError(f"{name} must hold numbers, got {found}: float() argument must be a string "
                        "or a real number")
    return X


def check_real_dtype(x, name):
    """``x`` (an ndarray) unchanged if its dtype is integer or float, else the error of the rule.

    ``ValueError`` for complex values (scikit-learn's "Complex data not supported"),
    ``TypeError`` for any other dtype (bool, strings, objects), both naming ``name``.
    """
    if x.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} must hold real numbers, got dtype {x.dtype}")
    if x.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (integer or float), got dtype {x.dtype}")
    return x


def check_real_array(x, name, *, ndim=None, shape=None, allow_empty=True, finite=True, ndarray=False):
    """``x`` as an ndarray of integers or floats (not converted), checked.

    Parameters
    ----------
    x : array_like
    name : str
        Argument name used in the messages.
    ndim : int, tuple of int or None
        Allowed numbers of dimensions.
    shape : tuple of (int or None), optional
        The expected shape; None accepts any size on that axis.
    allow_empty : bool, default=True
    finite : bool, default=True
        Refuse NaN and Inf.
    ndarray : bool, default=False
        Refuse anything but a ``numpy.ndarray`` (``TypeError``), for the
        functions that take arrays only (no lists).

    Returns
    -------
    ndarray
        ``np.asarray(x)``: the same dtype, no copy.

    Examples
    --------
    >>> import numpy as np
    >>> check_real_array(np.array([1.0, np.nan]), "w")
    Traceback (most recent call last):
    ...
    ValueError: w must be finite, got NaN or Inf (first at index (1,))
    """
    if ndarray and not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    refuse_strings(x, name)
    x = check_real_dtype(np.asarray(x), name)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {x.shape} ({x.ndim}-D)")
    if shape is not None and (x.ndim != len(shape) or any(e is not None and e != n for e, n in zip(shape, x.shape))):
        dims = ["*" if e is None else str(e) for e in shape]
        expected = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
        raise ValueError(f"{name} must have shape {expected}, got {x.shape}")
    if not allow_empty and x.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    if finite and not all_finite(x):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise ValueError(f"{name} must be finite, got NaN or Inf (first at index {bad})")
    return x


def check_epochs(X, name="X", n_channels=None, n_times=None, estimator=None, min_times=1):
    """``X`` as an array of epochs (n_trials, n_channels, n_times), or a clear error.

    One place for the checks every epoch consumer needs (FilterBankRiemann,
    EEGNet, LSTMClassifier, the trainer, the evaluation filters): dense real
    numbers (strings refused, object arrays of numbers converted to float64),
    three dimensions as MOABB returns epochs, at least one trial and channel and
    ``min_times`` samples, no NaN/Inf (naming the first bad trial) and, when
    given, the channel count ``n_channels`` and the sample count ``n_times`` seen
    at fit time. ``estimator`` names the model in the mismatch messages. Returns
    the array (never a copy for a numeric ndarray, never a changed dtype).
    """
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            f"{name} must be a dense array of shape (n_trials, n_channels, n_times); sparse input "
            f"({type(X).__name__}) is not supported"
        )
    if isinstance(X, (str, bytes)) or not (isinstance(X, (np.ndarray, list, tuple)) or hasattr(X, "__array__")):
        raise TypeError(f"{name} must be an array of shape (n_trials, n_channels, n_times), got {type(X).__name__}")
    refuse_strings(X, name)
    X = np.asarray(X)
    if X.dtype.kind == "O":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold real numbers, got objects that are not numbers") from None
    check_real_dtype(X, name)
    if X.ndim != 3:
        raise ValueError(
            f"{name} must be 3-D (n_trials, n_channels, n_times) as MOABB returns epochs, "
            f"got a {X.ndim}-D array of shape {X.shape}"
        )
    if X.shape[0] < 1 or X.shape[1] < 1 or X.shape[2] < min_times:
        raise ValueError(
            f"{name} must have at least one trial, one channel and {min_times} sample(s) per trial, "
            f"got shape {X.shape}"
        )
    if not all_finite(X):
        bad = ~np.isfinite(X).all(axis=(1, 2))
        raise ValueError(f"{name} must be finite: trial {int(np.flatnonzero(bad)[0])} contains NaN or Inf")
    for what, got, expected in (("channels", X.shape[1], n_channels), ("samples per trial", X.shape[2], n_times)):
        if expected is not None and got != expected:
            raise ValueError(
                f"{name} has {got} {what}, but {estimator or 'the model'} is expecting "
                f"{expected} {what} as input (as in fit)"
            )
    return X


# ---------------------------------------------------------------------------
# packed bits (DESIGN.md: uint64 words, LSB first, zero padding)
# ---------------------------------------------------------------------------


def check_packed(words, name, ndim=2):
    """``words`` as a C-contiguous ndarray of uint64 with ``ndim`` dimensions."""
    if not isinstance(words, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(words).__name__}")
    if words.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {words.shape} ({words.ndim}-D)")
    if words.dtype != np.uint64:
        raise TypeError(f"{name} must be packed uint64 words, got dtype {words.dtype}")
    return np.ascontiguousarray(words)


def check_n_bits(n_bits, n_words, name="n_bits"):
    """``n_bits`` valid bits per row of ``n_words`` words: ``ceil(n_bits / 64) == n_words``."""
    if not _is_int(n_bits):
        raise TypeError(f"{name} must be an integer, got {type(n_bits).__name__}")
    n_bits = int(n_bits)
    if n_bits < 0 or n_bits > n_words * WORD:
        raise ValueError(
            f"{name}={n_bits} does not fit {n_words} words per row (at most {n_words * WORD} bits)"
        )
    if (n_bits + WORD - 1) // WORD != n_words:
        raise ValueError(
            f"{name}={n_bits} needs {(n_bits + WORD - 1) // WORD} words per row, but the rows have {n_words}"
        )
    return n_bits


def check_padding(words, n_bits, name):
    """Padding bits (beyond ``n_bits`` in the last word of every row) must be zero."""
    rem = n_bits % WORD
    if rem and words.size:
        mask = np.uint64(~((1 << rem) - 1) & 0xFFFFFFFFFFFFFFFF)
        bad = np.flatnonzero(words[..., -1].reshape(-1) & mask)
        if bad.size:
            raise ValueError(
                f"{name} has nonzero padding bits beyond n_bits={n_bits} (first in row "
                f"{bad[0]}); packed rows must be zero padded (use pack_bits)"
            )


# ---------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------


def physical_memory():
    """Bytes of physical memory of this machine (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_allocation(n_bytes, what, name):
    """Refuse, before any work, an array that cannot fit in this machine's memory.

    Raises ``ValueError`` naming the argument ``name`` that sets the size when
    ``n_bytes`` exceeds the physical memory (:func:`physical_memory`).
    """
    total = physical_memory()
    if total is not None and n_bytes > total:
        raise ValueError(
            f"{name}: {what} would take {n_bytes / 2**30:,.1f} GiB, more than the "
            f"{total / 2**30:,.1f} GiB of memory of this machine"
        )
    return int(n_bytes)
