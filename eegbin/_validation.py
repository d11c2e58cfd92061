"""Transitional re-export of :mod:`eegbin.kernels.checks`, the one module for input checks.

``nn/``, ``evaluation/`` and ``train/`` still import ``all_finite`` and
``check_epochs`` from here; their owners move those imports to
``eegbin.kernels.checks``, and then this module goes.
"""

from .kernels.checks import all_finite, check_epochs  # noqa: F401
