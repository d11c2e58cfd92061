"""Fitted estimator or pipeline -> C99 files: ports, steps, the exporter registry, to_c."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..kernels import n_words_for
from . import _blocks
from ._cgen import SIZEOF, array_initializer, check_directory, check_name

__all__ = ["to_c", "register_exporter", "exporter_for", "Port", "StepContext"]

_DTYPES = {"float32": ("float", 32), "float64": ("double", 64)}


@dataclass(frozen=True)
class Port:
    """What flows between two steps of the generated C code.

    Parameters
    ----------
    kind : {"epochs", "real", "packed"}
        One trial (``n_chans x n_times`` float32, row-major), a real feature
        vector, or a packed bit vector (uint64 words, bit ``j`` is bit ``j % 64``
        of word ``j // 64``, padding bits zero).
    size : int
        Values: ``n_chans * n_times``, features, or bits.
    ctype : str
        C element type of the array: ``"float"``, ``"double"`` or ``"uint64_t"``.
    n_chans, n_times : int
        The trial's shape (``kind="epochs"`` only).
    values : {"bipolar", "binary", "packed"}
        For ``kind="packed"``: what the Python step hands to the next one (its
        ``output``), so that a real-valued model after it reads the bits as +-1
        or 0/1; ``"packed"`` means uint64 words.
    """

    kind: str
    size: int
    ctype: str
    n_chans: int = 0
    n_times: int = 0
    values: str = "packed"

    @property
    def length(self):
        """Elements of the C array (words for packed bits)."""
        return n_words_for(self.size) if self.kind == "packed" else self.size

    def describe(self):
        """One line for comments and error messages."""
        if self.kind == "epochs":
            return f"one trial of {self.n_chans} x {self.n_times} float32"
        if self.kind == "real":
            return f"{self.size} {self.ctype} features"
        return f"{self.size} packed bits ({self.length} uint64 words)"


@dataclass
class _Step:
    index: int
    label: str
    port_in: Port
    port_out: Port | None  # None: the classifier (scores)
    code: list = field(default_factory=list)
    weights: list = field(default_factory=list)  # (symbol, ctype, count, note)
    buffers: list = field(default_factory=list)  # (symbol, ctype, define, length)
    seeds: int = 0  # 32-bit seeds compiled into the code (4 bytes each in footprint())
    n_classes: int = 0
    body: str = ""
    part: str = ""  # which part of its estimator, when an estimator becomes several steps


class StepContext:
    """What an exporter uses to emit the C code of one step.

    An exporter ``f(estimator, port, ctx)`` declares the step's weights
    (:meth:`weights`), constant tables (:meth:`table`), static work buffers
    (:meth:`buffer`) and the shared C blocks it calls (:meth:`use`), then returns
    the body of the step's function: ``void <name>_step<k>(const IN *in, OUT *out)``
    for a transformer (:meth:`transform`), ``int <name>_step<k>(const IN *in,
    float *scores)`` returning the class index for the classifier
    (:meth:`classify`). An estimator that is best exported as several steps
    (e.g. a network's features, then its head) finishes one step, opens the next
    with :meth:`next_step` and returns the list of its steps. A classifier with a
    ``transform`` (e.g. a network whose features feed a memory head) may stand before
    the last step of a pipeline: its exporter is then called with ``final`` False and
    returns the steps that compute its ``transform``.

    Attributes
    ----------
    prefix : str
        Prefix of this step's C symbols, ``<name>_s<k>``.
    macro : str
        Prefix of its macros, ``<NAME>_S<k>``.
    real : {"float", "double"}
        C type of the real-valued arithmetic (``eb_real`` in the code).
    float_bits : int
        Bits of a stored real parameter (32 or 64).
    final : bool
        Whether the estimator is the last step (the classifier); False for a
        classifier exported as the transformer its ``transform`` is.
    """

    def __init__(self, name, index, label, port_in, real, final=True):
        self._name, self._label = name, label
        self.prefix = f"{name}_s{index}"
        self.macro = f"{name.upper()}_S{index}"
        self.real = real
        self.float_bits = 8 * SIZEOF[real]
        self.port_in = port_in
        self.final = final
        self._blocks = []
        self._step = _Step(index, label, port_in, None)

    # -- declarations ------------------------------------------------------------------
    def use(self, *blocks):
        """Include the shared C blocks ``blocks`` (see :mod:`eegbin.export._blocks`)."""
        self._blocks.extend(blocks)

    def _array(self, what, values, ctype, weight, note):
        ctype = self.real if ctype == "real" else ctype
        values = np.asarray(values)
        symbol = f"{self.prefix}_{'w_' if weight else ''}{what}"
        self._step.code.append(
            f"static const {ctype} {symbol}[{values.size}] = {array_initializer(values, ctype)};"
        )
        if weight:
            self._step.weights.append((symbol, ctype, int(values.size), note))
        return symbol

    def weights(self, what, values, ctype="real", note=""):
        """A ``static const`` array of model parameters (counted as weights); its symbol."""
        return self._array(what, values, ctype, True, note)

    def table(self, what, values, ctype):
        """A ``static const`` array of configuration (not model parameters); its symbol."""
        return self._array(what, values, ctype, False, "")

    def buffer(self, what, ctype, length):
        """A static work buffer of ``length`` elements; its symbol. Its length is
        ``#define``d in the header as ``<NAME>_S<k>_<WHAT>_LEN``."""
        ctype = self.real if ctype == "real" else ctype
        symbol = f"{self.prefix}_{what}"
        define = f"{self.macro}_{what.upper()}_LEN"
        self._step.buffers.append((symbol, ctype, define, int(length)))
        self._step.code.append(f"static {ctype} {symbol}[{define}];")
        return symbol

    def seed(self):
        """Record a 32-bit seed compiled into the code (footprint() counts it, 4 bytes)."""
        self._step.seeds += 1

    def input_as(self, ctype):
        """C expression of the step input as an array of ``ctype`` ("real" or "float"),
        and the statements converting it (empty when the input already has that type)."""
        ctype = self.real if ctype == "real" else ctype
        if self.port_in.ctype == ctype:
            return "in", ""
        buf = self.buffer("in", ctype, self.port_in.length)
        conv = (f"    {{\n        int32_t j;\n        for (j = 0; j < {self.port_in.length}; j++) {{\n"
                f"            {buf}[j] = ({ctype})in[j];\n        }}\n    }}\n")
        return buf, conv

    # -- results ---------------------------------------------------------------------
    def transform(self, port_out, body, part=""):
        """Finish a transformer step: its output port and function body (``part``:
        which part of the estimator it is, when the estimator becomes several steps)."""
        self._step.port_out = port_out
        self._step.body = body
        self._step.part = part
        return self._step

    def classify(self, n_classes, body, part=""):
        """Finish the classifier step: its number of classes and function body
        (which fills ``scores[0..n_classes-1]`` and returns the class index)."""
        self._step.n_classes = int(n_classes)
        self._step.body = body
        self._step.part = part
        return self._step

    def next_step(self):
        """The context of the next step of the same estimator, which reads this
        (finished, transformer) step's output; the exporter then returns the list
        of its steps."""
        if self._step.port_out is None:
            raise RuntimeError("next_step() follows transform(): finish this step first")
        ctx = StepContext(self._name, self._step.index + 1, self._label, self._step.port_out, self.real)
        ctx._blocks = self._blocks
        return ctx


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------

_EXPORTERS = {}  # type -> (function, reads: "epochs" | "features")


def register_exporter(*types, reads="features"):
    """Register ``f(estimator, port, ctx)`` as the C exporter of estimator ``types``.

    The exporter of a type is found along the estimator's class hierarchy (the
    nearest registered base class wins), as emlearn dispatches on the
    estimator kind. It returns ``ctx.transform(port_out, body)`` or
    ``ctx.classify(n_classes, body)`` (see :class:`StepContext`).

    Parameters
    ----------
    *types : type
        Estimator classes handled.
    reads : {"features", "epochs"}, default="features"
        What the step reads when it is the first one: a feature vector of
        ``n_features_in_`` values, or one trial of ``n_features_in_`` channels x
        ``n_times_in_`` samples (or, for an estimator told its trial length, its
        ``n_times`` parameter).

    Returns
    -------
    decorator
        Registers the function it decorates and returns it unchanged.

    Examples
    --------
    >>> from eegbin.export import exporter_for
    >>> from sklearn.svm import LinearSVC
    >>> exporter_for(LinearSVC()).__name__
    '_export_linear'
    """
    if reads not in ("features", "epochs"):
        raise ValueError(f"reads must be 'features' or 'epochs', got {reads!r}")

    def decorator(func):
        for t in types:
            if not isinstance(t, type):
                raise TypeError(f"register_exporter expects classes, got {t!r}")
            _EXPORTERS[t] = (func, reads)
        return func

    return decorator


def _lookup(estimator):
    for cls in type(estimator).__mro__:
        if cls in _EXPORTERS:
            return _EXPORTERS[cls]
    return None


def exporter_for(estimator):
    """The registered C exporter of ``estimator`` (a function), or a TypeError naming it.

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    callable
    """
    found = _lookup(estimator)
    if found is None:
        names = sorted({t.__name__ for t in _EXPORTERS})
        raise TypeError(
            f"{type(estimator).__name__} cannot be exported to C: no exporter is registered for "
            f"it. Exportable: {', '.join(names)}"
        )
    return found[0]


# ---------------------------------------------------------------------------
# to_c
# ---------------------------------------------------------------------------


def _flatten(estimator, prefix=""):
    """(label, step) pairs of a pipeline (nested pipelines flattened), or the estimator."""
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        out = []
        for step_name, step in estimator.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            out.extend(_flatten(step, f"{prefix}{step_name}."))
        return out
    return [(f"{prefix.rstrip('.') or type(estimator).__name__}", estimator)]


def _where(label, est):
    cls = type(est).__name__
    return cls if label == cls else f"{label}: {cls}"


def _first_port(estimator, reads):
    n = getattr(estimator, "n_features_in_", None)
    if n is None:
        raise ValueError(f"{type(estimator).__name__} has no n_features_in_: fit it before export")
    if reads == "epochs":
        t = getattr(estimator, "n_times_in_", None)
        t = getattr(estimator, "n_times", None) if t is None else t
        if t is None:
            raise ValueError(f"{type(estimator).__name__}: the trial length is unknown (n_times_in_ is None): "
                             f"fit it on epochs before export")
        t = int(t)
        return Port("epochs", int(n) * t, "float", n_chans=int(n), n_times=t)
    return Port("real", int(n), "float", n_chans=1, n_times=int(n))


def _build_steps(estimator, name, real):
    pairs = _flatten(estimator)
    if not pairs:
        raise ValueError("the pipeline has no step to export")
    steps = []
    port = None
    blocks = []
    for k, (label, est) in enumerate(pairs[:-1]):
        if is_classifier(est) and not hasattr(est, "transform"):
            nxt = pairs[k + 1]
            raise ValueError(
                f"step {k} ({label}: {type(est).__name__}) is a classifier but step {k + 1} "
                f"({nxt[0]}: {type(nxt[1]).__name__}) follows it; the classifier must be the last step"
            )
    for k, (label, est) in enumerate(pairs):
        where = f"step {len(steps)} ({_where(label, est)})"
        if isinstance(est, type):
            raise TypeError(f"{where} is a class, not a fitted estimator")
        found = _lookup(est)
        if found is None:
            try:
                exporter_for(est)
            except TypeError as exc:
                raise TypeError(f"{where}: {exc}") from None
        func, reads = found
        try:
            check_is_fitted(est)
        except NotFittedError as exc:
            raise ValueError(f"{where} is not fitted: fit the estimator before export ({exc})") from None
        if port is None:
            port = _first_port(est, reads)
        elif reads == "epochs":
            raise ValueError(f"{where} reads EEG trials but comes after another step")
        ctx = StepContext(name, len(steps), label, port, real, final=k == len(pairs) - 1)
        try:
            result = func(est, port, ctx)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{where}: {exc}") from None
        parts = result if isinstance(result, list) else [result]
        for j, step in enumerate(parts):
            step.label = _where(label, est) + (f" ({step.part})" if step.part else "")
            steps.append(step)
            if step.port_out is None and (k != len(pairs) - 1 or j != len(parts) - 1):
                # a classifier sklearn does not know
                raise ValueError(f"{where} is a classifier; the classifier must be the last step")
            port = step.port_out
        blocks.extend(ctx._blocks)
    if steps[-1].port_out is not None:
        raise ValueError(
            f"the last step ({pairs[-1][0]}: {type(pairs[-1][1]).__name__}) is a transformer; "
            f"to_c exports a classifier or a pipeline ending in one"
        )
    return steps, _blocks.resolve(blocks)


def _classes(estimator):
    classes = getattr(estimator, "classes_", None)
    if classes is None:  # pipeline: the last step's
        classes = getattr(_flatten(estimator)[-1][1], "classes_", None)
    return classes


def to_c(estimator, directory, name, *, dtype="float32"):
    """Write a fitted estimator or pipeline as portable C99: ``<name>.h`` and ``<name>.c``.

    The header defines ``<NAME>_N_CHANS``, ``<NAME>_N_TIMES``,
    ``<NAME>_N_CLASSES`` (``NAME`` is ``name`` in upper case) and declares::

        int <name>_predict(const float *trial);
        void <name>_scores(const float *trial, float *scores);

    ``trial`` is one epoch, ``N_CHANS x N_TIMES`` float32, row-major (channel by
    channel); ``predict`` returns the index of the predicted class in the
    estimator's ``classes_`` and is the argmax of ``scores`` (the first maximum),
    the per-class values of the Python model: decision values of a linear model,
    cosine similarities ``1 - 2 d_h / d`` of a Hamming classifier. With two
    classes and one decision value ``s`` (scikit-learn's binary linear models),
    ``scores = {0, s}``: the Python ``decision_function`` is always
    ``scores[1] - scores[0]`` for two classes. A model whose first step reads
    feature vectors (e.g. a classifier fitted on features) takes the feature
    vector as its "trial": ``N_CHANS = 1``, ``N_TIMES = n_features``.

    Each step ``k`` is also callable, ``<name>_step<k>(in, out)`` (declared in the
    header with its array lengths), for testing and for composing.

    The code is C99 with ``<stdint.h>`` (and ``<math.h>`` for the Riemannian
    features), allocates nothing, keeps the weights in ``static const`` arrays at
    the width the model uses (packed uint64 words for binary vectors, float32
    or float64 otherwise) and its work buffers in static arrays whose lengths the
    header ``#define``\\ s. It is not reentrant: the functions share those buffers.
    It compiles with ``-std=c99 -Wall -Wextra -Werror`` (and ``-pedantic
    -Wdouble-promotion -Wfloat-conversion``). Binary steps are bit-exact with
    eegbin; a rematerialized projection is regenerated on the device from its
    32-bit seed with eegbin's counter-based generator.

    Parameters
    ----------
    estimator : fitted estimator or :class:`~sklearn.pipeline.Pipeline`
        Every step must have a registered exporter (:func:`exporter_for`): the
        eegbin estimators of the Hersche et al. 2020 chain
        (:class:`~eegbin.FilterBankRiemann`,
        :class:`~eegbin.SparseBipolarRandomProjection`,
        :class:`~eegbin.HeavisideBinarizer`, the binarized linear classifiers,
        :class:`~eegbin.AssociativeMemoryClassifier`) and linear classifiers
        (scikit-learn's ``LinearSVC``, ``LogisticRegression``,
        ``LinearDiscriminantAnalysis``, ..., :class:`~eegbin.ShrinkageLDA`),
        :class:`~eegbin.EEGNetClassifier` (float or with Feng et al.'s
        compressions; two steps: its features, then its head) and
        :class:`~eegbin.LSTMClassifier` (float LSTM, or binarized: B_LSTM, MuBiNN1,
        MuBiNN2; the binarized cell runs in double, bit for bit eegbin's arithmetic).
        The last step must be a classifier.
    directory : str or path-like
        Where to write the files (created if missing).
    name : str
        C identifier used for the files, functions and macros.
    dtype : {"float32", "float64"}, default="float32"
        Arithmetic and storage of the real-valued parts (features, real
        weights). float32 suits an FPU-equipped microcontroller; float64 matches
        eegbin's float64 features to rounding. The random projection always
        sums in float32, as eegbin does.

    Returns
    -------
    paths : list of str
        ``[<directory>/<name>.h, <directory>/<name>.c]``.

    See Also
    --------
    CModel : compile the files and call them from Python.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn.svm import LinearSVC
    >>> from eegbin.export import to_c
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(40, 5), np.arange(40) % 3
    >>> clf = LinearSVC().fit(X, y)
    >>> paths = to_c(clf, tempfile.mkdtemp(), "tiny")
    >>> [p.rsplit("/", 1)[-1] for p in paths]
    ['tiny.h', 'tiny.c']
    """
    name = check_name(name)
    directory = check_directory(directory)
    if not isinstance(dtype, str):
        raise TypeError(f"dtype must be a str, 'float32' or 'float64', got {type(dtype).__name__} {dtype!r}")
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    real, _ = _DTYPES[dtype]
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ValueError(f"directory {directory!r} exists and is not a directory")
    steps, blocks = _build_steps(estimator, name, real)
    classes = _classes(estimator)
    header, source = _render(estimator, name, real, steps, blocks, classes)
    os.makedirs(directory, exist_ok=True)
    paths = [os.path.join(directory, f"{name}.h"), os.path.join(directory, f"{name}.c")]
    for path, text in zip(paths, (header, source)):
        with open(path, "w", encoding="ascii") as fh:
            fh.write(text)
    return paths


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------

_REAL_PRELUDE = {
    "float": (
        "typedef float eb_real;\n#define EB_R(x) x##f\n#define EB_EPS 1.1920928955078125e-07f\n"
        "#define eb_sqrt sqrtf\n#define eb_log logf\n#define eb_fabs fabsf\n#define eb_expm1 expm1f\n"
        "#define eb_exp expf\n#define eb_tanh tanhf\n"
    ),
    "double": (
        "typedef double eb_real;\n#define EB_R(x) x\n#define EB_EPS 2.220446049250313e-16\n"
        "#define eb_sqrt sqrt\n#define eb_log log\n#define eb_fabs fabs\n#define eb_expm1 expm1\n"
        "#define eb_exp exp\n#define eb_tanh tanh\n"
    ),
}


def _signature(name, step):
    cin = "const " + step.port_in.ctype + " *in"
    if step.port_out is None:
        return f"int {name}_step{step.index}({cin}, float *scores)"
    return f"void {name}_step{step.index}({cin}, {step.port_out.ctype} *out)"


def _class_lines(classes, n_classes):
    if classes is None:
        return [f" *   {i}" for i in range(n_classes)]
    lines = []
    for i, c in enumerate(np.asarray(classes).tolist()):
        text = repr(c).replace("*/", "* /")
        lines.append(f" *   {i} = {text[:60]}")
    return lines


def _render(estimator, name, real, steps, blocks, classes):
    from .. import __version__

    NAME = name.upper()
    first, last = steps[0].port_in, steps[-1]
    n_classes = last.n_classes
    needs_libm = any(_blocks.BLOCKS[b][2] for b in blocks)
    # intermediate buffers between steps
    pipe_buffers = []
    for s in steps[:-1]:
        pipe_buffers.append((f"{name}_out{s.index}", s.port_out.ctype, f"{NAME}_STEP{s.index}_OUT_LEN",
                             s.port_out.length))
    all_buffers = [b for s in steps for b in s.buffers] + pipe_buffers
    work_bytes = sum(SIZEOF[ct] * n for _, ct, _, n in all_buffers) + 4 * n_classes  # + scores
    weight_bytes = sum(SIZEOF[ct] * n for s in steps for _, ct, n, _ in s.weights)

    h = []
    h.append(f"/* {name}.h: EEG classifier generated by eegbin {__version__} (eegbin.export.to_c); do not edit.")
    h.append(" *")
    h.append(" * Steps:")
    for s in steps:
        out = "class scores" if s.port_out is None else s.port_out.describe()
        h.append(f" *   {s.index}. {s.label}: {s.port_in.describe()} -> {out}")
    h.append(f" * Real arithmetic: {real}. Classes (index = predict's return value):")
    h.extend(_class_lines(classes, n_classes))
    h.append(" *")
    h.append(f" * Memory: weights {weight_bytes} bytes (static const), work buffers {work_bytes} bytes")
    h.append(f" * (static, {NAME}_WORK_BYTES); no dynamic allocation. Weights:")
    for s in steps:
        for sym, ct, n, note in s.weights:
            h.append(f" *   {sym}: {n} x {ct}" + (f" ({note})" if note else ""))
        if s.seeds:
            h.append(f" *   step {s.index}: {s.seeds} 32-bit seed(s), immediate operands of the code "
                     f"(the random matrices are regenerated from them)")
    h.append(" * Reentrancy: NOT reentrant. The functions share the static work buffers: call them")
    h.append(" * from one thread (or task) at a time, or guard them with a mutex. No state is kept")
    h.append(" * between calls.")
    h.append(" */")
    h.append(f"#ifndef {NAME}_H")
    h.append(f"#define {NAME}_H")
    h.append("")
    h.append("#include <stdint.h>")
    h.append("")
    h.append("#ifdef __cplusplus")
    h.append('extern "C" {')
    h.append("#endif")
    h.append("")
    h.append(f"#define {NAME}_N_CHANS {first.n_chans}")
    h.append(f"#define {NAME}_N_TIMES {first.n_times}")
    h.append(f"#define {NAME}_N_CLASSES {n_classes}")
    if first.kind == "real":
        h.append(f"#define {NAME}_N_FEATURES {first.size}  /* the \"trial\" is a feature vector */")
    h.append(f"#define {NAME}_N_STEPS {len(steps)}")
    h.append(f"#define {NAME}_WEIGHT_BYTES {weight_bytes}")
    h.append(f"#define {NAME}_WORK_BYTES {work_bytes}")
    h.append("")
    h.append("/* Lengths (elements) of the static work buffers and of each step's output. */")
    for _sym, ct, define, n in all_buffers:
        h.append(f"#define {define} {n}  /* {ct} */")
    for s in steps[:-1]:
        if s.port_out.kind == "packed":
            h.append(f"#define {NAME}_STEP{s.index}_OUT_BITS {s.port_out.size}")
    h.append("")
    h.append("/* Index of the predicted class of one trial (N_CHANS x N_TIMES float32, row-major). */")
    h.append(f"int {name}_predict(const float *trial);")
    h.append("")
    h.append("/* The N_CLASSES scores whose argmax (first maximum) predict returns. */")
    h.append(f"void {name}_scores(const float *trial, float *scores);")
    h.append("")
    h.append("/* The steps (predict = the last step applied to the previous ones). */")
    for s in steps:
        h.append(f"{_signature(name, s)};  /* {s.label} */")
    h.append("")
    h.append("#ifdef __cplusplus")
    h.append("}")
    h.append("#endif")
    h.append("")
    h.append(f"#endif /* {NAME}_H */")
    header = "\n".join(h) + "\n"

    c = []
    c.append(f"/* {name}.c: generated by eegbin {__version__} (eegbin.export.to_c); do not edit.")
    c.append(f" * See {name}.h for the interface, the memory used and reentrancy. */")
    c.append("#include <stdint.h>")
    if needs_libm:
        c.append("#include <math.h>")
    c.append("")
    c.append(f'#include "{name}.h"')
    c.append("")
    c.append(_REAL_PRELUDE[real])
    for b in blocks:
        c.append(f"/* ---- block: {b} ---- */")
        c.append(_blocks.BLOCKS[b][0].strip("\n"))
        c.append("")
    for s in steps:
        c.append(f"/* ---- step {s.index}: {s.label} ---- */")
        c.extend(s.code)
        c.append("")
        sig = _signature(name, s).replace(f"{real} *out", "eb_real *out").replace(
            f"const {real} *in", "const eb_real *in")
        c.append(sig)
        c.append("{")
        c.append(s.body.rstrip("\n"))
        c.append("}")
        c.append("")
    c.append("/* ---- the pipeline ---- */")
    for sym, ct, define, _n in pipe_buffers:
        c.append(f"static {ct} {sym}[{define}];")
    c.append(f"static float {name}_scores_buf[{NAME}_N_CLASSES];")
    c.append("")
    chain = []
    prev = "trial"
    for s in steps[:-1]:
        chain.append(f"    {name}_step{s.index}({prev}, {name}_out{s.index});")
        prev = f"{name}_out{s.index}"
    c.append(f"int {name}_predict(const float *trial)")
    c.append("{")
    c.extend(chain)
    c.append(f"    return {name}_step{last.index}({prev}, {name}_scores_buf);")
    c.append("}")
    c.append("")
    c.append(f"void {name}_scores(const float *trial, float *scores)")
    c.append("{")
    c.extend(chain)
    c.append(f"    (void){name}_step{last.index}({prev}, scores);")
    c.append("}")
    source = "\n".join(c) + "\n"
    return header, source
