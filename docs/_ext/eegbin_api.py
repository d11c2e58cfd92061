"""Public names of eegbin for the API page (no Sphinx import: tested in the test suite)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

PACKAGE = "eegbin"


def public_modules():
    """``eegbin`` and every importable subpackage (not private modules), sorted."""
    pkg = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=PACKAGE + "."):
        if not info.ispkg or any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return names


def collect():
    """``{module: [(name, obj), ...]}`` with each object under its most specific exporter."""
    exports = {}
    for modname in public_modules():
        mod = importlib.import_module(modname)  # an import error must fail the build
        names = [n for n in getattr(mod, "__all__", []) if not n.startswith("_")]
        items = []
        for n in names:
            try:
                items.append((n, getattr(mod, n)))
            except ImportError as exc:  # e.g. eegbin.train without torch installed
                items.append((n, _Unavailable(f"{modname}.{n}", exc)))
        exports[modname] = items
    owner = {}
    for modname in sorted(exports, key=lambda m: m.count(".")):
        for name, obj in exports[modname]:
            owner[_key(name, obj)] = modname  # deeper modules overwrite shallower ones
    return {
        m: [(n, o) for n, o in items if owner[_key(n, o)] == m]
        for m, items in exports.items()
    }


def _key(name, obj):
    return ("unavailable", name) if isinstance(obj, _Unavailable) else id(obj)


class _Unavailable:
    """Stands for a public name whose import needs an optional dependency."""

    def __init__(self, name, exc):
        self.name, self.exc = name, exc


def kind(obj):
    if isinstance(obj, _Unavailable):
        return "unavailable"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


#: Reproduction pages (docs/reproductions/KEY.rst) -> the short name of the paper that
#: the ``reference=`` of its registered pipelines contains (case-insensitive).
REPRODUCTIONS = {
    "hersche2020": "Hersche 2020",
    "mubinn": "MuBiNN",
    "biper": "BiPer",
    "design": "DeSign",
    "feng": "Feng",
}


def pipelines_citing(short_name):
    """Registered pipelines whose ``reference`` names the paper ``short_name``."""
    import eegbin.evaluation  # noqa: F401  (registers the built-in pipelines)
    from eegbin.evaluation.pipelines import get_spec, list_pipelines

    key = short_name.lower()
    return [n for n in list_pipelines() if key in get_spec(n).reference.lower()]
