import subprocess
import sys

import eegbin
from eegbin.cli import main


def test_version_and_help(capsys):
    out = subprocess.run([sys.executable, "-m", "eegbin", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and eegbin.__version__ in out.stdout
    assert main([]) == 0
    assert "evaluate" in capsys.readouterr().out
