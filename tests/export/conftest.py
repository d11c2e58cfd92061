"""Fixtures of the C export tests: a host C compiler (or a skip saying why)."""

import pytest

from eegbin.export import find_c_compiler


@pytest.fixture(scope="session")
def cc():
    path = find_c_compiler()
    if path is None:
        pytest.skip("no host C compiler ($CC, cc, gcc or clang): the C export tests compile the "
                    "generated code (.ci/run installs gcc)")
    return path


@pytest.fixture
def compiled(cc, tmp_path):
    """compiled(estimator, name="m", dtype="float32") -> CModel of the exported estimator."""
    from eegbin.export import CModel, to_c

    def build(estimator, name="m", dtype="float32"):
        d = tmp_path / f"{name}_{dtype}"
        to_c(estimator, d, name, dtype=dtype)
        return CModel(d, name, cc=cc)

    return build
