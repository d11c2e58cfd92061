"""MOABB runner: FakeDataset and the simulated dataset through Cross/WithinSession evaluation."""

import numpy as np
import pandas as pd
import pytest
from moabb.datasets import FakeDataset
from sklearn.base import clone
from scipy.signal import butter, sosfilt

from eegbin import Footprint
from eegbin.evaluation import get_pipeline, list_pipelines, pareto_front, run
from eegbin.evaluation._filters import _BandPass

EVENTS = ("left_hand", "right_hand", "feet", "tongue")


def _fake():
    return FakeDataset(event_list=EVENTS, n_sessions=2, n_runs=1, n_subjects=2, n_events=48,
                       duration=240, sfreq=128, channels=("C3", "Cz", "C4", "FCz"), seed=3)


def test_baselines_registered_on_import():
    assert {"CSP+LDA", "TS+SVM", "TS+LR"} <= set(list_pipelines(default_only=True))


@pytest.mark.parametrize("evaluation", ["cross-session", "within-session"])
def test_fake_dataset_end_to_end(evaluation, tmp_path):
    res = run(["CSP+LDA", "TS+LR"], dataset=_fake(), evaluation=evaluation, subjects=[1, 2],
              out=tmp_path)
    assert set(res.scores["pipeline"]) == {"CSP+LDA", "TS+LR"}
    assert set(res.scores["subject"].astype(int)) == {1, 2}
    assert res.scores["score"].between(0, 1).all()
    assert list(res.summary.index) == ["CSP+LDA", "TS+LR"]
    assert {"S1", "S2", "mean", "std", "memory_kB", "macs"} <= set(res.summary.columns)
    assert all(isinstance(f, Footprint) and f.kB > 0 for f in res.footprints.values())
    assert pd.read_csv(res.files["scores"]).shape[0] == len(res.scores)
    assert res.files["plot"].stat().st_size > 1000
    assert "mean ± std" in res.table()


def test_simulated_within_session_one_subject():
    res = run(["CSP+LDA"], dataset="simulated", evaluation="within-session", subjects=[6])
    assert sorted(res.scores["session"]) == ["0train", "1test"]
    assert (res.scores["score"] > 0.4).all()  # subject 6 is the best of seed 42


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pipelines": ["nope"]}, "unknown pipeline 'nope'"),
        ({"pipelines": []}, "at least one"),
        ({"evaluation": "cross-subject"}, "evaluation must be one of"),
        ({"n_jobs": 0}, "n_jobs must be"),
        ({"scheduler": "dask"}, "scheduler must be None, .local. or"),
        ({"dataset": "nope"}, "dataset must be one of"),
        ({"subjects": [12]}, "out of range"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


def test_pareto_front():
    mem = [10.0, 1.0, 5.0, 100.0, 5.0]
    acc = [0.7, 0.5, 0.6, 0.65, 0.55]
    assert pareto_front(mem, acc).tolist() == [1, 2, 0]
    rng = np.random.default_rng(0)
    m, a = rng.uniform(size=30), rng.uniform(size=30)
    front = pareto_front(m, a)
    for i in range(30):  # every point is dominated by (or is) a front point
        assert any(m[j] <= m[i] and a[j] >= a[i] for j in front)
    for i in front:  # no front point is strictly dominated
        assert not any((m[j] <= m[i]) and (a[j] > a[i]) for j in range(30))


def test_bandpass_matches_scipy_and_accounts_footprint():
    X = np.random.default_rng(0).standard_normal((3, 4, 200))
    bp = _BandPass(8.0, 30.0, 250.0).fit(X)
    sos = butter(4, [8.0, 30.0], btype="band", fs=250.0, output="sos")
    np.testing.assert_allclose(bp.transform(X), sosfilt(sos, X, axis=-1))
    fp = bp.footprint(float_bits=16)
    assert fp.n_params == 5 * len(sos) and fp.bits_per_param == 16
    assert fp.macs == 5 * len(sos) * 4 * 200
    assert clone(bp).get_params() == bp.get_params()


@pytest.mark.parametrize(
    "X, params, match",
    [
        (np.zeros((3, 200)), {}, "shape"),
        (np.full((2, 3, 50), np.nan), {}, "finite"),
        (np.zeros((2, 3, 50)), {"h_freq": 200.0}, "sfreq/2"),
    ],
)
def test_bandpass_bad_input(X, params, match):
    with pytest.raises(ValueError, match=match):
        _BandPass(**params).fit(X)


def test_bandpass_channel_mismatch():
    bp = _BandPass().fit(np.zeros((2, 3, 50)))
    with pytest.raises(ValueError, match="channels"):
        bp.transform(np.zeros((2, 4, 50)))


def test_pipelines_fit_on_small_epochs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6, 250))
    y = np.repeat(list(EVENTS), 10)
    for name in ("CSP+LDA", "TS+SVM", "TS+LR"):
        pipe = get_pipeline(name, 250.0).fit(X, y)
        assert pipe.predict(X).shape == (40,)
