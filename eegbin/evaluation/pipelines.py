"""Registry of named reference pipelines for ``eegbin evaluate``.

Each entry is a factory returning a fresh, unfitted scikit-learn estimator (usually
a :class:`~sklearn.pipeline.Pipeline`) that takes MOABB motor-imagery epochs of shape
(n_trials, n_channels, n_times). Register new pipelines with
:func:`register_pipeline`; ``eegbin evaluate --pipelines NAME ...`` selects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["register_pipeline", "get_pipeline", "list_pipelines", "PipelineSpec"]


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
        Name used on the command line.
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
    >>> from eegbin.evaluation.pipelines import register_pipeline
    >>> @register_pipeline("my pipeline", description="example", default=False)
    ... def _make(sfreq):
    ...     from pyriemann.estimation import Covariances
    ...     from pyriemann.classification import MDM
    ...     return make_pipeline(Covariances("oas"), MDM())
    """

    def decorator(factory):
        if name in _REGISTRY:
            raise ValueError(f"a pipeline named {name!r} is already registered")
        _REGISTRY[name] = PipelineSpec(name, factory, description, reference, float_bits, default)
        return factory

    return decorator


def list_pipelines(default_only=False):
    """Names of the registered pipelines, in registration order."""
    return [n for n, s in _REGISTRY.items() if s.default or not default_only]


def get_pipeline(name, sfreq=250.0):
    """A fresh unfitted pipeline registered under ``name``."""
    try:
        spec = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown pipeline {name!r}; registered: {', '.join(_REGISTRY) or '(none)'}"
        ) from None
    return spec.factory(sfreq)


def get_spec(name):
    """The :class:`PipelineSpec` registered under ``name``."""
    get_pipeline  # keep name lookup errors in one place
    if name not in _REGISTRY:
        raise ValueError(f"unknown pipeline {name!r}; registered: {', '.join(_REGISTRY) or '(none)'}")
    return _REGISTRY[name]


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
