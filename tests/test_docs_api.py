"""The API reference of the docs lists every public name exactly once, documented."""

import importlib
import inspect
import os
import sys

import pytest

DOCS_EXT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "_ext")


@pytest.fixture(scope="module")
def ext():
    sys.path.insert(0, DOCS_EXT)
    try:
        yield importlib.import_module("eegbin_api")
    finally:
        sys.path.remove(DOCS_EXT)


def test_every_public_name_listed_once_with_a_docstring(ext):
    collected = ext.collect()
    listed = [(m, n, o) for m, items in collected.items() for n, o in items]
    ids = [id(o) for _, _, o in listed]
    assert len(ids) == len(set(ids)), "an object is listed under two modules"
    listed_ids = set(ids)
    for modname in ext.public_modules():
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", []):
            if name.startswith("_"):
                continue
            obj = getattr(mod, name)
            assert id(obj) in listed_ids, f"{modname}.{name} missing from the API page"
            if inspect.isclass(obj) or callable(obj):
                assert (inspect.getdoc(obj) or "").strip(), f"{modname}.{name} has no docstring"


def test_reexports_go_to_the_most_specific_module(ext):
    collected = ext.collect()
    top = {n for n, _ in collected["eegbin"]}
    for modname, items in collected.items():
        if modname != "eegbin":
            assert not top & {n for n, _ in items}, modname
    assert "footprint" in top and "Footprint" in top
    assert "pack_bits" in {n for n, _ in collected["eegbin.kernels"]}
