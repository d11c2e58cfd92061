"""CModel: compile exported C with the host compiler and call it from Python (ctypes)."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import tempfile
import threading
import weakref

import numpy as np

from ..kernels.checks import check_real_dtype

__all__ = ["CModel", "find_c_compiler", "STRICT_CFLAGS"]

#: warnings the generated code is held to (with -Werror): the issue's
#: ``-std=c99 -Wall -Wextra -Werror`` plus what keeps it portable and float-clean
#: (no silent double arithmetic, which is slow on single-precision FPUs).
STRICT_CFLAGS = (
    "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion",
    "-Wfloat-conversion", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes",
)
#: no fused multiply-add contraction: the float results do not depend on the target's FMA
_FP_FLAGS = ("-ffp-contract=off",)

_NP = {"float": np.float32, "double": np.float64, "uint64_t": np.uint64}
_CT = {"float": ctypes.c_float, "double": ctypes.c_double, "uint64_t": ctypes.c_uint64}


def find_c_compiler():
    """Path of the host C compiler (``$CC``, then ``cc``, ``gcc``, ``clang``), or None.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from eegbin.export import find_c_compiler
    >>> cc = find_c_compiler()
    >>> cc is None or isinstance(cc, str)
    True
    """
    for cand in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cand:
            path = shutil.which(cand.split()[0])
            if path:
                return path
    return None


def _run(cmd, what):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({' '.join(cmd)}):\n{proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def _defines(header):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^#define (\w+) (\d+)\b", header, re.M)}


def parse_header(header, name):
    """Shapes and step signatures of an exported model from its header text."""
    NAME = name.upper()
    d = _defines(header)
    for key in ("N_CHANS", "N_TIMES", "N_CLASSES", "N_STEPS"):
        if f"{NAME}_{key}" not in d:
            raise ValueError(f"{name}.h does not define {NAME}_{key}: not a header written by eegbin.export.to_c")
    steps = []
    pat = re.compile(rf"^(void|int) {re.escape(name)}_step(\d+)\(const (\w+) \*in, (\w+) \*(out|scores)\);", re.M)
    for m in pat.finditer(header):
        k = int(m.group(2))
        steps.append(dict(index=k, classifier=m.group(1) == "int", in_ctype=m.group(3), out_ctype=m.group(4)))
    steps.sort(key=lambda s: s["index"])
    n_steps = d[f"{NAME}_N_STEPS"]
    if [s["index"] for s in steps] != list(range(n_steps)):
        raise ValueError(f"{name}.h declares steps {[s['index'] for s in steps]}, expected 0..{n_steps - 1}")
    n_in = d[f"{NAME}_N_CHANS"] * d[f"{NAME}_N_TIMES"]
    for s in steps:
        s["in_len"] = n_in
        if s["classifier"]:
            s["out_len"] = d[f"{NAME}_N_CLASSES"]
        else:
            s["out_len"] = n_in = d[f"{NAME}_STEP{s['index']}_OUT_LEN"]
    return dict(n_chans=d[f"{NAME}_N_CHANS"], n_times=d[f"{NAME}_N_TIMES"],
                n_classes=d[f"{NAME}_N_CLASSES"], n_features=d.get(f"{NAME}_N_FEATURES"),
                weight_bytes=d.get(f"{NAME}_WEIGHT_BYTES"), work_bytes=d.get(f"{NAME}_WORK_BYTES"),
                steps=steps)


def model_files(directory, name):
    """``(header path, [source paths])`` of the model ``name`` in ``directory``."""
    from ._cgen import check_directory, check_name

    check_name(name)
    directory = check_directory(directory)
    header = os.path.join(directory, f"{name}.h")
    if not os.path.isfile(header):
        raise FileNotFoundError(f"no {name}.h in {directory!r}: write the model with eegbin.export.to_c first")
    sources = sorted(os.path.join(directory, f) for f in os.listdir(directory)
                     if f.endswith(".c") and (f == f"{name}.c" or f.startswith(f"{name}_")))
    if not sources:
        raise FileNotFoundError(f"no {name}.c in {directory!r}")
    return header, sources


def section_sizes(size_output):
    """text / rodata / data / bss bytes from ``size -A`` output (sections summed by prefix)."""
    out = dict(text=0, rodata=0, data=0, bss=0)
    for line in size_output.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith(".") or not parts[1].isdigit():
            continue
        sec, n = parts[0], int(parts[1])
        for key in ("text", "rodata", "data", "bss"):
            if sec == f".{key}" or sec.startswith(f".{key}."):
                out[key] += n
                break
        else:
            if sec.startswith(".data.rel.ro"):  # pragma: no cover - PIC only
                out["rodata"] += n
    return out


def weight_symbol_bytes(nm_output, name):
    """Bytes of the weight arrays (``<name>_s<k>_w_*`` symbols) in ``nm -S`` output."""
    pat = re.compile(rf"^[0-9a-fA-F]+ ([0-9a-fA-F]+) \w {re.escape(name)}_s\d+_w_\w+$")
    total = 0
    for line in nm_output.splitlines():
        m = pat.match(line.strip())
        if m:
            total += int(m.group(1), 16)
    return total


class CModel:
    """An exported model compiled by the host C compiler, called through ctypes.

    The files that :func:`~eegbin.export.to_c` wrote are compiled with
    :data:`STRICT_CFLAGS` (so a warning fails the build) and
    ``-ffp-contract=off`` into a shared library in a private temporary
    directory. Calls are serialized (the generated code is not reentrant).

    Parameters
    ----------
    directory : str or path-like
        Directory holding ``<name>.h`` and ``<name>.c``.
    name : str
        The model's name given to ``to_c``.
    cc : str, default=None
        C compiler; None uses :func:`find_c_compiler`.
    opt : str, default="-O2"
        Optimization flag.

    Attributes
    ----------
    n_chans, n_times, n_classes : int
        From the header.
    n_steps : int
        Number of steps (:meth:`step` calls one).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklearn.svm import LinearSVC
    >>> from eegbin.export import CModel, to_c
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(40, 5).astype(np.float32), np.arange(40) % 3
    >>> clf = LinearSVC().fit(X, y)
    >>> d = tempfile.mkdtemp()
    >>> _ = to_c(clf, d, "tiny")
    >>> model = CModel(d, "tiny")      # compiles with the host C compiler
    >>> bool((model.predict(X) == clf.predict(X)).all())
    True
    >>> model.scores(X).shape
    (40, 3)
    """

    def __init__(self, directory, name, *, cc=None, opt="-O2"):
        from ._cgen import check_text

        cc = None if cc is None else check_text(cc, "cc")
        opt = check_text(opt, "opt")
        header, sources = model_files(directory, name)
        with open(header, encoding="ascii") as fh:
            self._info = parse_header(fh.read(), name)
        self.name = name
        self.n_chans = self._info["n_chans"]
        self.n_times = self._info["n_times"]
        self.n_classes = self._info["n_classes"]
        self.n_steps = len(self._info["steps"])
        self.cc = cc or find_c_compiler()
        if self.cc is None:
            raise RuntimeError("no C compiler found (set $CC or install gcc/clang)")
        self._sources = sources
        self._include = os.path.dirname(header)
        self._opt = opt
        self._dir = tempfile.mkdtemp(prefix=f"eegbin-{name}-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)
        lib = os.path.join(self._dir, f"lib{name}.so")
        _run([self.cc, *STRICT_CFLAGS, *_FP_FLAGS, opt, "-fPIC", "-shared", "-I", self._include,
              "-o", lib, *sources, "-lm"], f"compiling {name}")
        self._lib = ctypes.CDLL(lib)
        self._lock = threading.Lock()
        fp = ctypes.POINTER(ctypes.c_float)
        self._predict = getattr(self._lib, f"{name}_predict")
        self._predict.argtypes, self._predict.restype = [fp], ctypes.c_int
        self._scores = getattr(self._lib, f"{name}_scores")
        self._scores.argtypes, self._scores.restype = [fp, fp], None
        self._steps = []
        for s in self._info["steps"]:
            fn = getattr(self._lib, f"{name}_step{s['index']}")
            fn.argtypes = [ctypes.POINTER(_CT[s["in_ctype"]]), ctypes.POINTER(_CT[s["out_ctype"]])]
            fn.restype = ctypes.c_int if s["classifier"] else None
            self._steps.append(fn)

    # -- calls ----------------------------------------------------------------------
    def _trials(self, X):
        X = check_real_dtype(np.asarray(X), "X")  # complex: ValueError, other kinds: TypeError (DESIGN.md)
        feat = self._info["n_features"]
        if feat is not None and X.ndim == 2:
            X = X[:, None, :]
        if X.ndim != 3 or X.shape[1:] != (self.n_chans, self.n_times):
            raise ValueError(
                f"X must have shape (n_trials, {self.n_chans}, {self.n_times})"
                + (f" or (n_trials, {feat})" if feat is not None else "") + f", got {X.shape}"
            )
        if not np.isfinite(X).all():
            raise ValueError("X must be finite (NaN or Inf found)")
        return np.ascontiguousarray(X, dtype=np.float32)

    def predict(self, X):
        """Class indices (into the estimator's ``classes_``) of the trials ``X``.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_chans, n_times)
            Converted to float32, as the C code reads it. A model exported from
            a classifier on features takes (n_trials, n_features).

        Returns
        -------
        ndarray of int64, shape (n_trials,)
        """
        X = self._trials(X)
        out = np.empty(len(X), dtype=np.int64)
        fp = ctypes.POINTER(ctypes.c_float)
        with self._lock:
            for i in range(len(X)):
                out[i] = self._predict(X[i].ctypes.data_as(fp))
        return out

    def scores(self, X):
        """Per-class scores (float32) whose argmax ``predict`` returns.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_chans, n_times)
            As in :meth:`predict`.

        Returns
        -------
        ndarray of float32, shape (n_trials, n_classes)
        """
        X = self._trials(X)
        out = np.empty((len(X), self.n_classes), dtype=np.float32)
        fp = ctypes.POINTER(ctypes.c_float)
        with self._lock:
            for i in range(len(X)):
                self._scores(X[i].ctypes.data_as(fp), out[i].ctypes.data_as(fp))
        return out

    def step(self, k, inputs):
        """Run step ``k`` alone on a batch of its inputs.

        Parameters
        ----------
        k : int
            Step index (0 reads trials).
        inputs : array-like of shape (n, in_len)
            What step ``k`` reads: trials (flattened or not) for step 0, else the
            outputs of step ``k - 1`` (float32/float64 features or uint64 words).

        Returns
        -------
        outputs : ndarray of shape (n, out_len)
            For a transformer step. For the classifier step, the tuple
            ``(predictions, scores)``.
        """
        if not isinstance(k, (int, np.integer)) or not 0 <= k < self.n_steps:
            raise ValueError(f"k must be a step index in [0, {self.n_steps - 1}], got {k!r}")
        s = self._info["steps"][k]
        dt = _NP[s["in_ctype"]]
        X = np.asarray(inputs)
        X = X.reshape(len(X), -1)
        if X.shape[1] != s["in_len"]:
            raise ValueError(f"step {k} reads {s['in_len']} values per row, got {X.shape[1]}")
        if dt is np.uint64 and X.dtype != np.uint64:
            raise TypeError(f"step {k} reads packed uint64 words, got dtype {X.dtype}")
        check_real_dtype(X, "inputs")
        X = np.ascontiguousarray(X, dtype=dt)
        out = np.empty((len(X), s["out_len"]), dtype=_NP[s["out_ctype"]])
        pred = np.empty(len(X), dtype=np.int64)
        pin, pout = ctypes.POINTER(_CT[s["in_ctype"]]), ctypes.POINTER(_CT[s["out_ctype"]])
        fn = self._steps[k]
        with self._lock:
            for i in range(len(X)):
                r = fn(X[i].ctypes.data_as(pin), out[i].ctypes.data_as(pout))
                if s["classifier"]:
                    pred[i] = r
        return (pred, out) if s["classifier"] else out

    # -- size -----------------------------------------------------------------------
    def size(self):
        """Bytes of the compiled model object (host compiler, same flags, no -fPIC).

        Returns
        -------
        dict
            ``text``, ``rodata``, ``data``, ``bss`` (sections of the object file,
            from binutils ``size -A``), ``weights`` (the bytes of the weight
            arrays, from ``nm -S``: the model's parameters at the width they are
            stored) and ``header_weights`` / ``header_work`` (what the header
            declares for the weights and the static work buffers).
        """
        for tool in ("size", "nm"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"binutils '{tool}' not found: needed to measure the object size")
        obj = os.path.join(self._dir, f"{self.name}.o")
        if not os.path.exists(obj):
            if len(self._sources) == 1:
                _run([self.cc, *STRICT_CFLAGS, *_FP_FLAGS, self._opt, "-I", self._include, "-c",
                      "-o", obj, self._sources[0]], f"compiling {self.name}")
            else:  # pragma: no cover - to_c writes one source file today
                objs = []
                for i, src in enumerate(self._sources):
                    o = os.path.join(self._dir, f"part{i}.o")
                    _run([self.cc, *STRICT_CFLAGS, *_FP_FLAGS, self._opt, "-I", self._include, "-c",
                          "-o", o, src], f"compiling {self.name}")
                    objs.append(o)
                _run(["ld", "-r", "-o", obj, *objs], "linking")
        out = section_sizes(_run(["size", "-A", obj], "size"))
        out["weights"] = weight_symbol_bytes(_run(["nm", "-S", obj], "nm"), self.name)
        out["header_weights"] = self._info["weight_bytes"]
        out["header_work"] = self._info["work_bytes"]
        return out
