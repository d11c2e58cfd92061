"""The layers keep their word (DESIGN.md, "Rules of the house").

Read from the source with :mod:`ast`, so a new module is covered the day it is
added: no ``_private`` name (nor private module) is imported from another
subpackage of eegbin, and numba is imported only in ``eegbin/kernels/``.
"""

import ast
from pathlib import Path

import pytest

import eegbin

ROOT = Path(eegbin.__file__).parent
MODULES = sorted(ROOT.rglob("*.py"))


def _package(name):
    """The subpackage ``name`` names, or None for a module of eegbin's top level."""
    return name if (ROOT / name).is_dir() else None


def _imports(rel, source):
    """(line, target module as a tuple of names, imported names) of every import of ``source``.

    ``rel`` is the module's path relative to eegbin/ (relative imports are resolved from it).
    """
    here = ("eegbin",) + rel.with_suffix("").parts[:-1]  # the package the module lives in
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = base + (tuple(node.module.split(".")) if node.module else ())
            else:
                target = tuple(node.module.split("."))
            yield node.lineno, target, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, tuple(alias.name.split(".")), []


def _crossings(rel, source):
    """The imports of private names or modules of another subpackage, as messages."""
    mine = rel.parts[0] if len(rel.parts) > 1 else None
    found = []
    for line, target, names in _imports(rel, source):
        if target[0] != "eegbin" or len(target) < 2 or _package(target[1]) == mine:
            continue
        private = [t for t in target[1:] if t.startswith("_")]
        private += [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private:
            found.append(f"eegbin/{rel}:{line} imports {private} from {'.'.join(target)}")
    return found


def test_the_walker_sees_crossings():
    # the check can fail: private kernel names and private modules of other subpackages
    rel = Path("features") / "probe.py"
    source = (
        "from ..kernels.spd import _nb_eigh, batch_funm\n"
        "from .._version import x\n"
        "from ..kernels._cache import y\n"
        "from . import _riemann\n"  # same subpackage: allowed
        "from ._filterbank import _check_bands\n"
    )
    found = _crossings(rel, source)
    assert len(found) == 3, found
    assert "_nb_eigh" in found[0] and "_version" in found[1] and "_cache" in found[2]
    assert [line for line, target, _ in _imports(rel, "import numba\nfrom numba import njit\n")
            if target[0] == "numba"] == [1, 2]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_crosses_a_subpackage(path):
    assert _crossings(path.relative_to(ROOT), path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_numba_only_in_kernels(path):
    in_kernels = path.relative_to(ROOT).parts[0] == "kernels"
    rel = path.relative_to(ROOT)
    numba = [line for line, target, _ in _imports(rel, path.read_text(encoding="utf-8")) if target[0] == "numba"]
    assert in_kernels or numba == [], f"{path.relative_to(ROOT.parent)} imports numba at lines {numba}"
