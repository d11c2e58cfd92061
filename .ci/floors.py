"""Print pip constraints pinning every ``>=`` floor of setup.cfg's install_requires exactly.

Used by .ci/run for the lower-bound run: ``python .ci/floors.py > floors.txt`` then
``pip install -c floors.txt -e ".[test]"``. A requirement without a ``>=`` floor is an
error: every dependency must state the oldest release eegbin is tested with.
"""

import configparser
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def floors(setup_cfg=ROOT / "setup.cfg"):
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    pins = []
    for line in config["options"]["install_requires"].strip().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][A-Za-z0-9.]*)", line)
        if match is None:
            sys.exit(f"{setup_cfg}: install_requires line {line!r} has no '>=' floor")
        pins.append(f"{match.group(1)}=={match.group(3)}")
    return pins


if __name__ == "__main__":
    print("\n".join(floors()))
