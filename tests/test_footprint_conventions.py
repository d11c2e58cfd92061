"""eegbin.footprint(..., convention="hersche2020") reproduces Table II of Hersche et al. 2020.

The pipelines are the registered ones (``eegbin evaluate``), fitted on random trials of
the paper's shape (22 channels, 875 samples at 250 Hz, 4 classes): a footprint depends
on the shapes, not on the data. The paper's numbers are typed from its Table II; the
eegbin-convention numbers are recomputed from the formulas of each step's docstring.
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import make_pipeline

import eegbin
from eegbin import Footprint
from eegbin.evaluation import get_pipeline
from eegbin.footprint import CONVENTIONS, apply_convention

N_CH, N_S, N_BANDS = 22, 875, 43
N_R = N_CH * (N_CH + 1) // 2  # 253 values per covariance
N_FEAT = N_BANDS * N_R  # 10 879


@pytest.fixture(scope="module")
def trials():
    rng = np.random.default_rng(0)
    return rng.standard_normal((8, N_CH, N_S)), np.arange(8) % 4


@pytest.fixture(scope="module")
def riemann_svm(trials):
    return get_pipeline("Riemann+SVM", sfreq=250.0).fit(*trials)


@pytest.fixture(scope="module")
def rp_svm(trials):
    return get_pipeline("Riemann+RP+SVM-bin(d=100000)", sfreq=250.0).fit(*trials)


def _rows(fp):
    return [(round(p.kB, 2), p.total_macs) for p in fp.parts]


def _eegbin_feature_extraction():
    """(kB at float16, MACs) of FilterBankRiemann in eegbin's convention (its docstring)."""
    n = N_CH
    params = N_BANDS * 2 * 5 + N_BANDS * N_R  # two biquads per band, whitening n(n+1)/2
    macs = (N_BANDS * 2 * 5 * n * N_S  # band-pass
            + N_BANDS * N_R * N_S  # covariance
            + N_BANDS * 2 * n**3  # whitening: two n x n products
            + round(N_BANDS * (26 * n**3 / 3 + n * N_R + n * (n - 1) // 2)))  # EVD + back + sqrt 2
    return params * 2 / 1000, macs


def test_riemann_svm_table_ii(riemann_svm):
    paper = eegbin.footprint(riemann_svm, float_bits=16, convention="hersche2020")
    # Table II, "Riemannian+SVM": feature extraction (sum of its four rows) and linear SVM
    assert _rows(paper) == [(21.24, 17_667_654), (87.04, 43_516)]
    assert round(paper.kB, 2) == 108.28 and round(paper.total_macs / 1e6, 2) == 17.71
    rows = {p.name: p for p in paper.parts[0].parts}
    assert [(round(rows[k].kB, 2), rows[k].total_macs) for k in
            ("Bandpass filter", "Covariance", "Whitening", "Matrix logarithm")] == [
        (0.43, 4_138_750), (0.0, 9_519_125), (20.81, 41_624), (0.0, 3_968_155)]
    ours = eegbin.footprint(riemann_svm, float_bits=16)  # the default convention
    kB, macs = _eegbin_feature_extraction()
    assert ours.parts[0].kB == pytest.approx(kB) and ours.parts[0].total_macs == macs
    assert ours.parts[1] == paper.parts[1]  # the linear SVM is counted alike
    assert round(ours.kB, 2) == 109.66 and ours.total_macs == 22_973_295
    assert eegbin.footprint(riemann_svm, float_bits=16, convention="eegbin") == ours


def test_riemann_rp_svm_binarized_table_ii(rp_svm):
    paper = eegbin.footprint(rp_svm, float_bits=16, convention="hersche2020")
    # Table II, "Riemannian+SVM binarized": feature extraction, projection, classification
    assert [(round(p.kB, 3), p.total_macs) for p in paper.parts] == [
        (21.242, 17_667_654), (0.004, 108_790_000), (50.0, 12_500)]
    assert round(paper.total_macs / 1e6, 2) == 126.47
    # the paper's 71.24 kB is the sum of its rounded rows (21.24 + 0.004 + 50.00); unrounded,
    # 21.242 + 0.004 + 50 = 71.246 kB
    assert paper.kB == pytest.approx(71.246)
    assert round(sum(round(p.kB, 3 if p.kB < 0.01 else 2) for p in paper.parts), 3) == 71.244
    assert paper.total_bit_ops == 0 and paper.word_ops == 0  # 32 Hamming elements per MAC
    ours = eegbin.footprint(rp_svm, float_bits=16)
    kB, macs = _eegbin_feature_extraction()
    assert ours.parts[0].kB == pytest.approx(kB) and ours.parts[0].total_macs == macs
    assert ours.parts[1] == paper.parts[1]  # seed and additions: same in both
    classification = ours.parts[2]  # 64-bit word operations instead of 32-element MACs
    assert classification.kB == 50.0 and classification.total_macs == 0
    assert classification.total_bit_ops == 400_000 and classification.word_ops == 6_250
    assert round(ours.kB, 2) == 72.62 and ours.total_macs == 131_719_779


def test_linear_svm_float16_is_87_04_kB_in_both(riemann_svm):
    svm = riemann_svm[-1]
    for convention in CONVENTIONS:
        fp = eegbin.footprint(svm, float_bits=16, convention=convention)
        assert round(fp.kB, 2) == 87.04 and fp.total_macs == 4 * N_FEAT


class _Recorder(TransformerMixin, BaseEstimator):
    """A step whose footprint takes a convention, and records the one it got."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return X

    def footprint(self, float_bits=32, convention="eegbin"):
        self.seen_ = (float_bits, convention)
        return Footprint("recorder", n_params=1, bits_per_param=float_bits, bit_ops=100)


class _NoConvention(ClassifierMixin, BaseEstimator):
    """A step with one way of counting (no convention parameter)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def footprint(self, float_bits=32):
        return Footprint("plain", parts=(Footprint("keys", n_params=64, bits_per_param=1,
                                                   bit_ops=65),))


def test_convention_reaches_every_step_and_the_bit_rule_every_node():
    X, y = np.zeros((4, 3)), np.array([0, 1, 0, 1])
    pipe = make_pipeline(_Recorder(), _NoConvention()).fit(X, y)
    paper = eegbin.footprint(pipe, float_bits=16, convention="hersche2020")
    assert pipe[0].seen_ == (16, "hersche2020")
    # 100 bits -> ceil(100 / 32) = 4 MACs; the nested 65 bits -> 3 MACs
    assert [p.total_macs for p in paper.parts] == [4, 3] and paper.total_bit_ops == 0
    assert paper.parts[1].parts[0].macs == 3
    ours = eegbin.footprint(pipe, float_bits=16)
    assert pipe[0].seen_ == (16, "eegbin") and ours.total_bit_ops == 165 and ours.word_ops == 3
    assert apply_convention(paper, "hersche2020") == paper  # applying twice changes nothing


def test_bad_convention_is_rejected_everywhere(riemann_svm, rp_svm):
    for obj in (riemann_svm, rp_svm, rp_svm[1], rp_svm[2], riemann_svm[0]):
        with pytest.raises(ValueError, match="convention must be one of 'eegbin', 'hersche2020', got 'paper'"):
            eegbin.footprint(obj, convention="paper")
    with pytest.raises(ValueError, match="convention must be one of"):
        rp_svm[2].footprint(convention="Hersche2020")
    with pytest.raises(ValueError, match="bits_per_mac must be a positive integer, got 0"):
        Footprint("x", bit_ops=3).bit_ops_as_macs(0)


def _doc_table():
    """Rows of the side-by-side Table II in docs/reproductions/hersche2020.rst."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "reproductions" / "hersche2020.rst").read_text()
    table = text.split("Table II through ``eegbin.footprint``")[1].split(".. [#typo]")[0]
    rows = {}
    for block in re.split(r"\n   \* - ", table)[2:]:  # [0]: text, [1]: the header
        cells = [c.strip() for c in block.split("\n     - ")]
        name = re.sub(r"^(\\- )+", "", cells[0].replace("\\\\", "\\"))
        rows[name] = cells[1:]
    return rows


def test_the_documented_side_by_side_table_is_what_the_code_counts(riemann_svm, rp_svm,
                                                                   paper_eegnet):
    from eegbin import BinaryKeyValueMemory

    X, y = np.random.default_rng(1).normal(size=(32, 272)), np.arange(32) % 4  # 4-way / 8-shot
    rp = BinaryKeyValueMemory(n_components=256, random_state=0).fit(X, y)
    lp = BinaryKeyValueMemory(projection=np.ones((256, 272))).fit(X, y)
    counted = {}
    for convention in CONVENTIONS:
        a, b = (eegbin.footprint(p, float_bits=16, convention=convention) for p in (riemann_svm, rp_svm))
        fe = a.parts[0].parts
        m_rp, m_lp = (_mimann(paper_eegnet, m, convention) for m in (rp, lp))
        counted[convention] = {
            "Riemannian+SVM": a, "Feature extraction": a.parts[0], "Bandpass filter": fe[0],
            "Covariance": fe[1], "Whitening": fe[2], "Matrix logarithm": fe[3],
            "Linear SVM": a.parts[1], "Riemannian+SVM binarized (d = 100 000)": b,
            "Projection": b.parts[1], "Classification": b.parts[2],
            "EEGNet": paper_eegnet.footprint(16, convention=convention),
            "MI-MANN RP d = 256": m_rp, "Controller": m_rp.parts[0],
            "Projection RP": m_rp.parts[1].parts[0],
            "Classification (memory)": Footprint("c", parts=m_rp.parts[1].parts[1:]),
            "MI-MANN LP d = 256": m_lp, "Projection LP": m_lp.parts[1].parts[0],
        }
    rows = _doc_table()
    assert set(rows) == set(counted["eegbin"])
    for name, cells in rows.items():
        h_kB, h_macs, e_kB, e_macs, e_words = cells[2:]
        h, e = counted["hersche2020"][name], counted["eegbin"][name]
        assert (float(h_kB), int(h_macs.replace(" ", ""))) == (round(h.kB, 3), h.total_macs), name
        assert (float(e_kB), int(e_macs.replace(" ", "")), int(e_words.replace(" ", ""))) == (
            round(e.kB, 3), e.total_macs, e.word_ops), name


@pytest.fixture(scope="module")
def paper_eegnet():
    """EEGNet as Hersche 2020 uses it: 22 x 1125 trials, pools 8 and 8, 272 features."""
    from eegbin.nn import EEGNet

    w = EEGNet.random_weights(22, 1125, 4, pool1_kernel_size=8, pool2_kernel_size=8, rng=0)
    return EEGNet(w, n_chans=22, n_times=1125, pool1_kernel_size=8, pool2_kernel_size=8)


def _mimann(controller, memory, convention):
    """MI-MANN = EEGNet controller (its layers without the dense head) + the memory."""
    layers = [p for p in controller.footprint(16, convention=convention).parts
              if p.name not in ("FC", "softmax")]
    return Footprint("MI-MANN", parts=(Footprint("Controller", parts=tuple(layers)),
                                       eegbin.footprint(memory, float_bits=16,
                                                        convention=convention)))


def test_eegnet_and_mimann_rows_of_table_ii(paper_eegnet):
    from eegbin import BinaryKeyValueMemory

    paper = paper_eegnet.footprint(16, convention="hersche2020")
    # Table II, "EEGNet": 13.14 M MACs, 5.26 kB; its four rows
    assert _rows(paper) == [(1.09, 12_672_000), (0.83, 396_000), (1.15, 71_680), (2.18, 1_088)]
    assert round(paper.kB, 2) == 5.26 and round(paper.total_macs / 1e6, 2) == 13.14
    ours = paper_eegnet.footprint(16)  # padded lengths, batch norm, ELU, pooling, softmax
    assert ours.kB == paper.kB and ours.total_macs == 13_411_716
    X = np.random.default_rng(2).normal(size=(32, paper_eegnet.params.n_features))
    y = np.arange(32) % 4  # 4-way / 8-shot
    assert X.shape[1] == 272
    rp = BinaryKeyValueMemory(n_components=256, random_state=5).fit(X, y)
    lp = BinaryKeyValueMemory(projection=np.ones((256, 272))).fit(X, y)
    # Table II, "MI-MANN RP (LP) d=256": controller 3.07 kB / 13 139 680, projection
    # 0.004 (139.26) kB / 69 632, classification 1.02 kB / 288; 4.10 (143.36) kB, 13.21 M
    table = _mimann(paper_eegnet, rp, "hersche2020")
    controller, memory = table.parts
    assert (round(controller.kB, 2), controller.total_macs) == (3.07, 13_139_680)
    assert [(round(p.kB, 3), p.total_macs) for p in memory.parts] == [
        (0.004, 69_632), (1.024, 256), (0.0, 32)]
    assert round(table.kB, 2) == 4.10 and table.total_macs == 13_209_600
    assert round(_mimann(paper_eegnet, lp, "hersche2020").kB, 2) == 143.36
    ours = _mimann(paper_eegnet, rp, "eegbin")
    assert round(ours.kB, 3) == 4.108 and ours.total_macs == 13_410_624 + 69_632 + 32
    assert ours.word_ops == 128
    with pytest.raises(ValueError, match="reordered=True counts eegbin's reordered"):
        paper_eegnet.footprint(16, reordered=True, convention="hersche2020")
