"""Memory and operation accounting shared by every eegbin estimator.

Every fitted estimator that holds a model implements ``footprint(float_bits=32)``
and returns a :class:`Footprint`: the number of stored parameters and their bit
width (so bytes), and the operations one inference costs, split into real
multiply-accumulates (``macs``; additions and subtractions of the bipolar
projection count as one each, as in Table II of Hersche et al. 2020) and binary
operations (``bit_ops``; XOR+POPCOUNT over single bits, reported as word
operations with the convention 64 bit operations = one word op).

:func:`footprint` sums the steps of a :class:`~sklearn.pipeline.Pipeline` into a
table like Table II of Hersche et al. 2020.

References
----------
.. [1] M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for Motor-Imagery
   Brain-Computer Interface Classification", IEEE JETCAS, 2020, Table II.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field, replace

import numpy as np

from .kernels.checks import check_int

__all__ = [
    "Footprint",
    "footprint",
    "WORD_BITS",
    "CONVENTIONS",
    "HERSCHE2020_BITS_PER_MAC",
    "check_convention",
    "apply_convention",
]

#: bits per machine word in the binary-operation convention (64 bit ops = 1 word op)
WORD_BITS = 64

#: counting conventions: eegbin's own (default) and Table II of Hersche et al. 2020
CONVENTIONS = ("eegbin", "hersche2020")

#: Hamming-distance elements per MAC in Hersche et al. 2020, Sec. V-D / Table II
HERSCHE2020_BITS_PER_MAC = 32


@dataclass(frozen=True)
class Footprint:
    """Stored parameters and operations per inference of a model or model part.

    A footprint is a tree: its own parameters and operations plus those of its
    ``parts``. Totals (``total_*`` properties, ``n_bytes``, ``kB``) always include
    the parts, so a pipeline's footprint is the footprint whose parts are its steps.

    Parameters
    ----------
    name : str
        What is counted (a layer, a step, a pipeline).
    n_params : int or None, default=0
        Number of stored parameters of this node itself (excluding ``parts``);
        ``None`` when it is not known.
    bits_per_param : float, default=32
        Bit width of each of those parameters (1 for binary, 16 for float16, ...).
    macs : int or None, default=0
        Real-valued multiply-accumulates per inference of this node itself.
        Additions/subtractions (e.g. a bipolar projection) count as one each.
        ``None`` when they are not known.
    bit_ops : int or None, default=0
        Binary operations (one XOR and its POPCOUNT contribution on one bit) per
        inference of this node itself; ``word_ops`` converts with 64 bits per word.
        ``None`` when they are not known.
    parts : tuple of Footprint, default=()
        Sub-components (layers, pipeline steps, stages).
    note : str, default=""
        Free text (e.g. "regenerated from a 32-bit seed"); :meth:`table` shows it.

    Notes
    -----
    Unknown is never zero: a total (``total_macs``, ``kB``, ...) is ``None`` as soon
    as this node or one of its parts does not know its share, and :meth:`table`
    prints "unknown".

    Examples
    --------
    >>> from eegbin import Footprint
    >>> svm = Footprint("Linear SVM", n_params=4 * 10879 + 4, bits_per_param=16,
    ...                 macs=4 * 10879)
    >>> round(svm.kB, 2)
    87.04
    >>> seed = Footprint("Projection", n_params=1, bits_per_param=32)
    >>> seed.n_bytes
    4.0

    References
    ----------
    Hersche et al. 2020, Table II (memory footprint and MACs per inference).
    """

    name: str
    n_params: int = 0
    bits_per_param: float = 32
    macs: int = 0
    bit_ops: int = 0
    parts: tuple = field(default_factory=tuple)
    note: str = ""

    def __post_init__(self):
        for attr in ("n_params", "macs", "bit_ops"):
            value = getattr(self, attr)
            if value is None:  # unknown
                continue
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, np.integer)
            ):
                raise TypeError(
                    f"Footprint.{attr} must be an integer or None (unknown), got "
                    f"{type(value).__name__} {value!r}"
                )
            if value < 0:
                raise ValueError(f"Footprint.{attr} must be >= 0, got {value}")
            object.__setattr__(self, attr, int(value))
        if not np.isfinite(self.bits_per_param) or self.bits_per_param <= 0:
            raise ValueError(
                f"Footprint.bits_per_param must be a positive number, got {self.bits_per_param!r}"
            )
        parts = tuple(self.parts)
        for p in parts:
            if not isinstance(p, Footprint):
                raise TypeError(f"Footprint.parts must hold Footprint objects, got {type(p).__name__}")
        object.__setattr__(self, "parts", parts)

    # -- totals (None: unknown) ---------------------------------------------------
    @staticmethod
    def _sum(own, part_totals):
        """``own + sum(part_totals)``, or None when any of them is unknown."""
        part_totals = list(part_totals)
        if own is None or any(v is None for v in part_totals):
            return None
        return own + sum(part_totals)

    @property
    def memory_bits(self) -> float | None:
        """Stored bits of this node and all its parts (None: unknown)."""
        own = None if self.n_params is None else self.n_params * self.bits_per_param
        return self._sum(own, (p.memory_bits for p in self.parts))

    @property
    def n_bytes(self) -> float | None:
        """Stored bytes (``memory_bits / 8``; None: unknown)."""
        bits = self.memory_bits
        return None if bits is None else bits / 8

    @property
    def kB(self) -> float | None:
        """Stored kilobytes, 1 kB = 1000 bytes as in the papers' tables (None: unknown)."""
        n_bytes = self.n_bytes
        return None if n_bytes is None else n_bytes / 1000

    @property
    def total_params(self) -> int | None:
        """Stored parameters of this node and all its parts (None: unknown)."""
        return self._sum(self.n_params, (p.total_params for p in self.parts))

    @property
    def total_macs(self) -> int | None:
        """Real operations per inference of this node and all its parts (None: unknown)."""
        return self._sum(self.macs, (p.total_macs for p in self.parts))

    @property
    def total_bit_ops(self) -> int | None:
        """Binary operations per inference of this node and all its parts (None: unknown)."""
        return self._sum(self.bit_ops, (p.total_bit_ops for p in self.parts))

    @property
    def word_ops(self) -> int | None:
        """``total_bit_ops`` in 64-bit word operations (XOR + POPCOUNT of one word; None: unknown)."""
        bit_ops = self.total_bit_ops
        return None if bit_ops is None else math.ceil(bit_ops / WORD_BITS)

    # -- composition and display ---------------------------------------------
    def with_parts(self, *parts: Footprint) -> Footprint:
        """Return a copy with ``parts`` appended."""
        return replace(self, parts=self.parts + tuple(parts))

    def bit_ops_as_macs(self, bits_per_mac: int) -> Footprint:
        """Copy in which every node's bit operations are counted as MACs.

        Each node's ``bit_ops`` become ``ceil(bit_ops / bits_per_mac)`` MACs added
        to its ``macs`` (and ``bit_ops`` becomes 0); the tree and the stored
        parameters are unchanged. Hersche et al. 2020 count the Hamming distance of
        32 elements (XOR+POPCOUNT) as one MAC: ``bits_per_mac=32``.

        Parameters
        ----------
        bits_per_mac : int
            Binary operations per MAC (> 0).

        Returns
        -------
        Footprint
            A copy; the tree and the stored parameters are unchanged.

        Examples
        --------
        >>> from eegbin import Footprint
        >>> svm = Footprint("Classification", n_params=400_000, bits_per_param=1,
        ...                 bit_ops=400_000)
        >>> svm.word_ops, svm.bit_ops_as_macs(32).total_macs   # Table II: 12 500
        (6250, 12500)
        """
        if (isinstance(bits_per_mac, bool) or not isinstance(bits_per_mac, (int, np.integer))
                or bits_per_mac <= 0):
            raise ValueError(f"bits_per_mac must be a positive integer, got {bits_per_mac!r}")
        return replace(
            self,
            macs=self.macs + math.ceil(self.bit_ops / bits_per_mac),
            bit_ops=0,
            parts=tuple(p.bit_ops_as_macs(bits_per_mac) for p in self.parts),
        )

    def rows(self, depth: int = 0):
        """Yield ``(depth, footprint)`` for this node and its parts, depth first."""
        yield depth, self
        for p in self.parts:
            yield from p.rows(depth + 1)

    def to_records(self) -> list:
        """Flat list of dicts, one per node, for a :class:`pandas.DataFrame`."""
        return [
            {
                "name": "  " * d + f.name,
                "depth": d,
                "params": f.total_params,
                "memory_kB": f.kB,
                "macs": f.total_macs,
                "word_ops": f.word_ops,
                "note": f.note,
            }
            for d, f in self.rows()
        ]

    def table(self) -> str:
        """Plain-text table like Table II of Hersche et al. 2020, with the notes.

        Quantities that are not known read "unknown", never 0.
        """
        recs = self.to_records()
        width = max(len("component"), *(len(r["name"]) for r in recs))

        def cell(value, fmt, w):
            return f"{'unknown':>{w}}" if value is None else f"{value:>{w}{fmt}}"

        lines = [
            f"{'component':<{width}}  {'params':>10}  {'memory [kB]':>12}  "
            f"{'MAC/inf.':>14}  {'word ops/inf.':>14}  note",
        ]
        lines.append("-" * (len(lines[0]) + max((len(r["note"]) for r in recs), default=0)))
        for r in recs:
            lines.append(
                f"{r['name']:<{width}}  {cell(r['params'], ',d', 10)}  "
                f"{cell(r['memory_kB'], '.2f', 12)}  {cell(r['macs'], ',d', 14)}  "
                f"{cell(r['word_ops'], ',d', 14)}  {r['note']}".rstrip()
            )
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - delegated to table()
        return self.table()


# ---------------------------------------------------------------------------
# counting conventions
# ---------------------------------------------------------------------------


def check_convention(convention):
    """Return ``convention`` if it is one of :data:`CONVENTIONS`, else raise ValueError.

    Parameters
    ----------
    convention : str

    Returns
    -------
    str
        ``convention``, unchanged.

    Examples
    --------
    >>> from eegbin.footprint import check_convention
    >>> check_convention("hersche2020")
    'hersche2020'
    """
    if not isinstance(convention, str) or convention not in CONVENTIONS:
        raise ValueError(
            f"convention must be one of {', '.join(map(repr, CONVENTIONS))}, got {convention!r}"
        )
    return convention


def apply_convention(fp, convention):
    """Apply the rules a convention sets for every step to a footprint.

    ``"eegbin"``: unchanged (bit operations stay bit operations, reported as
    64-bit word operations). ``"hersche2020"``: bit operations are counted as MACs
    of :data:`HERSCHE2020_BITS_PER_MAC` (32) elements, as Table II of Hersche et al.
    2020 counts Hamming distances. Step-specific differences (filter sections,
    whitening, logarithm, memory) are the steps' own ``footprint(convention=...)``.
    Applying it twice changes nothing.

    Parameters
    ----------
    fp : Footprint
    convention : {"eegbin", "hersche2020"}

    Returns
    -------
    Footprint
        ``fp`` itself for ``"eegbin"``; a copy with bit operations as MACs for ``"hersche2020"``.

    Examples
    --------
    >>> from eegbin import Footprint
    >>> from eegbin.footprint import apply_convention
    >>> keys = Footprint("key memory", n_params=32 * 256, bits_per_param=1, bit_ops=32 * 256)
    >>> apply_convention(keys, "hersche2020").total_macs, apply_convention(keys, "eegbin").word_ops
    (256, 128)

    References
    ----------
    Hersche et al. 2020, Sec. V-D ("we count the computation of the Hamming distance
    of 32 vector elements as one MAC") and Table II.
    """
    if check_convention(convention) == "hersche2020":
        return fp.bit_ops_as_macs(HERSCHE2020_BITS_PER_MAC)
    return fp


# ---------------------------------------------------------------------------
# eegbin.footprint(estimator_or_pipeline)
# ---------------------------------------------------------------------------


def _call_footprint(est, float_bits, convention):
    method = est.footprint
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        params = {}
    kwargs = {}
    if "float_bits" in params:
        kwargs["float_bits"] = float_bits
    if "convention" in params:
        kwargs["convention"] = convention
    return method(**kwargs)


def _linear_model_footprint(est, name, float_bits):
    coef = np.asarray(est.coef_)
    intercept = np.atleast_1d(np.asarray(getattr(est, "intercept_", np.zeros(0))))
    return Footprint(
        name,
        n_params=int(coef.size + intercept.size),
        bits_per_param=float_bits,
        macs=int(coef.size),
    )


def _adapted_footprint(est, name, float_bits):
    """Footprints for third-party estimators that do not implement the protocol.

    What is not known is ``None`` (shown as "unknown"), never 0.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    if hasattr(est, "coef_"):
        return _linear_model_footprint(est, name, float_bits)
    cls = type(est).__name__
    if cls == "StandardScaler":
        n = int(est.n_features_in_)
        stored = sum(getattr(est, a) is not None for a in ("mean_", "scale_")) * n
        return Footprint(name, n_params=stored, bits_per_param=float_bits, macs=n)
    if cls == "Covariances" and type(est).__module__.startswith("pyriemann"):
        return Footprint(
            name, n_params=0, bits_per_param=float_bits, macs=None,
            note="pyRiemann Covariances: stores nothing; MACs not counted (they depend on the input size)",
        )
    if cls == "CSP" and hasattr(est, "filters_"):  # pyriemann or mne CSP
        filters = np.asarray(est.filters_)
        n_comp = int(getattr(est, "nfilter", getattr(est, "n_components", filters.shape[0])))
        n_comp = min(n_comp, filters.shape[0])
        n_ch = filters.shape[1]
        return Footprint(
            name, n_params=n_comp * n_ch, bits_per_param=float_bits, macs=None,
            note="spatial filters; MACs not counted",
        )
    if hasattr(est, "reference_"):  # pyriemann TangentSpace
        ref = np.asarray(est.reference_)
        n = ref.shape[-1]
        return Footprint(
            name, n_params=n * (n + 1) // 2, bits_per_param=float_bits,
            macs=2 * n**3 + int(26 * n**3 / 3),
            note="whitening + matrix logarithm (Householder 8n^3/3 + QR 6n^3)",
        )
    if hasattr(est, "covmeans_"):  # pyriemann MDM and friends
        cm = np.asarray(est.covmeans_)
        n = cm.shape[-1]
        return Footprint(
            name, n_params=cm.shape[0] * n * (n + 1) // 2, bits_per_param=float_bits, macs=None,
            note=f"{cls}: class means; MACs not counted",
        )
    if not hasattr(est, "__dict__") or not any(k.endswith("_") for k in vars(est)):
        return Footprint(
            name, n_params=0, macs=None, bit_ops=None,
            note=f"{cls}: stores nothing; operations unknown (no footprint() method)",
        )
    return Footprint(
        name, n_params=None, macs=None, bit_ops=None,
        note=f"{cls}: footprint unknown (no footprint() method)",
    )


def footprint(obj, *, float_bits: int = 32, convention: str = "eegbin",
              name: str | None = None) -> Footprint:
    """Footprint of a fitted eegbin estimator, third-party estimator or pipeline.

    Parameters
    ----------
    obj : estimator or :class:`~sklearn.pipeline.Pipeline`
        A fitted estimator. eegbin estimators report themselves through their
        ``footprint`` method; scikit-learn linear models, ``StandardScaler`` and
        pyRiemann's ``Covariances``/``CSP``/``TangentSpace``/``MDM`` are adapted
        (what they do not tell, e.g. the MACs of ``CSP``, is ``None``); anything
        else appears as a row whose quantities are ``None``, shown as "unknown"
        by :meth:`Footprint.table`, never as 0.
    float_bits : int, default=32
        Bit width assumed for real-valued stored parameters (16 reproduces the
        float16 convention of Hersche et al. 2020, Table I/II).
    convention : {"eegbin", "hersche2020"}, default="eegbin"
        Counting convention, passed to every step whose ``footprint`` takes a
        ``convention``; then :func:`apply_convention` is applied to every step.
        ``"hersche2020"`` reproduces Table II of Hersche et al. 2020 (one biquad
        per band, whitening as ``n^2/2`` values and ``2 n^2`` MACs, the matrix
        logarithm as its eigendecomposition only, 32 Hamming elements per MAC,
        the value memory of MI-MANN not counted); see the user guide's
        footprint page for both side by side.
    name : str, optional
        Name of the returned node (default: the class name, or "Pipeline").

    Returns
    -------
    Footprint
        For a pipeline, a node whose ``parts`` are its steps in order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import LinearSVC
    >>> import eegbin
    >>> X, y = np.random.RandomState(0).randn(40, 10), np.arange(40) % 4
    >>> pipe = make_pipeline(StandardScaler(), LinearSVC()).fit(X, y)
    >>> fp = eegbin.footprint(pipe, float_bits=16)
    >>> fp.total_params          # 2 * 10 scaler + 4 * 10 weights + 4 biases
    64
    >>> fp.total_macs
    50

    Table II of Hersche et al. 2020, "Riemannian+SVM binarized" (d = 100 000):

    >>> from eegbin import (BinarizedLinearSVC, FilterBankRiemann,
    ...                     SparseBipolarRandomProjection)
    >>> X, y = np.random.RandomState(0).randn(8, 22, 875), np.arange(8) % 4
    >>> pipe = make_pipeline(FilterBankRiemann(250.0),
    ...                      SparseBipolarRandomProjection(100_000, random_state=0),
    ...                      BinarizedLinearSVC()).fit(X, y)
    >>> fp = eegbin.footprint(pipe, float_bits=16, convention="hersche2020")
    >>> [(round(p.kB, 3), p.total_macs) for p in fp.parts]
    [(21.242, 17667654), (0.004, 108790000), (50.0, 12500)]

    References
    ----------
    Hersche et al. 2020, Table II.
    """
    float_bits = check_int(float_bits, "float_bits", 1)
    check_convention(convention)
    from sklearn.pipeline import Pipeline

    if isinstance(obj, Pipeline):
        parts = tuple(
            footprint(step, float_bits=float_bits, convention=convention, name=step_name)
            for step_name, step in obj.steps
            if step is not None and step != "passthrough"
        )
        return Footprint(name or "Pipeline", parts=parts)
    if hasattr(obj, "footprint") and callable(obj.footprint):
        fp = _call_footprint(obj, float_bits, convention)
        if not isinstance(fp, Footprint):
            raise TypeError(
                f"{type(obj).__name__}.footprint() must return a Footprint, got {type(fp).__name__}"
            )
        fp = apply_convention(fp, convention)
        return replace(fp, name=name) if name else fp
    if not hasattr(obj, "get_params"):
        raise TypeError(
            f"footprint() expects a fitted estimator or Pipeline, got {type(obj).__name__}"
        )
    return apply_convention(_adapted_footprint(obj, name or type(obj).__name__, float_bits),
                            convention)
