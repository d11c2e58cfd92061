"""Registry of named reference pipelines for ``eegbin evaluate``.

Each entry is a factory returning a fresh, unfitted scikit-learn estimator (usually
a :class:`~sklearn.pipeline.Pipeline`) that takes MOABB motor-imagery epochs of shape
(n_trials, n_channels, n_times). Register new pipelines with
:func:`register_pipeline`; ``eegbin evaluate --pipelines NAME ...`` selects them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..kernels.checks import check_int

__all__ = [
    "register_pipeline", "unregister_pipeline", "get_pipeline", "list_pipelines", "get_spec",
    "PipelineSpec",
]


@dataclass(frozen=True)
class PipelineSpec:
    """A registered pipeline: its name, factory, description, paper and float bits."""

    name: str
    factory: Callable
    description: str = ""
    reference: str = ""
    float_bits: int = 32
    default: bool = True


_REGISTRY: dict[str, PipelineSpec] = {}


def register_pipeline(name, *, description="", reference="", float_bits=32, default=True):
    """Decorator registering ``factory(sfreq)`` under ``name``.

    Parameters
    ----------
    name : str
        Name used on the command line and in the results. MOABB's
        ``summary_plot`` shortens names longer than 10 characters to their first
        word, so keep that first word unique (e.g. no spaces).
    description : str
        One line shown by ``eegbin evaluate --list``.
    reference : str
        Paper (short name and table/section) the pipeline reproduces.
    float_bits : int, default=32
        Bit width of real-valued parameters used for its footprint (16 for the
        float16 convention of Hersche et al. 2020).
    default : bool, default=True
        Whether ``eegbin evaluate`` without ``--pipelines`` runs it.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from eegbin.evaluation.pipelines import (
    ...     list_pipelines, register_pipeline, unregister_pipeline)
    >>> @register_pipeline("Cov+MDM", description="example", default=False)
    ... def _make(sfreq):
    ...     from pyriemann.estimation import Covariances
    ...     from pyriemann.classification import MDM
    ...     return make_pipeline(Covariances("oas"), MDM())
    >>> "Cov+MDM" in list_pipelines()
    True
    >>> unregister_pipeline("Cov+MDM")
    """

    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not 1 <= check_int(float_bits, "float_bits") <= 64:
        raise ValueError(
            f"float_bits must be an integer bit width in 1..64 (16 or 32 for floats), got {float_bits!r}"
        )
    if not isinstance(default, bool):
        raise TypeError(f"default must be True or False, got {default!r}")

    def decorator(factory):
        if not callable(factory):
            raise TypeError(f"register_pipeline({name!r}) decorates a factory(sfreq), got {factory!r}")
        if name in _REGISTRY:
            raise ValueError(f"a pipeline named {name!r} is already registered")
        _REGISTRY[name] = PipelineSpec(name, factory, description, reference, float_bits, default)
        return factory

    return decorator


def _unknown(name):
    return ValueError(f"unknown pipeline {name!r}; registered: {', '.join(_REGISTRY) or '(none)'}")


def unregister_pipeline(name):
    """Remove the pipeline registered under ``name`` (e.g. one registered in a notebook)."""
    if _REGISTRY.pop(name, None) is None:
        raise _unknown(name)


def list_pipelines(default_only=False):
    """Names of the registered pipelines, in registration order."""
    return [n for n, s in _REGISTRY.items() if s.default or not default_only]


def get_spec(name):
    """The :class:`PipelineSpec` registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise _unknown(name) from None


def get_pipeline(name, sfreq=250.0):
    """A fresh unfitted pipeline registered under ``name``."""
    return get_spec(name).factory(sfreq)


# ---------------------------------------------------------------------------
# Baselines (issue 3): what BCI users know, at float32
# ---------------------------------------------------------------------------


@register_pipeline(
    "CSP+LDA",
    description="8-30 Hz band-pass, OAS covariances, 6 CSP filters (log-variance), shrinkage LDA",
    reference="Ramoser et al. 2000; MOABB's standard CSP+LDA baseline",
)
def _csp_lda(sfreq):
    from pyriemann.estimation import Covariances
    from pyriemann.spatialfilters import CSP
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import Pipeline

    from ._filters import _BandPass

    return Pipeline([
        ("bandpass", _BandPass(8.0, 30.0, sfreq)),
        ("covariances", Covariances("oas")),
        ("csp", CSP(nfilter=6, log=True)),
        ("lda", LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")),
    ])


def _tangent_space_pipeline(sfreq, name, classifier):
    """8-30 Hz band-pass, OAS covariances, Riemannian tangent space, then ``classifier``."""
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.pipeline import Pipeline

    from ._filters import _BandPass

    return Pipeline([
        ("bandpass", _BandPass(8.0, 30.0, sfreq)),
        ("covariances", Covariances("oas")),
        ("tangentspace", TangentSpace(metric="riemann")),
        (name, classifier),
    ])


@register_pipeline(
    "TS+SVM",
    description="8-30 Hz band-pass, OAS covariances, Riemannian tangent space, linear SVM (C=0.1)",
    reference="Barachant et al. 2012 (tangent space); Hersche 2020 Table I SVM float (1 band)",
)
def _ts_svm(sfreq):
    from sklearn.svm import LinearSVC

    return _tangent_space_pipeline(sfreq, "svm", LinearSVC(C=0.1))


@register_pipeline(
    "TS+LR",
    description="8-30 Hz band-pass, OAS covariances, Riemannian tangent space, logistic regression",
    reference="Barachant et al. 2012; MOABB's standard TS+LR baseline",
)
def _ts_lr(sfreq):
    from sklearn.linear_model import LogisticRegression

    return _tangent_space_pipeline(sfreq, "lr", LogisticRegression(C=1.0, max_iter=1000))


# --- Riemannian baselines (Hersche et al. 2020, Table I/II) --------------------------


@register_pipeline(
    "Riemann+SVM",
    description="43-band Riemannian tangent-space features (10 879 for 22 ch) + l2 linear SVM, C=0.1",
    reference="Hersche 2020, Sec. III-A, Table I/II (Riemannian+SVM)",
    float_bits=16,
)
def _riemann_svm(sfreq):
    # As the original code (MultiScale-BCI/IV-2a, main_riemannian.py): no feature
    # scaling (tangent vectors at the training mean are already whitened and
    # comparable across bands), LinearSVC(C=0.1, hinge loss, l2 penalty, tol=1e-5).
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from ..features import FilterBankRiemann

    return make_pipeline(
        FilterBankRiemann(sfreq),
        LinearSVC(C=0.1, loss="hinge", penalty="l2", tol=1e-5, max_iter=10000, random_state=1),
    )


@register_pipeline(
    "Riemann+LDA",
    description="43-band Riemannian tangent-space features + shrinkage LDA (lsqr, Ledoit-Wolf)",
    reference="Hersche 2020, Sec. II (Riemannian features + regularized LDA)",
    float_bits=16,
)
def _riemann_lda(sfreq):
    # ShrinkageLDA is scikit-learn's LinearDiscriminantAnalysis(solver="lsqr",
    # shrinkage="auto") to ~1e-11 (tested) without forming the 10 879 x 10 879
    # covariance, so a fit takes seconds instead of minutes and a GB.
    from sklearn.pipeline import make_pipeline

    from ..binary import ShrinkageLDA
    from ..features import FilterBankRiemann

    return make_pipeline(FilterBankRiemann(sfreq), ShrinkageLDA())


# ---------------------------------------------------------------------------
# Hamming-space pipelines of Hersche et al. 2020 (Table I, Fig. 7): issue 5
# ---------------------------------------------------------------------------

_HERSCHE2020 = "Hersche 2020, Table I / Fig. 7"


def _riemann(sfreq):
    from eegbin import FilterBankRiemann

    return FilterBankRiemann(sfreq)


@register_pipeline("Riemann+SVM-bin", reference=_HERSCHE2020, float_bits=16,
                   description="Riemannian features and SVM weights binarized by Heaviside, no projection")
def _riemann_svm_binarized(sfreq):
    from sklearn.pipeline import make_pipeline

    from eegbin import BinarizedLinearSVC, HeavisideBinarizer

    return make_pipeline(_riemann(sfreq), HeavisideBinarizer(output="bipolar"),
                         BinarizedLinearSVC(C=0.1, random_state=0))  # the float SVM's C (eq. 11-13)


@register_pipeline("Riemann+LDA-bin", reference=_HERSCHE2020, float_bits=16,
                   description="Riemannian features and shrinkage-LDA weights binarized by Heaviside")
def _riemann_lda_binarized(sfreq):
    from sklearn.pipeline import make_pipeline

    from eegbin import BinarizedLDA, HeavisideBinarizer

    return make_pipeline(_riemann(sfreq), HeavisideBinarizer(output="bipolar"), BinarizedLDA())


def _register_rp_svm(d, default):
    @register_pipeline(f"Riemann+RP+SVM-bin(d={d})", reference=_HERSCHE2020, float_bits=16,
                       default=default,
                       description=f"sparse bipolar random projection to {d} bits + binarized linear SVM")
    def _factory(sfreq):
        from sklearn.pipeline import make_pipeline

        from eegbin import BinarizedLinearSVC, SparseBipolarRandomProjection

        return make_pipeline(_riemann(sfreq), SparseBipolarRandomProjection(d, output="packed", random_state=0),
                             BinarizedLinearSVC(C=0.1, random_state=0))

    return _factory


# d = 50 000 and 100 000 cost ~2-5 min per subject on 2 cores (projection of every
# trial, a linear SVM on 100 000-dimensional codes): opt-in (`--pipelines all` or by
# name) so that `eegbin evaluate` without arguments finishes in a few minutes.
for _d, _default in ((10879, True), (50000, False), (100000, False)):
    _register_rp_svm(_d, default=_default)


@register_pipeline("Riemann+RP+AM", reference=_HERSCHE2020 + " (RP+AM binarized, Hersche 2018)",
                   float_bits=16,
                   description="per-band random projection, XOR band keys, majority bundling, associative memory")
def _riemann_rp_am(sfreq):
    from sklearn.pipeline import make_pipeline

    from eegbin import AssociativeMemoryClassifier

    fbr = _riemann(sfreq)
    n_bands = 43 if fbr.bands == "hersche2018" else len(fbr.bands)
    return make_pipeline(fbr, AssociativeMemoryClassifier(n_components=10000, n_bands=n_bands, random_state=0))
