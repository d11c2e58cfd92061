"""Array helpers shared by the kernels' Python wrappers (plain numpy, no eegbin imports)."""

import numpy as np

__all__ = []


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
