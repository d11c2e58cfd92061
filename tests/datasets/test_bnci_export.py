"""export_bnci2014_001: the simulated dataset read back by MOABB's own BNCI2014_001 loader.

The files are written where MOABB looks (``MNE_DATASETS_BNCI_PATH``) and loaded by
``moabb.datasets.BNCI2014_001`` with the ``MotorImagery`` paradigm and by eegbin's
evaluation runner: the path of a user who has the real BCI IV-2a files. Every socket
is refused, so any download attempt fails the test loudly.
"""

import socket

import numpy as np
import pytest
from moabb.datasets import BNCI2014_001, FakeDataset
from moabb.paradigms import MotorImagery
from scipy.io import loadmat

from eegbin.datasets import SimulatedMotorImagery, export_bnci2014_001, load_motor_imagery
from eegbin.evaluation import run


def _refuse(*args, **kwargs):
    raise AssertionError(f"network access attempted: {args!r}")


@pytest.fixture
def offline(monkeypatch, exported):
    """No network; MOABB reads the exported files (and skips the NEMAR mirror)."""
    for name in ("getaddrinfo", "create_connection"):
        monkeypatch.setattr(socket, name, _refuse)
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setenv("MNE_DATASETS_BNCI_PATH", str(exported[0]))
    monkeypatch.setenv("MOABB_DOWNLOAD_PROVIDER", "upstream")
    return exported


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("bnci")
    return root, export_bnci2014_001(SimulatedMotorImagery(), root, subjects=[1])


def test_files_are_where_moabb_looks_with_its_struct(exported):
    root, files = exported
    folder = root / "MNE-bnci-data" / "~bci" / "database" / "001-2014"
    assert files == [folder / "A01T.mat", folder / "A01E.mat"]
    data = loadmat(files[0], struct_as_record=False, squeeze_me=True)["data"]
    assert len(data) == 6  # six runs of 48 trials
    run0 = data[0]
    assert run0.X.shape[1] == 25 and run0.fs == 250
    assert list(run0.classes) == ["left hand", "right hand", "feet", "tongue"]
    assert len(run0.trial) == len(run0.y) == len(run0.artifacts) == 48
    assert sorted(np.unique(run0.y)) == [1, 2, 3, 4] and run0.trial.min() >= 1


def test_moabb_loads_the_same_raw_runs(offline):
    sim = SimulatedMotorImagery().get_data([1])[1]
    real = BNCI2014_001().get_data([1])[1]
    assert list(real) == list(sim) == ["0train", "1test"]
    for session in sim:
        assert list(real[session]) == list(sim[session])
        for r in sim[session]:
            a, b = sim[session][r], real[session][r]
            assert b.ch_names[:25] == a.ch_names[:25] and b.info["sfreq"] == a.info["sfreq"]
            np.testing.assert_array_equal(b.get_data(picks=list(range(25))),
                                          a.get_data(picks=list(range(25))))


def test_motor_imagery_epochs_labels_and_pipeline_scores_match(offline):
    paradigm = MotorImagery(n_classes=4, tmin=0.5, tmax=4.0 - 0.6 / 250, fmin=8.0, fmax=30.0)
    Xs, ys, ms = paradigm.get_data(SimulatedMotorImagery(), subjects=[1])
    Xb, yb, mb = paradigm.get_data(BNCI2014_001(), subjects=[1])
    assert Xb.shape == Xs.shape == (576, 22, 875)
    np.testing.assert_array_equal(Xb, Xs)
    np.testing.assert_array_equal(yb, ys)
    for col in ("subject", "session", "run"):
        np.testing.assert_array_equal(mb[col].to_numpy(), ms[col].to_numpy())
    # eegbin's loader and MOABB evaluation through the real dataset's name
    X, y, _ = load_motor_imagery("BNCI2014_001", subjects=[1])
    X0, y0, _ = load_motor_imagery("simulated", subjects=[1])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    pipes = ["CSP+LDA", "TS+LR"]
    real = run(pipes, dataset="BNCI2014_001", subjects=[1]).scores
    sim = run(pipes, dataset="simulated", subjects=[1]).scores
    key = ["pipeline", "session"]
    real, sim = real.sort_values(key).reset_index(), sim.sort_values(key).reset_index()
    np.testing.assert_array_equal(real["score"].to_numpy(), sim["score"].to_numpy())
    assert real["score"].min() > 0.3  # the simulated subject 1 is decodable


def test_a_missing_subject_fails_loudly_instead_of_downloading(offline):
    with pytest.raises(FileNotFoundError, match="BNCI2014_001 .* data not found"):
        load_motor_imagery("BNCI2014_001", subjects=[2])
    with pytest.raises(AssertionError, match="network access attempted"):
        BNCI2014_001().get_data([2])  # MOABB alone would download: refused


def test_bad_datasets_are_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"subjects must be in 1..9"):
        export_bnci2014_001(SimulatedMotorImagery(subjects=10), tmp_path, subjects=[10])
    fake = FakeDataset(event_list=("left_hand", "right_hand"), n_subjects=1, n_sessions=2)
    with pytest.raises(ValueError, match="lacks the BCI IV-2a channels"):
        export_bnci2014_001(fake, tmp_path)
    fake = FakeDataset(event_list=("rest", "left_hand"), n_subjects=1)
    with pytest.raises(ValueError, match="dataset.event_id must map left_hand"):
        export_bnci2014_001(fake, tmp_path)
    one = FakeDataset(event_list=("left_hand", "right_hand"), n_subjects=1, n_sessions=1)
    with pytest.raises(ValueError, match="a training and an evaluation session, the dataset gives 1"):
        export_bnci2014_001(one, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-written
