"""Transitional re-export for ``pq.py``, whose owner moves its imports.

The checks live in :mod:`eegbin.kernels.checks`, the tag mixin in :mod:`eegbin.base`.
"""

from ..base import Float64OutputMixin  # noqa: F401
from ..kernels.checks import check_int, check_real_array  # noqa: F401
