"""load_motor_imagery / get_dataset / make_paradigm: argument checks and the offline BNCI guard."""

import pytest
from moabb.datasets import BNCI2014_001, FakeDataset

from eegbin.datasets import SimulatedMotorImagery, check_bnci2014_001, get_dataset, load_motor_imagery, make_paradigm


def test_get_dataset_by_name_and_instance():
    assert isinstance(get_dataset("simulated"), SimulatedMotorImagery)
    assert isinstance(get_dataset("BNCI2014_001"), BNCI2014_001)
    fake = FakeDataset(n_subjects=2)
    assert get_dataset(fake) is fake


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"dataset": "nope"}, ValueError, "dataset must be one of"),
        ({"dataset": 3}, ValueError, "dataset must be one of"),
        ({"subjects": [0]}, ValueError, r"subjects \[0\] out of range"),
        ({"subjects": [10]}, ValueError, "expected 1..9"),
        ({"subjects": []}, ValueError, "subjects must not be empty"),
        ({"subjects": 1}, TypeError, "subjects must be a list"),
        ({"subjects": [1.5]}, TypeError, "subjects must be integers"),
    ],
)
def test_bad_dataset_or_subjects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        load_motor_imagery(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tmin": 4.0, "tmax": 0.5}, "tmax must be > tmin"),
        ({"tmin": float("nan")}, "tmin must be a finite"),
        ({"fmin": 8.0}, "fmin and fmax must both"),
        ({"fmin": 30.0, "fmax": 8.0}, "0 < fmin < fmax"),
        ({"resample": -1}, "resample must be a positive"),
    ],
)
def test_bad_window(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_paradigm(SimulatedMotorImagery(), **kwargs)


def test_window_gives_875_samples_at_250_hz():
    p = make_paradigm(SimulatedMotorImagery())
    assert p.tmin == 0.5 and round((p.tmax - p.tmin) * 250) == 875 - 1  # last kept sample
    assert make_paradigm(FakeDataset(n_subjects=1), resample=100).tmax == pytest.approx(4.0 - 0.006)


def test_bnci_without_data_fails_fast_and_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("MNE_DATASETS_BNCI_PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(tmp_path)) as info:
        load_motor_imagery("BNCI2014_001", subjects=[1])
    assert "download()" in str(info.value) and "simulated" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing created, nothing downloaded
    with pytest.raises(FileNotFoundError, match="A01T.mat"):
        check_bnci2014_001([1])
