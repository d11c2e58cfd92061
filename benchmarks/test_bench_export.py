"""Exported C (host compiler, -O2) vs eegbin in Python: latency of one trial (issue 20).

A device classifies one trial at a time, so the comparison is one ``predict`` call on one
epoch: the generated C of the Hersche et al. 2020 chain (FilterBankRiemann -> random
projection regenerated from its seed -> binarized SVM) called through ctypes, against the
same fitted pipeline's ``predict`` in Python (numba kernels, float64). Full size: 22
channels x 875 samples, 43 bands, d = 10 000; in the test run: 4 channels, 3 bands.
"""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from eegbin import BinarizedLinearSVC, FilterBankRiemann, SparseBipolarRandomProjection
from eegbin.export import CModel, find_c_compiler, to_c

from .conftest import best_time, record_ratio


@pytest.mark.skipif(find_c_compiler() is None, reason="no host C compiler")
def test_one_trial_c_vs_python(benchmark, full_size, tmp_path):
    n_ch, n_t, bands, d = (22, 875, "hersche2018", 10_000) if full_size else (4, 200, [(8, 12), (12, 30), (4, 40)], 512)
    rng = np.random.RandomState(0)
    X = (rng.randn(40, n_ch, n_t) * 10).astype(np.float32)
    y = np.arange(40) % 4
    pipe = make_pipeline(FilterBankRiemann(250.0 if full_size else 100.0, bands=bands),
                         SparseBipolarRandomProjection(n_components=d, random_state=0, output="packed"),
                         BinarizedLinearSVC(n_bits=d)).fit(X, y)
    to_c(pipe, tmp_path, "bench")
    model = CModel(tmp_path, "bench")
    one = X[:1]
    pred = benchmark.pedantic(lambda: model.predict(one), rounds=3, iterations=1)
    assert pipe.classes_[pred[0]] == pipe.predict(one)[0]
    pipe.predict(one)  # numba kernels compiled and loaded
    t_c = best_time(lambda: model.predict(one), 3)
    t_py = best_time(lambda: pipe.predict(one), 3)
    benchmark.extra_info.update(c_s=t_c, python_s=t_py, n_chans=n_ch, n_times=n_t, d=d)
    ratio = record_ratio(benchmark, "speedup_c_vs_python", t_py, t_c)
    assert ratio > 0.1, f"the exported C is {1 / ratio:.0f}x slower than Python on one trial"
