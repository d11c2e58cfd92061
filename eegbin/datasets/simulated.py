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
from scipy.signal import hilbert
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
#: bump whenever the generative model changes: it is part of the dataset ``code``,
#: which keys MOABB's on-disk cache, so cached epochs of an older model are never served.
#: 2 (issue 18, section 8): separate mu and beta generators with band-specific ERD and
#: beta rebound, rhythms as peaks in dB above the 1/f background, arch-shaped mu, two
#: occipital alpha generators, cap displacement between sessions, impedance as noise.
_GENERATOR_VERSION = 2

# Task-related cortical areas: (name, electrodes whose mean direction from the
# sphere centre points at the area, depth in m from the centre). Each motor area
# holds two generators: the mu rhythm in the post-central (somatosensory) bank and
# the beta rhythm about 12 mm anterior in the pre-central (motor) cortex, so that
# the two bands have different scalp patterns (Salmelin & Hari 1994; Pfurtscheller
# & Lopes da Silva 1999).
_MOTOR_AREAS = (
    ("hand_left_hemi", ("C3",), 0.066),  # right-hand area
    ("hand_right_hemi", ("C4",), 0.066),  # left-hand area
    ("feet", ("Cz",), 0.052),  # medial wall, deeper
    ("tongue_left_hemi", ("C5", "T7", "FT7"), 0.064),  # lateral-inferior
    ("tongue_right_hemi", ("C6", "T8", "FT8"), 0.064),
)
# Task-unrelated parieto-occipital alpha generators (left and right visual cortex)
_ALPHA_AREAS = (
    ("alpha_left", ("O1", "PO3"), 0.062),
    ("alpha_right", ("O2", "PO4"), 0.062),
)
_HAND_L, _HAND_R, _FEET, _TONGUE_L, _TONGUE_R = range(5)
_N_MOTOR = len(_MOTOR_AREAS)
_N_ALPHA = len(_ALPHA_AREAS)
_IMPEDANCE = 5e3  # ohm, typical electrode-skin impedance of a wet electrode
_INPUT_IMPEDANCE = 1e9  # ohm, input impedance of a biosignal amplifier
_CONTACT_NOISE = 1.0  # uV rms white noise of an electrode at _IMPEDANCE
_BW_MU, _BW_BETA = 1.0, 2.0  # Hz, width of the mu/alpha and beta peaks (see _narrowband)
_BETA_OFFSET = 0.012  # m, pre-central beta generator anterior to the post-central mu one

# Relative ERD (< 0) / ERS (> 0) of each motor area for each class, scaled by the
# subject's modulation depth (rows: areas, columns: left, right, feet, tongue).
# Mu band: contralateral hand ERD with weaker ipsilateral ERD; feet and tongue
# imagery desynchronize their own areas and synchronize the hand areas ("focal
# ERD / surround ERS", Pfurtscheller & Lopes da Silva 1999; the hand-area mu ERS
# during foot and tongue imagery, Pfurtscheller et al. 2006).
_MODULATION_MU = np.array(
    [
        # left   right  feet   tongue
        [-0.30, -1.00, +0.40, +0.30],  # hand_left_hemi
        [-1.00, -0.30, +0.40, +0.30],  # hand_right_hemi
        [-0.10, -0.10, -0.90, +0.20],  # feet
        [-0.05, -0.15, +0.10, -0.85],  # tongue_left_hemi
        [-0.15, -0.05, +0.10, -0.85],  # tongue_right_hemi
    ]
)
# Beta band: the ERD is more bilateral for hand imagery and the surround ERS of
# the mu band is absent (Pfurtscheller & Lopes da Silva 1999; Pfurtscheller
# et al. 2006), so mu and beta carry different, partly opposite class information
# that a single 8-30 Hz band sums.
_MODULATION_BETA = np.array(
    [
        # left   right  feet   tongue
        [-0.40, -0.90, -0.10, -0.05],  # hand_left_hemi
        [-0.90, -0.40, -0.10, -0.05],  # hand_right_hemi
        [-0.15, -0.15, -0.85, -0.10],  # feet
        [-0.05, -0.10, -0.05, -0.80],  # tongue_left_hemi
        [-0.10, -0.05, -0.05, -0.80],  # tongue_right_hemi
    ]
)
# Post-imagery beta rebound (ERS about 1 s after the end of imagery), strongest
# at the vertex after foot imagery (Pfurtscheller et al. 2005).
_REBOUND = np.array([0.6, 0.6, 1.2, 0.5, 0.5])


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


def _place_source(lf, rng, elecs, depth, anterior=0.0):
    """Grid index of a source under ``elecs`` at ``depth`` (5 mm jitter), ``anterior`` m forward."""
    r0, rr = lf["r0"], lf["rr"]
    direction = _unit(sum(_unit(lf["ch_pos"][e] - r0) for e in elecs))
    target = r0 + depth * direction
    if anterior:
        forward = np.array([0.0, 1.0, 0.0])  # head coordinates: +y towards the nasion
        target = target + anterior * _unit(forward - np.dot(forward, direction) * direction)
    target = target + rng.normal(0.0, 0.005, size=3)
    return int(np.argmin(np.linalg.norm(rr - target, axis=1)))


def _orientation(lf, rng, i, medial, radial_weight):
    """Dipole orientation at grid point ``i``: sulcal (anterior-posterior) or across the midline."""
    radial = _unit(lf["rr"][i] - lf["r0"])
    if medial:  # mesial wall: mostly perpendicular to the midline
        base = 0.8 * np.array([np.sign(rng.uniform(-1, 1)), 0.0, 0.0]) + 0.6 * radial
    else:  # walls of the central sulcus: mostly tangential (anterior-posterior)
        ap = _unit(np.cross(radial, [1.0, 0.0, 0.0]))
        base = 0.85 * ap * np.sign(rng.uniform(-1, 1)) + radial_weight * radial
    return _unit(base + 0.35 * rng.normal(size=3))


def _pink_gain(f, exponent):
    """Amplitude spectrum of the background: power 1/f^exponent, flat below 0.5 Hz, 0 at DC."""
    return (f > 0) / np.maximum(f, 0.5) ** (exponent / 2.0)


def _peak_amplitude(peak_db, f0, bandwidth, bg_amp, bg_exponent):
    """RMS amplitude (uV) of a rhythm whose spectral peak stands ``peak_db`` above the background.

    The background has ``bg_amp`` uV rms and power spectrum ``_pink_gain**2``; the
    rhythm a Gaussian power peak of standard deviation ``bandwidth / sqrt(2)``
    (see ``_narrowband``), i.e. peak density ``amp**2 / (sqrt(pi) * bandwidth)``.
    """
    f = np.linspace(0.0, SFREQ / 2.0, 20001)
    bg_density = bg_amp**2 * _pink_gain(f0, bg_exponent) ** 2 / np.trapezoid(_pink_gain(f, bg_exponent) ** 2, f)
    ratio = 10.0 ** (np.asarray(peak_db) / 10.0) - 1.0
    return np.sqrt(ratio * bg_density * np.sqrt(np.pi) * bandwidth)


def _subject_params(seed, n_subjects, subject):
    """Anatomy, rhythms and aptitude of one subject (shared by both sessions).

    Sources, in the column order of ``src_idx``/``src_orient``: 5 mu generators
    (post-central), 5 beta generators (pre-central, ``_BETA_OFFSET`` anterior, more
    radial: crown of the precentral gyrus), 2 occipital alpha generators.
    """
    lf = _lead_field()
    rng = _rng(seed, subject)
    q = _subject_quality(seed, n_subjects, subject)
    rr = lf["rr"]
    idx, orient = [], []
    for k, (_, elecs, depth) in enumerate(_MOTOR_AREAS):  # mu
        i = _place_source(lf, rng, elecs, depth)
        idx.append(i)
        orient.append(_orientation(lf, rng, i, k == _FEET, 0.5))
    for k, (_, elecs, depth) in enumerate(_MOTOR_AREAS):  # beta
        i = _place_source(lf, rng, elecs, depth, anterior=_BETA_OFFSET)
        idx.append(i)
        orient.append(_orientation(lf, rng, i, k == _FEET, 0.9))
    for _, elecs, depth in _ALPHA_AREAS:
        i = _place_source(lf, rng, elecs, depth)
        idx.append(i)
        orient.append(_unit(_unit(rr[i] - lf["r0"]) + 0.5 * rng.normal(size=3)))
    topo = np.stack([_topography(lf, i, o) for i, o in zip(idx, orient)], axis=1)
    # unit peak: amplitudes below are uV at the peak electrode (of session 0train)
    peak = np.abs(topo).max(axis=0)
    topo /= peak
    # background: many dipoles anywhere in the brain with log-normal strengths
    bg_idx = rng.choice(len(rr), size=_N_BACKGROUND, replace=False)
    bg_orient = rng.normal(size=(_N_BACKGROUND, 3))
    bg_orient /= np.linalg.norm(bg_orient, axis=1, keepdims=True)
    bg_topo = np.einsum("cij,ij->ci", lf["G"].reshape(len(EEG_CHANNELS), -1, 3)[:, bg_idx], bg_orient)
    bg_topo /= np.sqrt(np.mean(bg_topo**2))
    bg_amp = rng.uniform(8.0, 12.0) * (1.3 - 0.4 * q)  # broadband uV rms
    bg_exponent = rng.uniform(1.0, 1.6)
    f_mu, f_beta, f_alpha = rng.uniform(8.5, 12.5), rng.uniform(16.0, 26.0), rng.uniform(8.5, 12.0)
    # Rhythms are peaks above the 1/f background (Donoghue et al. 2020), set by
    # their height in dB at the peak electrode; the height of the mu peak above
    # the 1/f curve predicts SMR-BCI performance (Blankertz et al. 2010), so it
    # grows with the aptitude q. Posterior alpha is the strongest peak.
    mu_db = 2.0 + 13.0 * q + rng.uniform(0.0, 1.0)
    beta_db = mu_db * rng.uniform(0.4, 0.8)
    alpha_db = rng.uniform(10.0, 16.0, size=_N_ALPHA)
    # which band reacts: subject-specific (Pfurtscheller & Neuper 2001), the
    # reason for per-subject frequency bands (FBCSP, Ang et al. 2008)
    mix = rng.uniform(-1.0, 1.0)  # < 0: beta-dominant, > 0: mu-dominant
    return {
        "quality": q,
        "src_idx": np.array(idx),
        "src_orient": np.array(orient),
        "src_peak": peak,
        "topo": topo[:, :_N_MOTOR],  # (22, 5) mu patterns
        "topo_beta": topo[:, _N_MOTOR : 2 * _N_MOTOR],  # (22, 5) beta patterns
        "topo_alpha": topo[:, 2 * _N_MOTOR :],  # (22, 2) occipital alpha patterns
        "bg_topo": bg_topo,  # (22, n_bg)
        "bg_logstrength": rng.normal(0.0, 0.6, size=_N_BACKGROUND),
        # individual peak frequencies (Pfurtscheller & Lopes da Silva 1999; Klimesch 1999)
        "f_mu": f_mu,
        "f_beta": f_beta,
        "f_alpha": f_alpha,
        # sensorimotor rhythm strength (uV rms at peak electrode) and ERD depth
        "mu_amp": _peak_amplitude(mu_db, f_mu, _BW_MU, bg_amp, bg_exponent),
        "beta_amp": _peak_amplitude(beta_db, f_beta, _BW_BETA, bg_amp, bg_exponent),
        "mu_harmonic": rng.uniform(0.3, 0.6),  # relative amplitude of the mu's 2nd harmonic
        "react_mu": 1.0 + 0.8 * min(mix, 0.0),
        "react_beta": 1.0 - 0.8 * max(mix, 0.0),
        "depth": 0.2 + 0.75 * q,
        "lapse": 0.25 * (1.0 - q) + 0.02,  # probability of a trial without imagery
        "latency": rng.uniform(0.3, 0.7),
        # posterior alpha: the strongest rhythm of the scalp EEG, task-unrelated here,
        # waxing with time on task (Oken et al. 2006)
        "alpha_amp": _peak_amplitude(alpha_db, f_alpha, _BW_MU, bg_amp, bg_exponent),
        "alpha_fluct": rng.uniform(0.3, 0.6),
        "alpha_fatigue": rng.uniform(0.0, 0.6),
        "bg_amp": bg_amp,
        "bg_exponent": bg_exponent,
        "blink_rate": rng.uniform(0.08, 0.35),  # per second
    }


def _displaced_topographies(lf, subj, shift):
    """Source patterns (22, n_sources) after the electrode cap moved by ``-shift`` (m).

    Moving the cap by -d is moving every source by +d relative to the electrodes.
    The lead field lives on an 8 mm grid: interpolate linearly between a source's
    grid point and its neighbour nearest to the displaced position.
    """
    rr = lf["rr"]
    norm = float(np.linalg.norm(shift))
    topo = np.stack([_topography(lf, i, o) for i, o in zip(subj["src_idx"], subj["src_orient"])], axis=1)
    if norm > 0:
        for k, (i, o) in enumerate(zip(subj["src_idx"], subj["src_orient"])):
            dist = np.linalg.norm(rr - (rr[i] + 0.008 * shift / norm), axis=1)
            dist[i] = np.inf
            j = int(np.argmin(dist))
            w = min(1.0, norm / float(np.linalg.norm(rr[j] - rr[i])))
            topo[:, k] = (1.0 - w) * topo[:, k] + w * _topography(lf, j, o)
    return topo / subj["src_peak"]


def _session_params(seed, subject, session_index, subj):
    """What drifts between sessions: cap position, gains, background, impedances, rhythms.

    Sensorimotor rhythms and their ERD vary between days (Shenoy et al. 2006), the
    cap is placed again with a few millimetres of error (Atcherson et al. 2007).
    """
    lf = _lead_field()
    rng = _rng(seed, subject, session_index + 1, 0)
    shift = 0.0 if session_index == 0 else 1.0  # 0train is the reference session
    n_ch = len(EEG_CHANNELS)
    n_src = 2 * _N_MOTOR + _N_ALPHA
    cap_shift = shift * rng.normal(0.0, 0.004, size=3)
    return {
        "topo": _displaced_topographies(lf, subj, cap_shift),  # (22, 12)
        "src_gain": np.exp(shift * rng.normal(0.0, 0.2, size=n_src)),
        "mod_gain": np.exp(shift * rng.normal(0.0, 0.2, size=(_N_MOTOR, 2))),
        # the background is a stable trait: resting spectra of a person are
        # reliable across sessions (Naepflin et al. 2007), so its sources drift little
        "bg_logstrength": subj["bg_logstrength"] + shift * rng.normal(0.0, 0.1, size=_N_BACKGROUND),
        "bg_scale": np.exp(shift * rng.normal(0.0, 0.15)),
        "f_shift": shift * rng.normal(0.0, 0.3),
        "alpha_level": np.exp(shift * rng.normal(0.0, 0.3)),
        # electrode-skin impedance (ohm) at the start of the session, new at every
        # montage, and its rise over the session as the gel dries (log factor)
        "impedance": _IMPEDANCE * np.exp(rng.normal(0.0, 0.6, size=n_ch)),
        "impedance_drift": rng.uniform(0.0, 0.7, size=n_ch),
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


def _arch_shaped(osc, harmonic):
    """Non-sinusoidal (arch-shaped) version of narrow-band rows: a phase-locked 2nd harmonic.

    The mu rhythm is arch-shaped, not sinusoidal (Pfurtscheller & Lopes da Silva
    1999; Cole & Voytek 2017): with the analytic signal ``a exp(i phi)`` of each
    row, returns ``(a cos(phi) - h a cos(2 phi)) / sqrt(1 + h**2)`` (unit variance
    again), whose harmonic at twice the frequency waxes and wanes with the
    fundamental and has its spatial pattern.
    """
    z = hilbert(osc, axis=-1)
    amp, phase = np.abs(z), np.angle(z)
    h = np.asarray(harmonic, dtype=float).reshape(-1, 1)
    return (osc - h * amp * np.cos(2.0 * phase)) / np.sqrt(1.0 + h**2)


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


def _modulations(subj, sess, P, R):
    """Amplitude factors (10, n_times) of the 5 mu and the 5 beta generators.

    ``P`` and ``R`` are the task and post-imagery profiles of
    :func:`_trial_profiles`. Band-specific ERD/ERS during imagery (Pfurtscheller
    & Lopes da Silva 1999; ``_MODULATION_MU``, ``_MODULATION_BETA``) scaled by
    the subject's depth and band reactivity and the session's gains; beta
    rebound after imagery in the areas whose beta desynchronized (Pfurtscheller
    et al. 2005). Floored at 0.05 (an ERD never silences a rhythm completely).
    """
    d_mu = subj["depth"] * subj["react_mu"] * sess["mod_gain"][:, :1] * _MODULATION_MU  # (5, 4)
    d_beta = subj["depth"] * subj["react_beta"] * sess["mod_gain"][:, 1:] * _MODULATION_BETA
    rebound = _REBOUND[:, None] * np.clip(-d_beta, 0.0, None)
    mod_mu = 1.0 + d_mu @ P
    mod_beta = 1.0 + d_beta @ P + rebound @ R
    return np.maximum(np.vstack([mod_mu, mod_beta]), 0.05)


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

    # oscillators: mu (post-central) and beta (pre-central) generators of the 5
    # motor areas at the subject's frequencies, occipital alpha at its own
    f_mu, f_beta = subj["f_mu"] + sess["f_shift"], subj["f_beta"] + sess["f_shift"]
    freqs = [f_mu] * _N_MOTOR + [f_beta] * _N_MOTOR + [subj["f_alpha"]] * _N_ALPHA
    bws = [_BW_MU] * _N_MOTOR + [_BW_BETA] * _N_MOTOR + [_BW_MU] * _N_ALPHA
    osc = _narrowband(rng, freqs, bws, n)
    osc[:_N_MOTOR] = _arch_shaped(osc[:_N_MOTOR], subj["mu_harmonic"])
    # slow spontaneous amplitude fluctuations (log-normal, < 0.2 Hz); the
    # posterior alpha fluctuates most (vigilance)
    sd = np.array([0.35] * (2 * _N_MOTOR) + [subj["alpha_fluct"]] * _N_ALPHA)[:, None]
    slow = np.exp(sd * _slow_noise(rng, len(freqs), n, 0.08))

    mod = _modulations(subj, sess, P, R)
    amps = np.concatenate([[subj["mu_amp"]] * _N_MOTOR, [subj["beta_amp"]] * _N_MOTOR])
    amps = amps * sess["src_gain"][: 2 * _N_MOTOR]
    motor = (amps[:, None] * slow[: 2 * _N_MOTOR] * mod) * osc[: 2 * _N_MOTOR]  # (10, n)
    # occipital alpha: a class-independent drop after every visual cue, growing
    # with time on task; a nuisance of CSP (Blankertz et al. 2008, invariant CSP)
    progress = (run_index + np.linspace(0.0, 1.0, n)) / N_RUNS
    alpha_mod = np.maximum(1.0 - 0.3 * P.sum(axis=0) / max(perf.max(), 1e-9), 0.1)
    alpha_mod = alpha_mod * np.exp(subj["alpha_fatigue"] * progress) * sess["alpha_level"]
    alpha_amps = subj["alpha_amp"] * sess["src_gain"][2 * _N_MOTOR :]
    alpha = alpha_amps[:, None] * slow[2 * _N_MOTOR :] * alpha_mod * osc[2 * _N_MOTOR :]
    eeg = sess["topo"] @ np.vstack([motor, alpha])

    # background: the sum of many 1/f dipoles is Gaussian with covariance
    # sum_i s_i^2 l_i l_i^T; draw it through the covariance's square root
    strengths = np.exp(sess["bg_logstrength"])
    cov = (subj["bg_topo"] * strengths) @ (subj["bg_topo"] * strengths).T
    cov *= (subj["bg_amp"] * sess["bg_scale"]) ** 2 / np.mean(np.diag(cov))
    w, V = np.linalg.eigh(cov)
    root = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    alpha_exp = subj["bg_exponent"]
    pink = _shaped_noise(rng, n_ch, n, lambda f: _pink_gain(f, alpha_exp))
    eeg += root @ pink

    # ocular artifacts leaking into frontal channels
    vert, horiz = _ocular(rng, subj, n)
    lv, lh = _eog_leakage(lf)
    eeg += np.outer(lv, vert) + np.outer(lh, horiz)

    # electrodes: the electrode impedance and the amplifier's input impedance
    # divide the scalp voltage (a gain below 1 by ~1e-5: impedance changes the
    # noise, not the signal, Ferree et al. 2001); electrode noise grows with the
    # impedance (Huigen et al. 2002); slow offsets
    z = sess["impedance"][:, None] * np.exp(sess["impedance_drift"][:, None] * progress[None, :])
    gain = _INPUT_IMPEDANCE / (_INPUT_IMPEDANCE + z)
    noise = _CONTACT_NOISE * np.sqrt(z / _IMPEDANCE)
    drift = 8.0 * _slow_noise(rng, n_ch, n, 0.15)
    eeg = gain * eeg + drift + noise * rng.standard_normal((n_ch, n))

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
      perturbed): left and right hand areas under C3/C4, a deeper medial feet
      area under Cz (oriented across the midline), left and right
      lateral-inferior tongue areas (C5/T7, C6/T8). Each area has two
      generators: the mu rhythm in the post-central bank of the central sulcus
      (tangential) and the beta rhythm 12 mm anterior in the pre-central cortex
      (more radial), so that mu and beta have different scalp patterns
      [4]_ [2]_. Two task-unrelated parieto-occipital alpha generators (under
      O1/PO3 and O2/PO4).
    * **Spectra.** Every rhythm is a narrow Gaussian peak (mu and alpha 1 Hz,
      beta 2 Hz wide) at the subject's own frequency (mu 8.5-12.5 Hz, beta
      16-26 Hz, alpha 8.5-12 Hz [18]_) standing a given height in dB above the 1/f
      background at its peak electrode [5]_: mu ``2 + 13 q`` dB (the height
      of the SMR peak above the 1/f curve predicts BCI performance [6]_),
      beta 0.4-0.8 times that, posterior alpha 10-16 dB, the strongest peak of
      the EEG. The mu is arch-shaped: a phase-locked 2nd harmonic of relative
      amplitude 0.3-0.6 at twice its frequency, with its spatial pattern and
      its ERD [17]_. All amplitudes fluctuate slowly (log-normal, below 0.1 Hz),
      the alpha most (sd 0.3-0.6, vigilance).
    * **Task modulation (ERD/ERS).** After the cue (t = 2 s) plus a latency of
      0.3-0.7 s, each generator's amplitude is multiplied by
      ``1 + depth * M[area, class]`` (ramping in over 0.7 s, out after t = 6 s)
      with a different ``M`` per band [2]_ [7]_: in the mu band contralateral
      hand ERD with weaker ipsilateral ERD, feet/tongue ERD of their own areas
      with ERS of the hand areas ("focal ERD / surround ERS"); in the beta band
      a more bilateral hand ERD and no surround ERS. After the imagery, beta
      rebounds (ERS about 1 s after its end, strongest at the vertex after
      foot imagery [8]_). Which band reacts is subject-specific [9]_ [19]_: one of
      mu and beta reacts fully, the other 0.2-1 times as much. Per trial, the
      imagery is skipped with probability ``lapse`` or its strength varies
      (normal, sd 0.35). The visual cue causes a class-independent occipital
      alpha ERD, and the alpha grows with time on task (up to x1.8 over a
      session) [10]_: a strong, non-stationary, non-discriminative source in
      the 8-30 Hz band, the nuisance of CSP analysed in [11]_.
    * **Background.** 400 dipoles at random grid points with random orientations
      and log-normal strengths, each a 1/f^a process (a in 1-1.6 per subject):
      their sum is Gaussian, drawn through the square root of its covariance.
    * **Artifacts and sensors.** Blinks (Poisson, 0.08-0.35 /s, 80-200 uV),
      saccades and slow vertical eye drifts on EOG1-3, leaking into frontal
      electrodes with a gain decaying with the distance from Fpz; slow offsets
      below 0.3 Hz. Electrode impedances (log-normal around 5 kOhm, new at
      every montage, rising over the session) divide the signal with the
      amplifier's 1 GOhm input impedance, i.e. change the gain by ~1e-5
      [12]_, and set each channel's white contact noise (1 uV at 5 kOhm,
      growing as the square root of the impedance [13]_).
    * **Subjects.** An aptitude ``q`` in [0, 1] per subject, stratified over
      the subjects in a seed-dependent order, sets the height of the mu peak,
      the ERD depth, the lapse rate and the background level, so that
      pipelines span from near chance to above 85 % like the per-subject
      spread in Table I of Hersche et al. 2020 [3]_.
    * **Sessions.** ``1test`` differs from ``0train`` by the cap position (a
      common shift of all sources relative to the electrodes, sd 4 mm per
      axis [14]_), generator gains (log-normal, sd 0.2), ERD depths per band
      (sd 0.2), the alpha level (sd 0.3), rhythm frequencies (sd 0.3 Hz) and
      electrode impedances [15]_; the background, a stable trait of the
      person [16]_, changes little (dipole strengths, sd 0.1). Cross-session
      accuracy is therefore lower than within-session accuracy.

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
    .. [4] R. Salmelin, R. Hari, "Spatiotemporal characteristics of sensorimotor
       neuromagnetic rhythms related to thumb movement", Neuroscience 60(2),
       1994 (beta generators anterior to the mu generators).
    .. [5] T. Donoghue et al., "Parameterizing neural power spectra into
       periodic and aperiodic components", Nature Neuroscience 23, 2020.
    .. [6] B. Blankertz et al., "Neurophysiological predictor of SMR-based BCI
       performance", NeuroImage 51(4), 2010.
    .. [7] G. Pfurtscheller, C. Brunner, A. Schloegl, F. H. Lopes da Silva, "Mu
       rhythm (de)synchronization and EEG single-trial classification of
       different motor imagery tasks", NeuroImage 31(1), 2006.
    .. [8] G. Pfurtscheller, C. Neuper, C. Brunner, F. Lopes da Silva, "Beta
       rebound after different types of motor imagery in man", Neuroscience
       Letters 378(3), 2005.
    .. [9] G. Pfurtscheller, C. Neuper, "Motor imagery and direct
       brain-computer communication", Proceedings of the IEEE 89(7), 2001
       (subject-specific reactive frequency bands).
    .. [10] B. S. Oken, M. C. Salinsky, S. M. Elsas, "Vigilance, alertness, or
       sustained attention: physiological basis and measurement", Clinical
       Neurophysiology 117(9), 2006.
    .. [11] B. Blankertz et al., "Invariant common spatial patterns: alleviating
       nonstationarities in brain-computer interfacing", NIPS 20, 2008; B.
       Blankertz et al., "Optimizing spatial filters for robust EEG single-trial
       analysis", IEEE Signal Processing Magazine 25(1), 2008.
    .. [12] T. C. Ferree, P. Luu, G. S. Russell, D. M. Tucker, "Scalp electrode
       impedance, infection risk, and EEG data quality", Clinical
       Neurophysiology 112(3), 2001.
    .. [13] E. Huigen, A. Peper, C. A. Grimbergen, "Investigation into the origin
       of the noise of surface electrodes", Medical & Biological Engineering &
       Computing 40(3), 2002.
    .. [14] S. R. Atcherson, H. J. Gould, M. A. Pousson, T. M. Prout, "Variability
       of electrode positions using electrode caps", Brain Topography 20(2),
       2007.
    .. [15] P. Shenoy, M. Krauledat, B. Blankertz, R. P. N. Rao, K.-R. Mueller,
       "Towards adaptive classification for BCI", Journal of Neural
       Engineering 3(1), 2006.
    .. [16] M. Naepflin, M. Wildi, J. Sarnthein, "Test-retest reliability of
       resting EEG spectra validates a statistical signature of persons",
       Clinical Neurophysiology 118(11), 2007.
    .. [17] S. R. Cole, B. Voytek, "Brain oscillations and the importance of
       waveform shape", Trends in Cognitive Sciences 21(2), 2017 (the
       arch-shaped mu and its harmonic).
    .. [18] W. Klimesch, "EEG alpha and theta oscillations reflect cognitive and
       memory performance: a review and analysis", Brain Research Reviews
       29(2-3), 1999 (individual alpha frequency).
    .. [19] K. K. Ang, Z. Y. Chin, H. Zhang, C. Guan, "Filter bank common spatial
       pattern (FBCSP) in brain-computer interface", IJCNN 2008.

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
