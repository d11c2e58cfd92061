"""eegbin.features: signal -> real features (filter bank, covariance, tangent space)."""

from ._filterbank import design_filterbank, filterbank_covariances, hersche_bands
from ._riemann import (
    covariances,
    expm,
    invsqrtm,
    logm,
    mean_covariance,
    mean_euclid,
    mean_logeuclid,
    mean_riemann,
    sqrtm,
    tangent_space,
    upper,
)
from .riemann import FilterBankRiemann

__all__ = [
    "FilterBankRiemann",
    "covariances",
    "design_filterbank",
    "expm",
    "filterbank_covariances",
    "hersche_bands",
    "invsqrtm",
    "logm",
    "mean_covariance",
    "mean_euclid",
    "mean_logeuclid",
    "mean_riemann",
    "sqrtm",
    "tangent_space",
    "upper",
]
