"""An offline simulated motor-imagery dataset shaped like BCI Competition IV-2a.

The generator is a forward model of scalp EEG: dipolar sources inside a
three-shell spherical head (MNE's :func:`mne.make_sphere_model` and
:func:`mne.make_forward_solution` on a volume source space, electrodes of the
standard 10-05 montage, referenced to the left mastoid like BCI IV-2a), driven
by narrow-band sensorimotor rhythms whose amplitude follows the task, plus 1/f
background activity, sensor noise and ocular artifacts. The pure functions
(``_lead_field``, ``_subject_params``, ``_session_params``, ``_simulate_run``)
produce arrays; :class:`SimulatedMotorImagery` wraps them into the MNE ``Raw``
objects MOABB expects.
"""

from __future__ import annotations

import functools

import numpy as np
from moabb.datasets.base import BaseDataset
from scipy.fft import irfft, next_fast_len, rfftfreq
from threadpoolctl import threadpool_limits

__all__ = ["SimulatedMotorImagery"]

#: the 22 EEG channels of BCI Competition IV-2a, in the order of its files
EEG_CHANNELS = (
    "Fz", "FC3", "FC1", "FCz", "FC2", "FC4", "C5", "C3", "C1", "Cz", "C2",
    "C4", "C6", "CP3", "CP1", "CPz", "CP2", "CP4", "P1", "Pz", "P2", "POz",
)  # fmt: skip
EOG_CHANNELS = ("EOG1", "EOG2", "EOG3")
EVENTS = {"left_hand": 1, "right_hand": 2, "feet": 3, "tongue": 4}
SESSIONS = ("0train", "1test")
SFREQ = 250.0
N_RUNS = 6
TRIALS_PER_RUN = 48
#: trial structure of BCI IV-2a (seconds after the trial-start event)
CUE_ONSET, IMAGERY_END = 2.0, 6.0
_REFERENCE = "M1"  # left mastoid
_N_BACKGROUND = 400  # background dipoles (summed into a covariance, see _background)
_GENERATOR_VERSION = 1  # bump whenever the generative model changes

# Task-related source locations: (name, electrodes whose mean direction from the
# sphere centre points at the source, depth in m from the centre)
_TASK_SOURCES = (
    ("hand_left_hemi", ("C3",), 0.066),  # right-hand area
    ("hand_right_hemi", ("C4",), 0.066),  # left-hand area
    ("feet", ("Cz",), 0.052),  # medial wall, deeper
    ("tongue_left_hemi", ("C5", "T7", "FT7"), 0.064),  # lateral-inferior
    ("tongue_right_hemi", ("C6", "T8", "FT8"), 0.064),
    ("occipital", ("Oz", "POz"), 0.062),  # visual alpha, task-unrelated
)
_HAND_L, _HAND_R, _FEET, _TONGUE_L, _TONGUE_R, _OCC = range(6)
_N_MOTOR = 5

# Relative ERD (< 0) / ERS (> 0) of each motor source for each class, scaled by
# the subject's modulation depth (rows: sources, columns: left, right, feet, tongue).
# Contralateral hand ERD with weaker ipsilateral ERD; feet and tongue imagery
# desynchronize their own areas and synchronize the hand areas ("focal
# ERD / surround ERS", Pfurtscheller & Lopes da Silva 1999).
_MODULATION = np.array(
    [
        # left   right  feet   tongue
        [-0.30, -1.00, +0.40, +0.30],  # hand_left_hemi
        [-1.00, -0.30, +0.40, +0.30],  # hand_right_hemi
        [-0.10, -0.10, -0.90, +0.20],  # feet
        [-0.05, -0.15, +0.10, -0.85],  # tongue_left_hemi
        [-0.15, -0.05, +0.10, -0.85],  # tongue_right_hemi
    ]
)


# ---------------------------------------------------------------------------
# lead field (computed once per process)
# ---------------------------------------------------------------------------


def _montage():
    """The standard 10-05 montage (renamed ``colin27_1005`` in MNE 1.13)."""
    import mne

    names = mne.channels.get_builtin_montages()
    return mne.channels.make_standard_montage(
        "colin27_1005" if "colin27_1005" in names else "standard_1005"
    )


@functools.lru_cache(maxsize=1)
def _lead_field():
    """Forward model of the 22 BCI IV-2a electrodes, referenced to the left mastoid.

    Returns
    -------
    dict with
        ``G`` : (22, 3 * n_sources) free-orientation gain matrix in V/(A m),
        ``rr`` : (n_sources, 3) source positions (head coordinates, m),
        ``r0`` : (3,) sphere centre, ``ch_pos`` : dict of electrode positions.
    """
    import mne

    montage = _montage()
    with mne.utils.use_log_level("error"):
        info_all = mne.create_info(montage.ch_names, SFREQ, "eeg")
        info_all.set_montage(montage)
        sphere = mne.make_sphere_model("auto", "auto", info_all, verbose=False)
        chs = list(EEG_CHANNELS) + [_REFERENCE]
        info = mne.create_info(chs, SFREQ, "eeg")
        info.set_montage(montage)
        src = mne.setup_volume_source_space(
            sphere=sphere, pos=8.0, exclude=25.0, mindist=0.0, verbose=False
        )
        fwd = mne.make_forward_solution(
            info, trans=None, src=src, bem=sphere, eeg=True, meg=False, verbose=False
        )
    G = fwd["sol"]["data"]
    G = G[:-1] - G[-1]  # re-reference to the left mastoid
    # float32 rounding makes the gains independent of the last bits of BLAS
    G = G.astype(np.float32).astype(np.float64)
    ch_pos = montage.get_positions()["ch_pos"]
    return {
        "G": G,
        "rr": np.asarray(fwd["source_rr"], dtype=np.float64),
        "r0": np.asarray(sphere["r0"], dtype=np.float64),
        "ch_pos": {k: np.asarray(v, dtype=np.float64) for k, v in ch_pos.items()},
    }


def _topography(lf, idx, orientation):
    """Scalp pattern (22,) of a dipole at source ``idx`` with unit ``orientation``."""
    return lf["G"][:, 3 * idx : 3 * idx + 3] @ orientation


def _unit(v):
    return v / np.linalg.norm(v)


# ---------------------------------------------------------------------------
# random parameters: subject and session level
# ---------------------------------------------------------------------------


def _rng(seed, *key):
    """Generator for one (subject, session, run, ...) cell, independent of the others."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def _subject_quality(seed, n_subjects, subject):
    """Subject aptitude in [0, 1] (0: no usable modulation, 1: a strong, clean user).

    The aptitudes of the ``n_subjects`` subjects are stratified over [0, 1]
    (one per stratum, in a seed-dependent order) so that every dataset spans
    the range of Table I of Hersche et al. 2020 instead of clustering by chance.
    """
    rng = _rng(seed, 0)
    strata = rng.permutation(n_subjects)
    offsets = rng.uniform(0.2, 0.8, size=n_subjects)
    return float((strata[subject - 1] + offsets[subject - 1]) / n_subjects)


def _subject_params(seed, n_subjects, subject):
    """Anatomy, rhythms and aptitude of one subject (shared by both sessions)."""
    lf = _lead_field()
    rng = _rng(seed, subject)
    q = _subject_quality(seed, n_subjects, subject)
    r0, rr = lf["r0"], lf["rr"]
    idx, orient = [], []
    for k, (_, elecs, depth) in enumerate(_TASK_SOURCES):
        direction = _unit(sum(_unit(lf["ch_pos"][e] - r0) for e in elecs))
        target = r0 + depth * direction + rng.normal(0.0, 0.005, size=3)
        i = int(np.argmin(np.linalg.norm(rr - target, axis=1)))
        radial = _unit(rr[i] - r0)
        if k == _FEET:  # mesial wall: mostly perpendicular to the midline
            base = 0.8 * np.array([np.sign(rng.uniform(-1, 1)), 0.0, 0.0]) + 0.6 * radial
        else:  # walls of the central sulcus: mostly tangential (anterior-posterior)
            ap = _unit(np.cross(radial, [1.0, 0.0, 0.0]))
            base = 0.85 * ap * np.sign(rng.uniform(-1, 1)) + 0.5 * radial
        orient.append(_unit(base + 0.35 * rng.normal(size=3)))
        idx.append(i)
    topo = np.stack([_topography(lf, i, o) for i, o in zip(idx, orient)], axis=1)
    topo /= np.abs(topo).max(axis=0)  # unit peak: amplitudes below are uV at the peak electrode
    # background: many dipoles anywhere in the brain with log-normal strengths
    bg_idx = rng.choice(len(rr), size=_N_BACKGROUND, replace=False)
    bg_orient = rng.normal(size=(_N_BACKGROUND, 3))
    bg_orient /= np.linalg.norm(bg_orient, axis=1, keepdims=True)
    bg_topo = np.einsum("cij,ij->ci", lf["G"].reshape(len(EEG_CHANNELS), -1, 3)[:, bg_idx], bg_orient)
    bg_topo /= np.sqrt(np.mean(bg_topo**2))
    return {
        "quality": q,
        "topo": topo,  # (22, 6) task-source patterns
        "bg_topo": bg_topo,  # (22, n_bg)
        "bg_logstrength": rng.normal(0.0, 0.6, size=_N_BACKGROUND),
        "f_mu": rng.uniform(9.0, 12.5),
        "f_beta": rng.uniform(17.0, 25.0),
        "f_alpha": rng.uniform(9.0, 11.5),
        # sensorimotor rhythm strength (uV rms at peak electrode) and ERD depth
        "mu_amp": 2.0 + 9.0 * q + rng.uniform(0.0, 1.0),
        "beta_ratio": rng.uniform(0.35, 0.7),
        "depth": 0.2 + 0.75 * q,
        "lapse": 0.25 * (1.0 - q) + 0.02,  # probability of a trial without imagery
        "latency": rng.uniform(0.3, 0.7),
        "alpha_amp": rng.uniform(4.0, 10.0),
        "bg_amp": rng.uniform(8.0, 12.0) * (1.3 - 0.4 * q),  # broadband uV rms
        "bg_exponent": rng.uniform(1.0, 1.6),
        "blink_rate": rng.uniform(0.08, 0.35),  # per second
    }


def _session_params(seed, subject, session_index, subj):
    """What drifts between sessions: gains, background, impedances, rhythms."""
    rng = _rng(seed, subject, session_index + 1, 0)
    shift = 0.0 if session_index == 0 else 1.0  # 0train is the reference session
    n_ch = len(EEG_CHANNELS)
    return {
        "src_gain": np.exp(shift * rng.normal(0.0, 0.2, size=(len(_TASK_SOURCES), 2))),
        "mod_gain": np.exp(shift * rng.normal(0.0, 0.2, size=_N_MOTOR)),
        "bg_logstrength": subj["bg_logstrength"] + shift * rng.normal(0.0, 0.25, size=_N_BACKGROUND),
        "bg_scale": np.exp(shift * rng.normal(0.0, 0.15)),
        "f_shift": shift * rng.normal(0.0, 0.3),
        # electrode impedance: channel gains, noise floors, a drift over the session
        "ch_gain": np.exp(rng.normal(0.0, 0.03 + 0.02 * shift, size=n_ch)),
        "ch_drift": rng.normal(0.0, 0.03 + 0.04 * shift, size=n_ch),
        "ch_noise": 1.0 * np.exp(rng.normal(0.0, 0.3 + 0.2 * shift, size=n_ch)),
    }


# ---------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------


def _shaped_noise(rng, n_series, n_times, gain_fn, sfreq=SFREQ):
    """Gaussian noise with amplitude spectrum ``gain_fn(freqs)``, unit variance per series.

    Spectral synthesis: i.i.d. complex Gaussian Fourier coefficients times the
    gain, inverse real FFT (of a fast length, truncated to ``n_times``).
    """
    n_fft = next_fast_len(n_times, real=True)
    freqs = rfftfreq(n_fft, 1.0 / sfreq)
    gain = np.broadcast_to(gain_fn(freqs), (n_series, len(freqs)))
    coef = rng.standard_normal((n_series, len(freqs), 2), dtype=np.float32)
    spec = (coef[..., 0] + 1j * coef[..., 1]) * gain
    x = irfft(spec, n=n_fft, axis=-1)[:, :n_times]
    # normalise by the theoretical standard deviation (coefficients of variance 2)
    power = 4.0 * (np.abs(gain) ** 2).sum(axis=-1, keepdims=True) / n_fft**2
    return x / np.sqrt(np.maximum(power, 1e-300))


def _slow_noise(rng, n_series, n_times, cutoff_hz):
    """Unit-variance Gaussian noise below ``cutoff_hz``, drawn at 10 Hz and interpolated."""
    low_rate = 10.0
    n_low = int(np.ceil(n_times * low_rate / SFREQ)) + 2
    low = _shaped_noise(
        rng, n_series, n_low, lambda f: (f > 0) * np.exp(-0.5 * (f / cutoff_hz) ** 2), low_rate
    )
    t_low = np.arange(n_low) / low_rate
    t = np.arange(n_times) / SFREQ
    return np.stack([np.interp(t, t_low, row) for row in low])


def _narrowband(rng, freqs_hz, bandwidths, n_times):
    """Unit-variance band-limited noise (a randomly phased oscillator) per row."""
    f0 = np.asarray(freqs_hz, dtype=float)[:, None]
    bw = np.asarray(bandwidths, dtype=float)[:, None]
    return _shaped_noise(rng, len(f0), n_times, lambda f: np.exp(-0.5 * ((f - f0) / bw) ** 2))


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _trial_profiles(onsets, labels, perf, latency, n_times):
    """Task modulation ``P`` (4, n_times) and post-imagery rebound ``R`` (4, n_times)."""
    t = np.arange(n_times) / SFREQ
    P = np.zeros((4, n_times))
    R = np.zeros((4, n_times))
    for onset, label, p, lat in zip(onsets, labels, perf, latency):
        lo, hi = int(onset * SFREQ), min(n_times, int((onset + IMAGERY_END + 2.0) * SFREQ))
        tt = t[lo:hi] - onset
        rise = _smoothstep((tt - CUE_ONSET - lat) / 0.7)
        fall = 1.0 - _smoothstep((tt - IMAGERY_END - 0.2) / 0.5)
        P[label - 1, lo:hi] += p * rise * fall
        R[label - 1, lo:hi] += p * np.exp(-0.5 * ((tt - IMAGERY_END - 1.0) / 0.35) ** 2)
    return P, R


def _timeline(rng):
    """Trial-start times (s), labels (1..4) and run length (samples) of one run."""
    labels = rng.permutation(np.repeat(np.arange(1, 5), TRIALS_PER_RUN // 4))
    durations = IMAGERY_END + rng.uniform(1.5, 2.5, size=TRIALS_PER_RUN)  # trial + break
    onsets = 3.0 + np.concatenate([[0.0], np.cumsum(durations[:-1])])
    n_times = int(np.ceil((onsets[-1] + durations[-1] + 3.0) * SFREQ))
    return onsets, labels, n_times


def _ocular(rng, subj, n_times):
    """Vertical and horizontal EOG sources (uV): blinks, saccades, slow drifts."""
    vert = np.zeros(n_times)
    n_blinks = rng.poisson(subj["blink_rate"] * n_times / SFREQ)
    kernel_t = np.arange(int(0.6 * SFREQ)) / SFREQ
    for start, amp, width in zip(
        rng.integers(0, n_times, n_blinks),
        rng.uniform(80.0, 200.0, n_blinks),
        rng.uniform(0.06, 0.1, n_blinks),
    ):
        shape = amp * (kernel_t / width) ** 2 * np.exp(2.0 - 2.0 * kernel_t / width)
        stop = min(n_times, start + len(shape))
        vert[start:stop] += shape[: stop - start]
    # saccades: fixations of ~2 s at independent gaze positions, steps smoothed over ~30 ms
    n_fix = max(1, rng.poisson(n_times / SFREQ / 2.0))
    starts = np.sort(rng.integers(0, n_times, n_fix))
    which = np.searchsorted(starts, np.arange(n_times), side="right")  # 0 before the 1st saccade
    gaze = np.vstack([rng.normal(0.0, 25.0, n_fix + 1)[which], rng.normal(0.0, 8.0, n_fix + 1)[which]])
    k = np.hanning(9)
    k /= k.sum()
    horiz = np.convolve(gaze[0], k, mode="same")
    vert += np.convolve(gaze[1], k, mode="same")
    vert += 5.0 * _slow_noise(rng, 1, n_times, 0.3)[0]  # slow vertical drifts
    return vert, horiz


def _eog_leakage(lf):
    """Propagation of (vertical, horizontal) EOG to the 22 EEG channels."""
    pos = lf["ch_pos"]
    fpz = pos["Fpz"]
    lv, lh = [], []
    for ch in EEG_CHANNELS:
        d = np.linalg.norm(pos[ch] - fpz)
        lv.append(0.35 * np.exp(-d / 0.045))
        lh.append(0.12 * np.exp(-d / 0.045) * np.tanh((pos[ch][0] - fpz[0]) / 0.03))
    return np.array(lv), np.array(lh)


def _one_blas_thread(generate):
    """Run ``generate`` with one BLAS thread, so its bytes do not depend on the thread count.

    OpenBLAS splits a matrix product differently over 1 and 2 threads and the
    sums round differently: without this, a run generated in this process (all
    cores) and in an evaluation worker (one thread each) differ in the last bits.
    """

    @functools.wraps(generate)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return generate(*args, **kwargs)

    return wrapper


@_one_blas_thread
def _simulate_run(seed, subject, session_index, run_index, subj, sess):
    """One run: EEG (22, n) and EOG (3, n) in volts, trial-start samples and labels."""
    lf = _lead_field()
    rng = _rng(seed, subject, session_index + 1, run_index + 1)
    onsets, labels, n = _timeline(rng)
    n_ch = len(EEG_CHANNELS)

    # per-trial performance: lapses (no imagery) and variable vigour
    perf = np.where(
        rng.uniform(size=TRIALS_PER_RUN) < subj["lapse"],
        0.0,
        np.clip(rng.normal(1.0, 0.35, TRIALS_PER_RUN), 0.1, 1.8),
    )
    latency = subj["latency"] + rng.normal(0.0, 0.2, TRIALS_PER_RUN)
    P, R = _trial_profiles(onsets, labels, perf, latency, n)

    # oscillators: mu and beta on the 5 motor sources, alpha on the occipital source
    f_mu, f_beta = subj["f_mu"] + sess["f_shift"], subj["f_beta"] + sess["f_shift"]
    freqs = [f_mu] * _N_MOTOR + [f_beta] * _N_MOTOR + [subj["f_alpha"]]
    bws = [1.0] * _N_MOTOR + [2.5] * _N_MOTOR + [1.0]
    osc = _narrowband(rng, freqs, bws, n)
    # slow spontaneous amplitude fluctuations (log-normal, < 0.2 Hz)
    slow = np.exp(0.35 * _slow_noise(rng, len(freqs), n, 0.08))

    depth = subj["depth"] * sess["mod_gain"][:, None] * _MODULATION  # (5, 4)
    mod_mu = 1.0 + depth @ P
    mod_beta = 1.0 + 0.8 * depth @ P + np.clip(-depth, 0, None) @ R * 0.8  # beta rebound
    mod = np.maximum(np.vstack([mod_mu, mod_beta]), 0.05)
    amps = np.concatenate(
        [
            subj["mu_amp"] * sess["src_gain"][:_N_MOTOR, 0],
            subj["mu_amp"] * subj["beta_ratio"] * sess["src_gain"][:_N_MOTOR, 1],
        ]
    )
    motor = (amps[:, None] * slow[:-1] * mod) * osc[:-1]  # (10, n)
    # occipital alpha: a class-independent drop after every visual cue
    alpha_mod = np.maximum(1.0 - 0.3 * P.sum(axis=0) / max(perf.max(), 1e-9), 0.1)
    alpha = subj["alpha_amp"] * sess["src_gain"][_OCC, 0] * slow[-1] * alpha_mod * osc[-1]
    topo = subj["topo"]
    eeg = topo[:, :_N_MOTOR] @ (motor[:_N_MOTOR] + motor[_N_MOTOR:]) + np.outer(topo[:, _OCC], alpha)

    # background: the sum of many 1/f dipoles is Gaussian with covariance
    # sum_i s_i^2 l_i l_i^T; draw it through the covariance's square root
    strengths = np.exp(sess["bg_logstrength"])
    cov = (subj["bg_topo"] * strengths) @ (subj["bg_topo"] * strengths).T
    cov *= (subj["bg_amp"] * sess["bg_scale"]) ** 2 / np.mean(np.diag(cov))
    w, V = np.linalg.eigh(cov)
    root = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    alpha_exp = subj["bg_exponent"]
    pink = _shaped_noise(rng, n_ch, n, lambda f: (f > 0) / np.maximum(f, 0.5) ** (alpha_exp / 2.0))
    eeg += root @ pink

    # ocular artifacts leaking into frontal channels
    vert, horiz = _ocular(rng, subj, n)
    lv, lh = _eog_leakage(lf)
    eeg += np.outer(lv, vert) + np.outer(lh, horiz)

    # electrodes: impedance-dependent gain drifting over the session, slow
    # offsets, white amplifier/contact noise
    progress = (run_index + np.linspace(0.0, 1.0, n)) / N_RUNS
    gain = sess["ch_gain"][:, None] * (1.0 + sess["ch_drift"][:, None] * progress[None, :])
    drift = 8.0 * _slow_noise(rng, n_ch, n, 0.15)
    eeg = gain * eeg + drift + sess["ch_noise"][:, None] * rng.standard_normal((n_ch, n))

    eog_noise = 2.0 * rng.standard_normal((3, n))
    eog = np.vstack([vert - 0.6 * horiz, vert, vert + 0.6 * horiz]) + eog_noise
    eog += 0.1 * eeg[[0, 3, 4]]  # EOG electrodes also pick up frontal EEG
    starts = np.round(onsets * SFREQ).astype(int)
    return eeg * 1e-6, eog * 1e-6, starts, labels


@functools.lru_cache(maxsize=4)
def _simulate_session(seed, n_subjects, subject, session_index):
    """All runs of one session: tuple of (eeg, eog, starts, labels), float32 volts.

    The last 4 sessions (2 subjects, about 120 MB) stay cached in the process,
    so that loading a subject twice (footprint fit, then evaluation) generates
    it once. The arrays are read-only.
    """
    subj = _subject_params(seed, n_subjects, subject)
    sess = _session_params(seed, subject, session_index, subj)
    runs = []
    for r in range(N_RUNS):
        eeg, eog, starts, labels = _simulate_run(seed, subject, session_index, r, subj, sess)
        arrays = (eeg.astype(np.float32), eog.astype(np.float32), starts, labels)
        for a in arrays:
            a.flags.writeable = False
        runs.append(arrays)
    return tuple(runs)


def _to_raw(eeg, eog, starts, labels):
    import mne

    stim = np.zeros((1, eeg.shape[1]))
    stim[0, starts] = labels
    data = np.vstack([eeg, eog, stim]).astype(np.float64)
    ch_names = list(EEG_CHANNELS) + list(EOG_CHANNELS) + ["STI"]
    ch_types = ["eeg"] * len(EEG_CHANNELS) + ["eog"] * len(EOG_CHANNELS) + ["stim"]
    info = mne.create_info(ch_names, SFREQ, ch_types)
    raw = mne.io.RawArray(data, info, verbose=False)
    raw.set_montage(_montage(), verbose=False)
    raw.info["line_freq"] = 50.0
    return raw


class SimulatedMotorImagery(BaseDataset):
    """Simulated 4-class motor-imagery EEG shaped like BCI Competition IV-2a.

    A stand-in for :class:`moabb.datasets.BNCI2014_001` that needs no download:
    same 22 EEG channels (standard 10-05 positions) plus 3 EOG channels, 250 Hz,
    events ``left_hand``, ``right_hand``, ``feet``, ``tongue`` at trial start
    with the imagery interval 2-6 s, sessions ``0train`` and ``1test`` of 6 runs
    of 48 trials (288 trials per session). It exists so that pipelines,
    evaluations and the ``eegbin evaluate`` command run offline. **It is not a
    source of publishable numbers**: accuracies on it say that a pipeline
    works, not how well it decodes real brains.

    Parameters
    ----------
    subjects : list of int or int, default=None
        The subjects to serve, as MOABB's ``subjects``: a list of subject
        numbers in ``1..n_subjects`` (None: all of them). An int ``n`` is short
        for ``n_subjects=n`` (the subjects 1..n of a population of n).
    seed : int, default=42
        Seed of the whole dataset. Every (subject, session, run) draws from its
        own :class:`numpy.random.SeedSequence` child of ``seed``, so a subject is
        bit-identical whatever other subjects are loaded and in any process.
    selected_subjects : list of int, optional
        Restrict ``subject_list`` (MOABB's ``subjects=`` selection).
    sessions : list of str, optional
        Restrict the sessions returned (MOABB's ``sessions=`` selection).
    n_subjects : int, default=9
        Size of the simulated population (the name of MOABB's ``FakeDataset``).
        A subject's data depend on ``seed``, ``n_subjects`` and its number only:
        ``subjects=[2]`` serves the same subject 2 as the default dataset.

    Attributes
    ----------
    subject_list : list of int
        Subjects served by :meth:`get_data`.
    event_id : dict
        ``{"left_hand": 1, "right_hand": 2, "feet": 3, "tongue": 4}``.
    interval : list
        ``[2, 6]``: imagery interval in seconds after the trial-start event.
    n_subjects, seed : int
        The population size and the seed.
    sfreq : float
        250.0 Hz.

    Notes
    -----
    Generative model (all amplitudes in microvolts at the scalp):

    * **Head and lead field.** A three-shell sphere fitted to the standard 10-05
      electrode positions (:func:`mne.make_sphere_model`), a volume source space
      on an 8 mm grid (:func:`mne.setup_volume_source_space`) and the
      free-orientation gain matrix of :func:`mne.make_forward_solution` for the
      22 electrodes, re-referenced to the left mastoid (M1) as in BCI IV-2a.
      Computed once per process (about a second). A subject takes a few
      seconds to generate; the last two subjects stay cached in the process
      (float32), and MOABB's ``cache_config`` can store them on disk under
      MNE's data directory like any other dataset.
    * **Task sources** (per subject, positions jittered by 5 mm, orientations
      perturbed): left and right hand areas under C3/C4 (tangential, sulcal),
      a deeper medial feet area under Cz (oriented across the midline), left and
      right lateral-inferior tongue areas (C5/T7, C6/T8), and a task-unrelated
      occipital alpha source. Each motor source carries a mu oscillator (subject
      frequency 9-12.5 Hz, 1 Hz wide) and a beta oscillator (17-25 Hz, 2.5 Hz
      wide), with slow log-normal amplitude fluctuations.
    * **Task modulation.** After the cue (t = 2 s) plus a latency of 0.3-0.7 s,
      each source's amplitude is multiplied by ``1 + depth * M[source, class]``
      (ramping in over 0.7 s, out after t = 6 s, followed by a beta rebound):
      contralateral hand ERD with weaker ipsilateral ERD, feet/tongue ERD of
      their own areas with ERS of the hand areas. ``M`` is ``_MODULATION``.
      Per trial, the imagery is skipped with probability ``lapse`` or its
      strength varies (normal, sd 0.35); the visual cue causes a
      class-independent occipital alpha ERD.
    * **Background.** 400 dipoles at random grid points with random orientations
      and log-normal strengths, each a 1/f^a process (a in 1-1.6 per subject):
      their sum is Gaussian, drawn through the square root of its covariance.
    * **Artifacts and sensors.** Blinks (Poisson, 0.08-0.35 /s, 80-200 uV),
      saccades and slow vertical eye drifts on EOG1-3, leaking into frontal
      electrodes with a gain decaying with the distance from Fpz; per-channel
      gains and white noise (electrode impedance), slow offsets below 0.3 Hz.
    * **Subjects.** An aptitude ``q`` in [0, 1] per subject, stratified over
      the subjects in a seed-dependent order, sets the rhythm strength, the
      ERD depth, the lapse rate and the background level, so that standard
      pipelines span from near chance to about 90 % like the per-subject
      spread in Table I of Hersche et al. 2020. It was tuned on CSP+LDA and
      tangent space + logistic regression only.
    * **Sessions.** ``1test`` differs from ``0train`` by source gains (log-normal,
      sd 0.2), ERD depths (sd 0.2), background dipole strengths (sd 0.25, i.e.
      a different background covariance), rhythm frequencies (sd 0.3 Hz),
      channel gains, noise floors and gain drift over the session (electrode
      impedance), so that cross-session accuracy is lower than within-session
      accuracy.

    References
    ----------
    .. [1] M. Tangermann et al., "Review of the BCI competition IV", Frontiers in
       Neuroscience 6:55, 2012 (data set 2a, the design simulated here).
    .. [2] G. Pfurtscheller, F. H. Lopes da Silva, "Event-related EEG/MEG
       synchronization and desynchronization: basic principles", Clinical
       Neurophysiology 110(11), 1999.
    .. [3] M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for
       Motor-Imagery Brain-Computer Interface Classification", IEEE JETCAS,
       2020, Table I (per-subject accuracy spread).

    Examples
    --------
    >>> from eegbin.datasets import SimulatedMotorImagery
    >>> ds = SimulatedMotorImagery(subjects=[1, 3], seed=0)
    >>> ds.subject_list, ds.n_subjects, ds.event_id["tongue"], ds.interval
    ([1, 3], 9, 4, [2, 6])
    >>> SimulatedMotorImagery(n_subjects=2).subject_list
    [1, 2]
    """

    def __init__(self, subjects=None, seed=42, selected_subjects=None, sessions=None, n_subjects=None):
        if isinstance(subjects, (int, np.integer)) and not isinstance(subjects, bool):
            if n_subjects is not None:
                raise ValueError(
                    f"subjects={subjects!r} is a count, and n_subjects={n_subjects!r} another: give the "
                    "population as n_subjects and the subjects as a list"
                )
            n_subjects, subjects = subjects, None  # the short form: a count
        n_subjects = 9 if n_subjects is None else n_subjects
        if isinstance(n_subjects, bool) or not isinstance(n_subjects, (int, np.integer)) or n_subjects < 1:
            raise ValueError(f"subjects (a count) and n_subjects must be a positive integer, got {n_subjects!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        population = list(range(1, int(n_subjects) + 1))
        if subjects is None:
            subjects = population
        elif isinstance(subjects, (str, bytes)) or not hasattr(subjects, "__iter__"):
            raise ValueError(f"subjects must be a list of subject numbers or a count, got {subjects!r}")
        else:
            subjects = list(subjects)
            bad = [s for s in subjects if isinstance(s, bool) or s not in population]
            if bad or not subjects:
                raise ValueError(
                    f"subjects must be a non-empty list of subject numbers in 1..{n_subjects} "
                    f"(n_subjects={n_subjects}), got {subjects!r}"
                )
            subjects = sorted({int(s) for s in subjects})
        self.n_subjects = int(n_subjects)
        self.seed = int(seed)
        self.sfreq = SFREQ
        super().__init__(
            subjects=subjects,
            sessions_per_subject=len(SESSIONS),
            events=dict(EVENTS),
            code=f"SimulatedMotorImagery-seed{self.seed}-n{self.n_subjects}-v{_GENERATOR_VERSION}",
            interval=[2, 6],
            paradigm="imagery",
            doi=None,
            selected_subjects=selected_subjects,
            selected_sessions=sessions,
        )

    def _get_single_subject_data(self, subject):
        """``{session: {run: mne.io.RawArray}}`` for one subject (volts)."""
        if subject not in self._all_subjects:
            raise ValueError(f"subject must be one of {self._all_subjects}, got {subject!r}")
        data = {}
        for s, session in enumerate(SESSIONS):
            runs = _simulate_session(self.seed, self.n_subjects, subject, s)
            data[session] = {str(r): _to_raw(*run) for r, run in enumerate(runs)}
        return data

    def data_path(self, subject, path=None, force_update=False, update_path=None, verbose=None):
        """Nothing to download: the data are generated on the fly. Returns ``[]``."""
        return []
