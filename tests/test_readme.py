"""The README's Python snippets run as written (the tour must stay true)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_quick_start_commands():
    text = README.read_text()
    assert "<!-- main-command -->" in text and "eegbin evaluate" in text
    assert "<!-- test-command -->" in text


@pytest.mark.slow
def test_readme_tour_runs(capsys):
    namespace = {}
    blocks = _python_blocks()
    assert len(blocks) >= 3
    for block in blocks:  # blocks share names, as in one notebook
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    acc = float(re.search(r"cross-session accuracy ([0-9.]+)", out).group(1))
    assert 0.0 <= acc <= 1.0
    assert "Projection" in out or "sparsebipolarrandomprojection" in out
