"""The README's snippets run as written, each on its own, and print labelled results."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _run_alone(block, monkeypatch, capsys):
    """One snippet in a fresh namespace, from the clone's root (as the README says)."""
    monkeypatch.chdir(ROOT)
    exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
    return capsys.readouterr().out


def test_readme_has_the_two_quick_start_commands():
    text = README.read_text()
    assert "<!-- main-command -->" in text and "eegbin evaluate" in text
    assert "<!-- test-command -->" in text
    assert len(_python_blocks()) == 3


@pytest.mark.slow
def test_hersche_chain(monkeypatch, capsys):
    out = _run_alone(_python_blocks()[0], monkeypatch, capsys)
    acc = float(re.search(r"trained on 0train, tested on 1test: accuracy ([0-9.]+) \(chance: 0.25\)", out).group(1))
    assert 0.35 < acc <= 1.0  # learned something (chance is 0.25)
    assert "sparsebipolarrandomprojection" in out and "memory [kB]" in out


def test_kernels(monkeypatch, capsys):
    import numpy as np

    out = _run_alone(_python_blocks()[1], monkeypatch, capsys)
    match = re.search(r"nearest code of each query: \[(.*)\] at Hamming distance \[(.*)\] of 256 bits", out)
    assert match, out
    # the oracle: brute force on the unpacked bits
    rng = np.random.default_rng(0)
    codes, queries = rng.random((1000, 256)) > 0.5, rng.random((3, 256)) > 0.5
    dist = (queries[:, None, :] != codes[None]).sum(-1)
    assert [int(v) for v in match.group(2).split()] == dist.min(1).tolist()


@pytest.mark.slow
def test_trained_eegnet(monkeypatch, capsys):
    out = _run_alone(_python_blocks()[2], monkeypatch, capsys)
    rows = re.findall(r"^(.*?)\s+accuracy on 1test ([0-9.]+) \(chance 0.25\), ([0-9.]+) kB$", out, flags=re.M)
    assert [r[0] for r in rows] == ["EEGNet as trained", "16 channels, folded BN, PQ head"], out
    as_trained, compressed = (float(r[1]) for r in rows)
    assert as_trained > 0.35  # a network that learned something, not chance
    assert float(rows[1][2]) < float(rows[0][2])  # the compressions save memory
