"""SimulatedMotorImagery: structure, determinism, learnability (statistical)."""

import hashlib
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pytest
from moabb.datasets.base import BaseDataset
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from eegbin.datasets import SimulatedMotorImagery, load_motor_imagery
from eegbin.datasets import simulated as sim
from eegbin.evaluation._filters import _BandPass

SEED = 42
ROOT = Path(__file__).resolve().parents[2]


def _run_digest(seed, subject=1, session=0, run=0):
    subj = sim._subject_params(seed, 9, subject)
    sess = sim._session_params(seed, subject, session, subj)
    eeg, eog, starts, labels = sim._simulate_run(seed, subject, session, run, subj, sess)
    h = hashlib.sha256()
    for a in (eeg, eog, starts, labels):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest(), (eeg, eog, starts, labels)


def test_is_a_moabb_dataset_shaped_like_bnci2014_001():
    ds = SimulatedMotorImagery()
    assert isinstance(ds, BaseDataset)
    assert ds.subject_list == list(range(1, 10))
    assert ds.event_id == {"left_hand": 1, "right_hand": 2, "feet": 3, "tongue": 4}
    assert ds.interval == [2, 6] and ds.paradigm == "imagery" and ds.n_sessions == 2
    assert SimulatedMotorImagery(subjects=3).subject_list == [1, 2, 3]
    assert ds.data_path(1) == []


@pytest.mark.parametrize(
    "kwargs", [{"subjects": 0}, {"subjects": 2.5}, {"subjects": True}, {"seed": -1}, {"seed": "a"}]
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SimulatedMotorImagery(**kwargs)


def test_subjects_is_a_list_as_in_moabb_and_an_int_a_count():
    default = SimulatedMotorImagery()
    ds = SimulatedMotorImagery(subjects=[3, 1])
    # a list picks subjects of the default population: same generator key (code) as the default
    assert ds.subject_list == [1, 3] and ds.n_subjects == 9 and ds.code == default.code
    assert SimulatedMotorImagery(n_subjects=4).subject_list == [1, 2, 3, 4]
    assert SimulatedMotorImagery(subjects=[2], n_subjects=2).code == SimulatedMotorImagery(subjects=2).code
    with pytest.raises(ValueError, match=r"subject numbers in 1..9 \(n_subjects=9\), got \[10\]"):
        SimulatedMotorImagery(subjects=[10])
    with pytest.raises(ValueError, match="subjects must be a non-empty list"):
        SimulatedMotorImagery(subjects=[])
    with pytest.raises(ValueError, match="give the population as n_subjects"):
        SimulatedMotorImagery(subjects=3, n_subjects=5)


def test_one_run_raw_structure():
    _, (eeg, eog, starts, labels) = _run_digest(SEED)
    assert eeg.shape[0] == 22 and eog.shape[0] == 3 and eeg.shape[1] == eog.shape[1]
    assert np.all(np.isfinite(eeg)) and np.all(np.isfinite(eog))
    assert len(starts) == 48 and np.bincount(labels, minlength=5)[1:].tolist() == [12] * 4
    # trials (6 s) do not overlap and fit in the run
    assert np.all(np.diff(starts) >= 6 * 250) and starts[-1] + 6 * 250 < eeg.shape[1]
    rms_uv = 1e6 * eeg.std(axis=1)
    assert np.all((rms_uv > 2) & (rms_uv < 200)), rms_uv  # EEG-like amplitudes in volts
    # blinks: EOG peaks far above the EEG level
    assert np.abs(eog).max(axis=1).min() > 5 * eeg.std()
    raw = sim._to_raw(eeg, eog, starts, labels)
    assert raw.ch_names[:22] == list(sim.EEG_CHANNELS) and raw.info["sfreq"] == 250.0
    assert raw.get_channel_types()[22:] == ["eog"] * 3 + ["stim"]
    events = mne.find_events(raw, stim_channel="STI", verbose=False)
    np.testing.assert_array_equal(events[:, 0], starts)
    np.testing.assert_array_equal(events[:, 2], labels)


def test_eog_leaks_into_frontal_channels():
    lv, lh = sim._eog_leakage(sim._lead_field())
    ch = list(sim.EEG_CHANNELS)
    assert lv[ch.index("Fz")] > 3 * lv[ch.index("Cz")] > 3 * lv[ch.index("POz")] > 0


def test_sources_are_where_the_issue_says():
    topo = sim._subject_params(SEED, 9, 1)["topo"]
    ch = list(sim.EEG_CHANNELS)
    left, right = np.abs(topo[:, sim._HAND_L]), np.abs(topo[:, sim._HAND_R])
    lateral = [ch.index(c) for c in ("C5", "C3", "FC3", "CP3")]
    medial = [ch.index(c) for c in ("C6", "C4", "FC4", "CP4")]
    assert left[lateral].mean() > left[medial].mean()
    assert right[medial].mean() > right[lateral].mean()


def test_deterministic_same_seed_and_across_processes():
    d1, _ = _run_digest(SEED)
    d2, _ = _run_digest(SEED)
    assert d1 == d2
    assert _run_digest(SEED + 1)[0] != d1
    assert _run_digest(SEED, run=1)[0] != d1
    code = (
        "import hashlib, numpy as np; from eegbin.datasets import simulated as sim; "
        "subj = sim._subject_params(42, 9, 1); sess = sim._session_params(42, 1, 0, subj); "
        "h = hashlib.sha256(); "
        "[h.update(np.ascontiguousarray(a).tobytes()) "
        " for a in sim._simulate_run(42, 1, 0, 0, subj, sess)]; print(h.hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == d1


def test_same_bytes_whatever_the_blas_thread_count():
    from threadpoolctl import threadpool_limits

    digests = set()
    for n in (1, 2):
        with threadpool_limits(limits=n, user_api="blas"):
            digests.add(_run_digest(SEED)[0])
    assert len(digests) == 1


def test_subject_quality_is_stratified():
    q = [sim._subject_quality(SEED, 9, s) for s in range(1, 10)]
    assert sorted(int(v * 9) for v in q) == list(range(9))
    assert q != [sim._subject_quality(SEED + 1, 9, s) for s in range(1, 10)]


# --- learnability through MOABB's MotorImagery paradigm -----------------------

def _subjects_by_quality():
    q = {s: sim._subject_quality(SEED, 9, s) for s in range(1, 10)}
    order = sorted(q, key=q.get)
    return [order[0], order[4], order[-1]]  # worst, median, best


@pytest.fixture(scope="module")
def epochs():
    subjects = _subjects_by_quality()
    X, y, meta = load_motor_imagery("simulated", subjects=subjects)
    return subjects, X, y, meta


def test_epochs_through_paradigm(epochs):
    subjects, X, y, meta = epochs
    assert X.shape == (3 * 576, 22, 875)  # the Hersche window: 0.5-4.0 s, 875 samples
    assert set(meta["session"]) == {"0train", "1test"}
    assert set(meta["run"]) == {str(r) for r in range(6)}
    counts = meta.assign(y=y).groupby(["subject", "session", "y"]).size()
    assert (counts == 72).all()


def _ts_lr():
    return make_pipeline(TangentSpace(), LogisticRegression(max_iter=1000))


def test_learnable_with_realistic_spread(epochs):
    subjects, X, y, meta = epochs
    # band-pass and covariances are per trial (stateless): compute them once
    C = Covariances("oas").transform(_BandPass(8.0, 30.0, 250.0).fit_transform(X))
    cross, within = [], []
    for s in subjects:
        m = meta["subject"].to_numpy() == s
        tr = m & (meta["session"].to_numpy() == "0train")
        te = m & (meta["session"].to_numpy() == "1test")
        cross.append(_ts_lr().fit(C[tr], y[tr]).score(C[te], y[te]))
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        within.append(np.mean([cross_val_score(_ts_lr(), C[k], y[k], cv=cv).mean() for k in (tr, te)]))
    worst, _, best = cross
    # 288 test trials: chance accuracy has sd ~2.6 %, so these margins are > 5 sd
    assert np.mean(cross) > 0.25 + 0.15, cross
    assert best > 0.7 and worst < 0.4 and (best - 0.25) > 4 * abs(worst - 0.25), cross
    assert np.mean(within) > np.mean(cross) + 0.03, (within, cross)


# --- the physiological mechanisms of generator version 2 (issue 18, section 8) -----


def test_version_keys_the_dataset_code():
    # MOABB caches epochs under the dataset code: a new generator must not be served old data
    assert sim._GENERATOR_VERSION >= 2
    assert SimulatedMotorImagery().code.endswith(f"-v{sim._GENERATOR_VERSION}")


def test_rhythm_peak_stands_its_height_in_db_above_the_background():
    # oracle: scipy's Welch estimate of background alone and background + rhythm
    from scipy.signal import welch

    rng = np.random.default_rng(0)
    n, f0, bg_amp, exponent = 250 * 600, 11.0, 10.0, 1.3
    bg = bg_amp * sim._shaped_noise(rng, 1, n, lambda f: sim._pink_gain(f, exponent))[0]
    for db in (3.0, 10.0):
        amp = sim._peak_amplitude(db, f0, sim._BW_MU, bg_amp, exponent)
        rhythm = amp * sim._narrowband(rng, [f0], [sim._BW_MU], n)[0]
        f, p_bg = welch(bg, fs=250.0, nperseg=1000)
        _, p_all = welch(bg + rhythm, fs=250.0, nperseg=1000)
        k = np.argmin(np.abs(f - f0))
        assert abs(10 * np.log10(p_all[k] / p_bg[k]) - db) < 0.6, db


def test_mu_is_arch_shaped_with_a_harmonic_at_twice_its_frequency():
    from scipy.signal import welch

    rng = np.random.default_rng(1)
    osc = sim._narrowband(rng, [10.0], [1.0], 250 * 300)
    arch = sim._arch_shaped(osc, [0.5])[0]
    f, p = welch(arch, fs=250.0, nperseg=1000)
    fundamental = p[(f > 7) & (f < 13)].sum()
    harmonic = p[(f > 17) & (f < 23)].sum()
    assert abs(arch.std() - 1.0) < 0.05
    assert abs(harmonic / fundamental - 0.25) < 0.05  # h**2 = 0.25
    assert p[(f > 27) & (f < 33)].sum() < 0.01 * fundamental  # no 3rd harmonic


def test_mu_and_beta_generators_have_different_scalp_patterns():
    lf = sim._lead_field()
    # the pre-central beta generator lies anterior (head y axis) of the post-central
    # mu one: _BETA_OFFSET on average, up to the 5 mm jitter on the 8 mm grid
    forward = []
    for subject in range(1, 10):
        rr = lf["rr"][sim._subject_params(SEED, 9, subject)["src_idx"]]
        forward.append(rr[sim._N_MOTOR : 2 * sim._N_MOTOR, 1] - rr[: sim._N_MOTOR, 1])
    forward = np.array(forward)  # (subjects, areas)
    assert np.all(forward.mean(axis=0) > 0.5 * sim._BETA_OFFSET), forward
    assert forward.min() > -0.0081, forward
    subj = sim._subject_params(SEED, 9, 1)
    for area in range(sim._N_MOTOR):
        mu, beta = subj["topo"][:, area], subj["topo_beta"][:, area]
        assert abs(np.corrcoef(mu, beta)[0, 1]) < 0.999
    # the alpha generators sit behind every motor generator (visual cortex); their
    # scalp pattern is not peaked at POz: the left-mastoid reference is close to them
    rr = lf["rr"][subj["src_idx"]]
    assert rr[2 * sim._N_MOTOR :, 1].max() < rr[: 2 * sim._N_MOTOR, 1].min() - 0.03


def test_band_specific_erd_surround_ers_and_beta_rebound():
    subj = sim._subject_params(SEED, 9, 6)
    sess = sim._session_params(SEED, 6, 0, subj)
    n = int(12 * sim.SFREQ)
    t = np.arange(n) / sim.SFREQ
    imagery = (t > 4.0) & (t < 6.0)
    after = (t > 6.8) & (t < 7.4)
    mods = {}
    for label in (1, 2, 3, 4):  # one trial per class, full vigour
        P, R = sim._trial_profiles([0.0], [label], [1.0], [0.5], n)
        mods[label] = sim._modulations(subj, sess, P, R)
    mu, beta = slice(0, 5), slice(5, 10)
    right_hand = mods[2]
    # contralateral (left hemisphere) ERD in both bands during right-hand imagery
    assert right_hand[mu][sim._HAND_L, imagery].max() < 1.0
    assert right_hand[beta][sim._HAND_L, imagery].max() < 1.0
    # beta rebound above baseline after the imagery, in the area that desynchronized
    assert right_hand[beta][sim._HAND_L, after].max() > 1.05
    assert np.allclose(right_hand[mu][:, after], 1.0, atol=0.1)
    # foot imagery: mu ERS of the hand areas (surround ERS) but no beta ERS there
    feet = mods[3]
    assert feet[mu][sim._HAND_L, imagery].min() > 1.0
    assert feet[beta][sim._HAND_L, imagery].max() <= 1.0
    assert feet[beta][sim._FEET, after].max() > right_hand[beta][sim._HAND_L, after].max()


def test_sessions_differ_by_cap_position_and_impedances():
    subj = sim._subject_params(SEED, 9, 1)
    s0, s1 = (sim._session_params(SEED, 1, k, subj) for k in (0, 1))
    centre = np.hstack([subj["topo"], subj["topo_beta"], subj["topo_alpha"]])
    np.testing.assert_allclose(s0["topo"], centre, rtol=1e-12)  # 0train: the reference placement
    corr = [np.corrcoef(s0["topo"][:, k], s1["topo"][:, k])[0, 1] for k in range(centre.shape[1])]
    assert 0.8 < min(corr) and max(corr) < 1.0
    # impedances of a few kOhm against a 1 GOhm amplifier: the gain changes by < 1e-4
    gain = sim._INPUT_IMPEDANCE / (sim._INPUT_IMPEDANCE + s1["impedance"])
    assert np.all((gain > 1 - 1e-4) & (gain < 1))
    assert not np.allclose(s0["impedance"], s1["impedance"])
