"""The generic battery of the bad-input suite: how one argument is spoiled, and what must happen.

A registry entry (``registry.py``) says how to build a *valid call* of a public
callable: a function that returns fresh keyword arguments, and for each array
argument what it is (an :class:`Arg`: real numbers, epochs, packed words, bits,
labels...). The battery perturbs **one argument at a time** and checks one of
two outcomes:

refused
    NaN, +Inf, -Inf, empty, wrong number of dimensions, complex, strings,
    objects that are not numbers, bool where real numbers are expected,
    out-of-range or wrongly typed hyperparameters, a fit/transform shape
    mismatch, a wrong-length ``y``, a single class, packed words with non-zero
    padding bits or the wrong word count: the call must raise ``ValueError`` or
    ``TypeError`` (the one of :mod:`eegbin.kernels.checks` for that kind of
    mistake) whose message names the argument (its name, or the role listed in
    :attr:`Arg.names`).
same result
    A non-contiguous, Fortran-order, read-only, float32, int32 (or, for arrays
    of numbers, object-dtype) copy gives the result of the C-order float64 array
    holding the same values, to ``Arg.rtol32`` for float32 where the callable
    computes in float32 (stated in the registry), exactly (to 1e-12) otherwise.

A failure is reported as one of ``OPAQUE`` (an exception other than
ValueError/TypeError: IndexError, SystemError from numba, ...), ``SILENT`` (no
exception: the bad input was accepted), ``UNNAMED`` (ValueError/TypeError whose
message does not name the argument), ``WRONG-TYPE`` (TypeError where the rule says
ValueError or the other way round) or ``DIFFERENT`` (a layout or dtype changed
the result).
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------
# the description of a valid call
# ---------------------------------------------------------------------------

#: what each case class expects: the exception type of eegbin.kernels.checks, or "same"
EXPECTED = {
    "nan": ValueError, "posinf": ValueError, "neginf": ValueError, "empty": ValueError,
    "ndim_low": ValueError, "ndim_high": ValueError, "complex": ValueError, "string": TypeError,
    "object": TypeError, "bool": TypeError, "bad_value": ValueError, "padding": ValueError,
    "word_count": ValueError, "wrong_dtype": TypeError, "shape_mismatch": ValueError,
    "y_length": ValueError, "single_class": ValueError, "y_nan": ValueError,
    # scalar hyperparameters
    "hp_nan": (ValueError, TypeError), "hp_inf": (ValueError, TypeError), "hp_string": TypeError,
    "hp_bool": TypeError, "hp_fraction": TypeError, "hp_range": ValueError,
    # layouts and dtypes: the same result
    "noncontig": "same", "fortran": "same", "readonly": "same", "float32": "same", "int32": "same",
    "object_numbers": "same",
}

#: the class of each case, for the report (issue 17 §4 names these)
CLASS_OF = {
    "nan": "NaN", "posinf": "+Inf", "neginf": "-Inf", "y_nan": "NaN", "empty": "empty",
    "ndim_low": "wrong ndim", "ndim_high": "wrong ndim", "complex": "complex dtype",
    "string": "string dtype", "object": "object dtype", "object_numbers": "object dtype",
    "bool": "bool dtype", "wrong_dtype": "wrong dtype", "bad_value": "out-of-range values",
    "padding": "padding bits", "word_count": "word count", "shape_mismatch": "fit/transform shape",
    "y_length": "wrong-length y", "single_class": "single class",
    "hp_nan": "hyperparameter", "hp_inf": "hyperparameter", "hp_string": "hyperparameter",
    "hp_bool": "hyperparameter", "hp_fraction": "hyperparameter", "hp_range": "hyperparameter",
    "noncontig": "non-contiguous", "fortran": "Fortran order", "readonly": "read-only",
    "float32": "float32", "int32": "int32",
}


@dataclass(frozen=True)
class Arg:
    """One array argument of a valid call, and which cases of the battery apply to it.

    kind : str
        ``"real"``: real numbers; ``"packed"``: uint64 words; ``"bits"``: 0/1 or
        ±1 values (bool accepted); ``"signs"``: bool sign planes (bool only); ``"labels"``: non-negative integer labels;
        ``"y"``: the targets of an estimator's ``fit``.
    ndim : int, tuple of int or None
        The numbers of dimensions accepted; None: any (element-wise functions).
    names : tuple of str
        Words of which one must appear in the messages (default: the argument name).
    empty : {"refuse", "rowwise"}
        ``"rowwise"``: rows map to rows, so 0 rows give a 0-row result (not an error).
    n_bits : bool
        Packed words whose valid bit count the callable knows (padding is checked).
    words_fixed : bool
        Packed words whose count per row is fixed by another argument.
    rtol32 : float or None
        The callable computes in float32 when given float32: the tolerance on its
        floating outputs, and the fraction of integer outputs that may differ
        (a binarization at a threshold), compared with float64 input.
    int_scale : float
        Valid values are multiplied by it and rounded for the int32 case.
    estimator_x : bool
        ``X`` of a scikit-learn estimator: scikit-learn's own wording of check_array
        is accepted as naming it (see ``SKLEARN_WORDING``).
    """

    kind: str = "real"
    ndim: Any = None
    names: tuple = ()
    empty: str = "refuse"
    n_bits: bool = False
    words_fixed: bool = False
    rtol32: float | None = None
    int_scale: float = 8.0
    estimator_x: bool = False
    bool_ok: bool = False


@dataclass
class Entry:
    """A valid call of one public callable.

    call : callable
        ``call(**kwargs)`` runs it (a function, a constructor, or an estimator scenario).
    valid : callable
        Returns fresh valid keyword arguments.
    arrays : dict
        Array arguments to spoil: name -> :class:`Arg`.
    scalars : dict
        Scalar hyperparameters: name -> list of out-of-range values (ValueError).
        Integers and reals among them also get NaN, Inf, a string, True and (integers) 1.5.
    extra : dict
        Cases of this callable only: id -> (case, mutate(kwargs) -> kwargs, names).
    skip : dict
        ``(argument, case)`` or ``case`` -> the reason the case does not apply.
    probe : callable or None
        Turns the result into comparable arrays (an object -> its outputs).
    hp_int : tuple
        Scalar arguments that are integers even when their valid value is given as float.
    """

    call: Callable
    valid: Callable[[], dict]
    arrays: dict = field(default_factory=dict)
    scalars: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    skip: dict = field(default_factory=dict)
    probe: Callable | None = None
    hp_types: bool = True


@dataclass(frozen=True)
class Exempt:
    """A public callable left out of the battery as a whole, with the reason."""

    reason: str


# ---------------------------------------------------------------------------
# spoiling one argument
# ---------------------------------------------------------------------------


def _with_ndim(a, ndim):
    a = np.asarray(a)
    while a.ndim > ndim:
        a = a[0]
    while a.ndim < ndim:
        a = a[..., None]
    return np.asarray(a)


def _noncontig(a):
    a = np.asarray(a)
    if a.ndim == 0 or a.size == 0:
        return None
    axes = [i for i, n in enumerate(a.shape) if n > 1]
    if not axes:
        return None
    ax = axes[-1]
    out = np.repeat(a, 2, axis=ax)[(slice(None),) * ax + (slice(None, None, 2),)]
    assert not out.flags.c_contiguous and np.array_equal(out, a)
    return out


def _fortran(a):
    a = np.asarray(a)
    if a.ndim < 2 or sum(s > 1 for s in a.shape) < 2:
        return None
    out = np.asfortranarray(a)
    assert not out.flags.c_contiguous
    return out


def _readonly(a):
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


def _one_bad(a, value):
    out = np.array(a, dtype=np.float64, copy=True)
    if out.size == 0:
        return None
    out.flat[out.size // 2] = value
    return out


def _ndims(arg, a):
    """(case, lower ndim, higher ndim) outside the accepted numbers of dimensions."""
    if arg.ndim is None:
        return []
    allowed = (arg.ndim,) if isinstance(arg.ndim, int) else tuple(arg.ndim)
    out = []
    if min(allowed) >= 1:
        out.append(("ndim_low", min(allowed) - 1))
    out.append(("ndim_high", max(allowed) + 1))
    return out


def _object_other(a):
    o = np.array(a, dtype=object, copy=True)
    if o.size == 0:
        return None
    o.flat[0] = {"not": "a number"}
    return o


def spoil(arg: Arg, a):
    """Every case of the battery for an array argument of value ``a``.

    Yields ``(case, spoiled value, reference value or None)``: the reference is the
    C-order float64 (or, for packed words and labels, C-order same-dtype) array
    holding the same values, for the "same result" cases.
    """
    a = np.asarray(a)
    kind = arg.kind
    if kind in ("real", "bits"):
        for case, v in (("nan", np.nan), ("posinf", np.inf), ("neginf", -np.inf)):
            if kind == "bits" and case != "nan":
                continue
            yield case, _one_bad(a, v), None
    if kind == "y":
        yield "y_length", a[:-1], None
        yield "single_class", np.full_like(a, a.flat[0]), None
        yield "y_nan", _one_bad(a, np.nan), None
    if kind == "labels":
        yield "bad_value", np.where(np.arange(a.size).reshape(a.shape) == a.size // 2, a.max() + 100, a), None
        neg = np.array(a, copy=True)
        neg.flat[0] = -1
        yield "bad_value", neg, None
        frac = np.array(a, dtype=np.float64, copy=True)
        frac.flat[0] = 0.5
        yield "wrong_dtype", frac, None
    if kind == "bits":
        bad = np.array(a, dtype=np.int64, copy=True)
        bad.flat[0] = 2
        yield "bad_value", bad, None
    if kind not in ("y", "signs"):
        yield "empty", a[:0], None
        for case, nd in _ndims(arg, a):
            yield case, _with_ndim(a, nd), None
    if kind in ("real", "bits"):
        yield "complex", a.astype(np.complex128), None
        yield "string", a.astype(str), None
        yield "object", _object_other(a), None
        yield "object_numbers", a.astype(object), np.ascontiguousarray(a, dtype=np.float64)
        if kind == "real":
            yield "bool", a != 0, (np.asarray(a != 0, dtype=np.float64) if arg.bool_ok else None)
    if kind == "signs":  # sign planes: bool only (True for +1), as packed words are uint64 only
        yield "empty", a[:0], None
        for case, nd in _ndims(arg, a):
            yield case, _with_ndim(a, nd), None
        for dtype in (np.int64, np.float64, np.complex128, str, object):
            yield "wrong_dtype", a.astype(dtype), None
    if kind in ("packed", "labels"):
        for case, dtype in (("wrong_dtype", np.int64 if kind == "packed" else np.float64),
                            ("string", str), ("complex", np.complex128), ("object", object)):
            if kind == "labels" and case == "wrong_dtype":
                continue
            yield ("wrong_dtype" if kind == "packed" else case), a.astype(dtype), None
        if kind == "packed":
            yield "wrong_dtype", a.astype(bool), None
    if kind == "packed":
        if arg.n_bits:
            pad = np.array(a, copy=True)
            pad[..., -1] |= np.uint64(1) << np.uint64(63)
            yield "padding", pad, None
        if arg.words_fixed:
            yield "word_count", np.concatenate([a, np.zeros(a.shape[:-1] + (1,), a.dtype)], axis=-1), None
    # layouts and dtypes that must not change the result
    if kind in ("real", "bits", "epochs"):
        ref_dtype = np.float64
    else:
        ref_dtype = a.dtype
    ref = np.ascontiguousarray(a, dtype=ref_dtype)
    yield "noncontig", _noncontig(a), ref
    yield "fortran", _fortran(a), ref
    yield "readonly", _readonly(a), ref
    if kind == "real":
        a32 = a.astype(np.float32)
        yield "float32", a32, a32.astype(np.float64)
        ai = np.rint(a * arg.int_scale).astype(np.int32)
        yield "int32", ai, ai.astype(np.float64)
    elif kind == "bits":
        yield "int32", a.astype(np.int32), a.astype(np.float64)
        yield "float32", a.astype(np.float32), a.astype(np.float64)
    elif kind in ("labels", "y"):
        yield "int32", a.astype(np.int32), a.astype(np.int64)


def _scalar_cases(name, value, bad):
    if isinstance(value, (bool, np.bool_)):
        return
    if isinstance(value, (int, np.integer)):
        yield "hp_nan", float("nan")
        yield "hp_inf", float("inf")
        yield "hp_string", str(value)
        yield "hp_bool", True
        yield "hp_fraction", value + 0.5
    elif isinstance(value, (float, np.floating)):
        yield "hp_nan", float("nan")
        yield "hp_inf", float("inf")
        yield "hp_string", str(value)
        yield "hp_bool", True
    for v in bad:
        yield "hp_range", v


@dataclass(frozen=True)
class Case:
    """One test: spoil ``arg`` of the valid call of ``key`` as ``case`` (the ``index``-th such)."""

    key: str
    arg: str
    case: str
    index: int = 0

    @property
    def id(self):
        return f"{self.key}:{self.arg}:{self.case}" + (f"{self.index}" if self.index else "")


def cases_of(key, entry: Entry):
    """The cases of the battery for one registry entry, before exceptions."""
    out = []
    kwargs = entry.valid()
    for name, arg in entry.arrays.items():
        seen = {}
        for case, value, _ in spoil(arg, kwargs[name]):
            if value is None:
                continue
            seen[case] = seen.get(case, -1) + 1
            out.append(Case(key, name, case, seen[case]))
    for name, bad in entry.scalars.items():
        assert name in kwargs, f"{key}: the valid call must give the hyperparameter {name!r} explicitly"
        seen = {}
        for case, _ in _scalar_cases(name, kwargs[name], bad):
            if not entry.hp_types and case != "hp_range":
                continue
            seen[case] = seen.get(case, -1) + 1
            out.append(Case(key, name, case, seen[case]))
    for cid, (case, _, _) in entry.extra.items():
        out.append(Case(key, cid, case))
    return out


def build_case(entry: Entry, c: Case):
    """(kwargs to call, reference kwargs or None, names that must appear, expected)."""
    kwargs = entry.valid()
    if c.arg in entry.extra:
        case, mutate, names = entry.extra[c.arg]
        return mutate(kwargs), None, names, EXPECTED[case]
    if c.arg in entry.arrays:
        arg = entry.arrays[c.arg]
        n = -1
        for case, value, ref in spoil(arg, kwargs[c.arg]):
            if value is None or case != c.case:
                continue
            n += 1
            if n == c.index:
                spoiled = dict(kwargs, **{c.arg: value})
                reference = None if ref is None else dict(kwargs, **{c.arg: ref})
                expected = EXPECTED[case]
                if case in ("bool",) and ref is not None:
                    expected = "same"
                return spoiled, reference, arg.names or (c.arg,), expected
    n = -1
    for case, value in _scalar_cases(c.arg, kwargs[c.arg], entry.scalars.get(c.arg, ())):
        if case != c.case:
            continue
        n += 1
        if n == c.index:
            return dict(kwargs, **{c.arg: value}), None, (c.arg,), EXPECTED[case]
    raise LookupError(f"no case {c.id}")


# ---------------------------------------------------------------------------
# outcomes
# ---------------------------------------------------------------------------

#: scikit-learn's check_array / check_X_y wording, accepted as naming X (or y) of an
#: estimator: the method has one X, and these are the words of every scikit-learn estimator
SKLEARN_WORDING = (
    r"Expected 2D array, got", r"Found array with 0 sample", r"Found array with 0 feature",
    r"Found array with dim \d", r"Complex data not supported", r"inconsistent numbers of samples",
    r"has \d+ features?, but \w+ is expecting", r"number of classes has to be greater than one",
    r"needs samples of at least 2 classes", r"Input (X|y) contains", r"Unknown label type",
)


def _names_it(message, names, estimator_x=False):
    for n in names:
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9])", message):
            return True
    if estimator_x:
        return any(re.search(p, message) for p in SKLEARN_WORDING)
    return False


def summarize(out, limit=160):
    try:
        flat = flatten(out)
    except Exception:  # noqa: BLE001 - a summary only
        return repr(out)[:limit]
    parts = []
    for k, v in flat.items():
        if isinstance(v, np.ndarray):
            finite = bool(np.isfinite(v).all()) if v.dtype.kind in "fc" and v.size else True
            parts.append(f"{k}: {v.dtype}{v.shape}{'' if finite else ' with NaN/Inf'}")
        else:
            parts.append(f"{k}: {v!r}"[:40])
    text = "; ".join(parts)
    return text[:limit] + ("..." if len(text) > limit else "")


def flatten(obj, prefix="", depth=0, out=None):
    """Arrays and scalars of a result, by path (tuples, dicts, dataclasses, objects)."""
    out = {} if out is None else out
    if depth > 6:
        return out
    if isinstance(obj, np.ndarray):
        out[prefix or "out"] = obj
    elif isinstance(obj, (bool, int, float, complex, str, bytes, np.generic)) or obj is None:
        out[prefix or "out"] = np.asarray(obj) if isinstance(obj, np.generic) else obj
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            flatten(obj[k], f"{prefix}[{k!r}]", depth + 1, out)
    elif isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}[{i}]", depth + 1, out)
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            flatten(getattr(obj, f.name), f"{prefix}.{f.name}", depth + 1, out)
    elif hasattr(obj, "__dict__") and not callable(obj):
        for k, v in sorted(vars(obj).items()):
            if not k.startswith("__") and not callable(v):
                flatten(v, f"{prefix}.{k}", depth + 1, out)
    else:
        out[prefix or "out"] = repr(type(obj))
    return out


def assert_same(got, ref, rtol32=None, what=""):
    """``got`` equals ``ref``: exactly (1e-12) or, with ``rtol32``, to float32 rounding."""
    g, r = flatten(got), flatten(ref)
    assert g.keys() == r.keys(), f"DIFFERENT: {what}: result structure {sorted(g)} != {sorted(r)}"
    for k in r:
        a, b = g[k], r[k]
        if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
            a, b = np.asarray(a), np.asarray(b)
            assert a.shape == b.shape, f"DIFFERENT: {what}: {k} shape {a.shape} != {b.shape}"
            if b.dtype.kind in "fc" or a.dtype.kind in "fc":
                rtol = 1e-12 if rtol32 is None else rtol32
                scale = float(np.nanmax(np.abs(b))) if b.size and np.isfinite(b).any() else 1.0
                ok = np.allclose(a.astype(complex if b.dtype.kind == "c" else float), b, rtol=rtol,
                                 atol=rtol * scale, equal_nan=True)
                assert ok, (f"DIFFERENT: {what}: {k} differs by {np.nanmax(np.abs(a - b)):.3g} "
                            f"(scale {scale:.3g}, rtol {rtol:g})")
            elif b.dtype.kind in "OUS" or a.dtype.kind in "OUS":
                assert a.tolist() == b.tolist(), f"DIFFERENT: {what}: {k}"
            else:
                differ = float(np.mean(a != b)) if b.size else 0.0
                allowed = 0.0 if rtol32 is None else 0.05
                assert differ <= allowed, f"DIFFERENT: {what}: {k}: {differ:.1%} of the values differ"
        elif isinstance(b, float) and isinstance(a, (float, int)):
            rtol = 1e-12 if rtol32 is None else rtol32
            assert math.isclose(a, b, rel_tol=rtol, abs_tol=rtol) or (math.isnan(a) and math.isnan(b)), \
                f"DIFFERENT: {what}: {k} {a!r} != {b!r}"
        else:
            assert a == b, f"DIFFERENT: {what}: {k} {a!r} != {b!r}"


class Failure(AssertionError):
    """A case of the battery that failed: ``kind`` is OPAQUE, SILENT, UNNAMED, WRONG-TYPE or DIFFERENT."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def run_case(entry: Entry, c: Case):
    """Run one case; raise :class:`Failure` if the callable does not do what the battery expects."""
    kwargs, reference, names, expected = build_case(entry, c)
    arg = entry.arrays.get(c.arg, Arg())
    probe = entry.probe or (lambda out: out)
    if expected == "same":
        rtol = arg.rtol32 if c.case in ("float32",) else None
        try:
            ref = probe(entry.call(**reference))
        except Exception as exc:  # the C-order float64 call is refused: so must this one be
            try:
                entry.call(**kwargs)
            except type(exc):
                return
            except Exception as exc2:  # noqa: BLE001
                raise Failure("DIFFERENT", f"{c.id}: reference raised {type(exc).__name__}, "
                                           f"this raised {type(exc2).__name__}: {exc2}") from exc2
            raise Failure("DIFFERENT", f"{c.id}: reference raised {type(exc).__name__}: {exc}; "
                                       "this was accepted") from exc
        if c.case == "empty" and arg.empty == "rowwise":
            pass
        try:
            got = probe(entry.call(**kwargs))
        except (ValueError, TypeError) as exc:
            if (c.case in ("object_numbers", "bool") and isinstance(exc, TypeError)
                    and _names_it(str(exc), names, arg.estimator_x)):
                return  # refusing an object or bool array (TypeError, the rule) is as good as reading it
            raise Failure("DIFFERENT", f"{c.id}: refused what C-order float64 accepts: "
                                       f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001
            raise Failure("OPAQUE", f"{c.id}: {type(exc).__name__}: {exc}") from exc
        try:
            assert_same(got, ref, rtol, c.id)
        except AssertionError as exc:
            raise Failure("DIFFERENT", str(exc).removeprefix("DIFFERENT: ")) from None
        return
    if c.case == "empty" and arg.empty == "rowwise":
        try:
            out = probe(entry.call(**kwargs))
        except (ValueError, TypeError) as exc:
            if _names_it(str(exc), names, arg.estimator_x):
                return
            raise Failure("UNNAMED", f"{c.id}: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001
            raise Failure("OPAQUE", f"{c.id}: {type(exc).__name__}: {exc}") from exc
        for k, v in flatten(out).items():
            if isinstance(v, np.ndarray) and v.ndim and v.shape[0] != 0:
                raise Failure("SILENT", f"{c.id}: 0 rows in, {k} has shape {v.shape}")
        return
    try:
        out = entry.call(**kwargs)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if not _names_it(message, names, arg.estimator_x):
            raise Failure("UNNAMED", f"{c.id}: {type(exc).__name__} does not name "
                                     f"{' or '.join(names)}: {message[:300]}") from exc
        if not isinstance(exc, expected):
            want = expected.__name__ if isinstance(expected, type) else "/".join(e.__name__ for e in expected)
            raise Failure("WRONG-TYPE", f"{c.id}: {type(exc).__name__}, the rule says {want}: "
                                        f"{message[:300]}") from exc
        return
    except Exception as exc:  # noqa: BLE001
        raise Failure("OPAQUE", f"{c.id}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    raise Failure("SILENT", f"{c.id}: accepted, returned {summarize(probe(out))}")


# ---------------------------------------------------------------------------
# what is walked
# ---------------------------------------------------------------------------


def _public_packages():
    import eegbin

    yield eegbin
    for info in pkgutil.walk_packages(eegbin.__path__, prefix="eegbin."):
        if info.ispkg and not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def public_callables():
    """``{key: object}`` for every callable in an ``__all__``; the key is the deepest package that exports it."""
    found = {}
    for pkg in _public_packages():
        for name in getattr(pkg, "__all__", []):
            try:
                obj = getattr(pkg, name)
            except ImportError:  # an optional dependency is missing: nothing to test
                continue
            if not callable(obj):
                continue
            key = f"{pkg.__name__}.{name}"
            previous = found.get(id(obj))
            if previous is None or len(key) > len(previous[0]):
                found[id(obj)] = (key, obj)
    return dict(found.values())
