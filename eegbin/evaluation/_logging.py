"""Keep libraries' log lines off the terminal for the duration of a block."""

from __future__ import annotations

import contextlib
import logging


@contextlib.contextmanager
def quiet(*names, verbose=False):
    """Raise the named loggers to ERROR inside the block (unless ``verbose``), then restore them."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
