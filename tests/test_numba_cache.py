"""numba caches eegbin's kernels per user: nothing is written inside the package at run time."""

import os
import subprocess
import sys
from pathlib import Path

import eegbin

PACKAGE = Path(eegbin.__file__).resolve().parent
ROOT = PACKAGE.parent

_SCRIPT = """
import numpy as np
import eegbin
from eegbin.kernels import pack_bits, popcount
from eegbin.kernels._cache import cache_directory
print(popcount(pack_bits(np.ones((3, 70), dtype=bool))).tolist())
print(cache_directory())
"""


def _cache_files(root):
    return {p for p in Path(root).rglob("*") if p.suffix in (".nbi", ".nbc")}


def _run(tmp_path, **env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")} | env
    out = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_kernels_are_cached_per_user_not_in_the_package(tmp_path):
    before = _cache_files(PACKAGE)
    counts, where = _run(tmp_path, XDG_CACHE_HOME=str(tmp_path / "cache"), HOME=str(tmp_path))
    assert counts == "[70, 70, 70]"
    assert Path(where) == tmp_path / "cache" / "numba"
    cached = _cache_files(tmp_path / "cache")
    assert any(p.name.startswith("bits._nb_popcount") for p in cached), sorted(cached)
    assert _cache_files(PACKAGE) == before  # nothing new beside the sources


def test_numba_cache_dir_still_wins(tmp_path):
    before = _cache_files(PACKAGE)
    _, where = _run(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "numba-dir"),
                    XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert Path(where) == tmp_path / "numba-dir"
    assert _cache_files(tmp_path / "numba-dir") and not _cache_files(tmp_path / "cache")
    assert _cache_files(PACKAGE) == before


def test_unwritable_user_cache_falls_back_to_the_temporary_directory(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be")
    (tmp_path / "tmp").mkdir()
    before = _cache_files(PACKAGE)
    _run(tmp_path, XDG_CACHE_HOME=str(blocked), TMPDIR=str(tmp_path / "tmp"), HOME=str(tmp_path))
    assert _cache_files(tmp_path / "tmp"), "expected the kernels cached under TMPDIR"
    assert _cache_files(PACKAGE) == before
