"""Product-quantized linear layer versus float matvec (Feng et al., Section III-D).

Sizes: the EEGNet dense layer (272 -> 4; batch 1 and 288 trials) and the
Riemannian feature vector (10 879 -> 4). Two levels are timed against
``X @ W + b`` in NumPy (the peer) in the same run, both on one thread:

- ``kernel``: the fused numba encode + 8-bit table-sum kernel
  (:func:`eegbin.kernels.hash_tree_lut_sum`, what an embedded port would run, plus
  its argument checks: a few microseconds, which dominate at batch 1);
- ``transform``: the public ``ProductQuantizedLinear.transform`` (adds scikit-learn
  input validation, which dominates at batch 1).

Ratios are ``numpy_seconds / pq_seconds`` (> 1: PQ faster). At batch 1 and
272 features NumPy's BLAS matvec costs about as much as the call overhead of
either side, so PQ does not win there; it wins when the matvec is large
(10 879 features) because it reads only 4 values per sub-vector.
"""

import timeit

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from benchmarks.conftest import record_ratio
from eegbin import ProductQuantizedLinear
from eegbin.kernels import hash_tree_lut_sum

CASES = [(272, 1), (272, 288), (10879, 1), (10879, 288)]


def _best(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


@pytest.mark.parametrize("n_features,batch", CASES)
def test_bench_pq_vs_matvec(benchmark, full_size, n_features, batch):
    if not full_size:
        n_features = min(n_features, 512)
    rng = np.random.RandomState(0)
    n_train = 288
    latent = rng.randn(n_train + batch, 16)
    X_all = latent @ rng.randn(16, n_features) + 0.5 * rng.randn(n_train + batch, n_features)
    Xtr, X = X_all[:n_train], np.ascontiguousarray(X_all[n_train:])
    W, b = rng.randn(n_features, 4), rng.randn(4)
    pq = ProductQuantizedLinear(n_subspaces=8).fit(Xtr, weights=W, bias=b)
    dims, thr, lut = pq.split_dims_, pq.thresholds_, pq.quantized_luts_

    def pq_kernel():
        return hash_tree_lut_sum(X, dims, thr, lut, n_threads=1)

    def numpy_matvec():
        return X @ W + b

    # correctness of what is timed
    np.testing.assert_array_equal(pq_kernel(), pq.table_sums(X))
    with threadpool_limits(limits=1):
        benchmark(pq_kernel)
        number = 2000 if n_features < 1000 and batch == 1 else 50
        t_np = _best(numpy_matvec, number)
        t_kernel = _best(pq_kernel, number)
        t_transform = _best(lambda: pq.transform(X), number)
    r_kernel = record_ratio(benchmark, "numpy_over_pq_kernel", t_np, t_kernel)
    r_transform = record_ratio(benchmark, "numpy_over_pq_transform", t_np, t_transform)
    benchmark.extra_info.update(
        n_features=n_features, batch=batch, numpy_s=t_np, pq_kernel_s=t_kernel,
        pq_transform_s=t_transform,
    )
    print(f"\n{n_features}->4 batch {batch}: numpy {t_np * 1e6:.1f} us, PQ kernel "
          f"{t_kernel * 1e6:.1f} us (x{r_kernel:.2f}), PQ transform {t_transform * 1e6:.1f} us "
          f"(x{r_transform:.2f})")
    if full_size and n_features > 10000:
        # loose floors: PQ reads 32 of 10 879 inputs per row; over a batch it must beat the
        # full matvec, at batch 1 the kernel's argument checks cost about as much as the matvec
        assert r_kernel > (2.0 if batch > 1 else 0.5)
