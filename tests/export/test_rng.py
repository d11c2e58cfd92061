"""The C port of eegbin's counter-based generator is bit-identical to eegbin.kernels.rng."""

import ctypes
import subprocess

import numpy as np
import pytest

from eegbin.export import STRICT_CFLAGS
from eegbin.export._blocks import BLOCKS, resolve
from eegbin.kernels import (
    random_words,
    sparse_bipolar_project,
    sparse_ternary_block,
    ternary_threshold,
)

HARNESS = r"""
void words(uint32_t seed, uint64_t row0, int32_t n_rows, int32_t n_words, uint64_t *out);
void entries(uint32_t seed, uint64_t row0, int32_t n_rows, int32_t n, uint32_t t, int8_t *out);
void project(const float *x, int32_t n, uint32_t seed, uint32_t t, int32_t d, uint64_t *out);

void words(uint32_t seed, uint64_t row0, int32_t n_rows, int32_t n_words, uint64_t *out)
{
    uint64_t key = eb_seed_key(seed);
    int32_t r, c;
    for (r = 0; r < n_rows; r++) {
        uint64_t rk = eb_row_key(key, row0 + (uint64_t)r);
        for (c = 0; c < n_words; c++) {
            out[r * n_words + c] = eb_word(rk, (uint64_t)c);
        }
    }
}

/* entry r_ij recovered through the projection of +e_j and -e_j */
void entries(uint32_t seed, uint64_t row0, int32_t n_rows, int32_t n, uint32_t t, int8_t *out)
{
    static float x[4096];
    uint64_t key = eb_seed_key(seed);
    int32_t r, j;
    for (j = 0; j < n; j++) {
        x[j] = 0.0f;
    }
    for (r = 0; r < n_rows; r++) {
        uint64_t rk = eb_row_key(key, row0 + (uint64_t)r);
        for (j = 0; j < n; j++) {
            uint32_t pos, neg;
            x[j] = 1.0f;
            pos = eb_project_row(x, n, rk, t);
            x[j] = -1.0f;
            neg = eb_project_row(x, n, rk, t);
            x[j] = 0.0f;
            out[r * n + j] = (int8_t)((int32_t)pos - (int32_t)neg);
        }
    }
}

void project(const float *x, int32_t n, uint32_t seed, uint32_t t, int32_t d, uint64_t *out)
{
    eb_project(x, n, seed, t, d, out);
}
"""


@pytest.fixture(scope="module")
def lib(cc, tmp_path_factory):
    d = tmp_path_factory.mktemp("rng")
    src = d / "rng.c"
    blocks = "\n".join(BLOCKS[b][0] for b in resolve(["projection", "rng_word"]))
    src.write_text("#include <stdint.h>\n" + blocks + HARNESS)
    so = d / "librng.so"
    subprocess.run([cc, *STRICT_CFLAGS, "-O2", "-fPIC", "-shared", "-o", str(so), str(src)],
                   check=True, capture_output=True)
    lib = ctypes.CDLL(str(so))
    p = np.ctypeslib.ndpointer
    lib.words.argtypes = [ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32, ctypes.c_int32,
                          p(np.uint64, flags="C")]
    lib.entries.argtypes = [ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32, ctypes.c_int32,
                            ctypes.c_uint32, p(np.int8, flags="C")]
    lib.project.argtypes = [p(np.float32, flags="C"), ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint32,
                            ctypes.c_int32, p(np.uint64, flags="C")]
    return lib


SEEDS = [0, 1, 2, 12345, 2**31 - 1, 2**31, 2**32 - 1] + np.random.RandomState(0).randint(
    0, 2**32, size=60, dtype=np.uint64).tolist()


@pytest.mark.parametrize("row0", [0, 1000, 2**40 + 17])
def test_words_bit_identical_on_many_seeds_and_rows(lib, row0):
    for seed in SEEDS:
        out = np.empty((9, 7), dtype=np.uint64)
        lib.words(seed, row0, 9, 7, out)
        np.testing.assert_array_equal(out, random_words(int(seed), row0, row0 + 9, 7), err_msg=f"seed {seed}")


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9, 0.99, 1.0])
def test_ternary_entries_bit_identical(lib, sparsity):
    t = ternary_threshold(sparsity)
    for seed in SEEDS[:12]:
        out = np.empty((5, 37), dtype=np.int8)
        lib.entries(seed, 3, 5, 37, t, out)
        np.testing.assert_array_equal(out, sparse_ternary_block(int(seed), 3, 8, 37, sparsity))


def test_projected_codes_bit_identical(lib):
    rng = np.random.RandomState(1)
    for k, seed in enumerate(SEEDS[:20]):
        n, d = 50 + 13 * k, 64 * (k % 3) + 1 + 7 * k
        X = (rng.randn(4, n) * 10.0 ** rng.randint(-3, 4)).astype(np.float32)
        X[0, :] = 0.0  # H(0) = 1: all bits set
        ref = sparse_bipolar_project(X, int(seed), d, 0.9)
        out = np.empty_like(ref)
        for i in range(len(X)):
            lib.project(X[i], n, seed, ternary_threshold(0.9), d, out[i])
        np.testing.assert_array_equal(out, ref, err_msg=f"seed {seed}, n {n}, d {d}")
