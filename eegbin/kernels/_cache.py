"""Where numba caches eegbin's compiled kernels: a per-user directory, never the package.

With ``cache=True`` numba writes its ``.nbi``/``.nbc`` files into the ``__pycache__``
folder beside the source whenever that folder is writable. For an installed eegbin that
is ``site-packages/eegbin/**/__pycache__``: files pip did not install, which survive
``pip uninstall`` and leave behind an ``eegbin`` folder that shadows a later editable
install of the same package.

This module puts one cache locator in front of numba's in-tree locator. It takes only
functions whose source file lies inside this eegbin package and caches them in numba's
per-user cache directory (``~/.cache/numba`` on Linux, ``$XDG_CACHE_HOME/numba`` when
set; the platform's user cache folder elsewhere), or in ``<tmp>/eegbin-numba-<user>``
when that directory cannot be written. ``NUMBA_CACHE_DIR`` still takes precedence
(numba's own locator for it stays first), and other packages' functions are left to
numba's usual locators.

The locator is chosen when ``@njit(cache=True)`` decorates a function, so
``eegbin/kernels/__init__.py`` imports this module before any jitted module.
"""

from __future__ import annotations

import getpass
import os
import tempfile

from numba.core import caching

__all__ = ["cache_directory"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# numba >= 0.61 names the classes without the leading underscore
_UserWideLocator = getattr(caching, "UserWideCacheLocator", None) or caching._UserWideCacheLocator
_CacheImpl = getattr(caching, "CacheImpl", None) or caching._CacheImpl


def _in_package(py_file):
    path = os.path.abspath(py_file)
    try:
        return os.path.commonpath([path, _PACKAGE_DIR]) == _PACKAGE_DIR
    except ValueError:  # different drives (Windows)
        return False


def _user():
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (some containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


class _TemporaryDirectoryLocator(_UserWideLocator):
    """numba's per-user locator, rooted in the temporary directory instead."""

    def __init__(self, py_func, py_file):
        super().__init__(py_func, py_file)
        self._cache_path = os.path.join(
            tempfile.gettempdir(), f"eegbin-numba-{_user()}", self.get_suitable_cache_subpath(py_file)
        )


class _PerUserLocator(_UserWideLocator):
    """Cache eegbin's own kernels per user, never beside their source."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _in_package(py_file):
            return None
        return super().from_function(py_func, py_file) or _TemporaryDirectoryLocator.from_function(
            py_func, py_file
        )


def _install():
    locators = _CacheImpl._locator_classes  # one list shared by numba's cache implementations
    if _PerUserLocator not in locators:
        locators.insert(1, _PerUserLocator)  # after NUMBA_CACHE_DIR's locator, before in-tree


def cache_directory():
    """The directory numba caches eegbin's kernels in (it may not exist yet).

    Returns
    -------
    str
        ``NUMBA_CACHE_DIR`` when set, else numba's per-user cache directory.

    Examples
    --------
    >>> from eegbin.kernels._cache import cache_directory
    >>> isinstance(cache_directory(), str)
    True
    """
    from numba.core import config
    from numba.misc.appdirs import AppDirs

    return config.CACHE_DIR or AppDirs(appname="numba", appauthor=False).user_cache_dir


_install()
