import base64
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from eegbin.cli import main
from eegbin.evaluation.report import read_results, render_report, summarize_results, write_report

CHROMIUM = "/usr/bin/chromium"


def _results():
    rng = np.random.default_rng(0)
    rows = []
    for pipeline, kB in [("riemann svm", 43.5), ("hamming svm", 1.2), ("mdm", 0.5)]:
        for subject in (1, 2, 3):
            for session in ("0train", "1test"):
                rows.append(
                    dict(score=rng.uniform(0.5, 0.9), time=0.1, samples=144, subject=subject,
                         session=session, channels=22, n_sessions=2, dataset="Simulated",
                         pipeline=pipeline, memory_kB=kB, macs=1000, word_ops=10)
                )
    return pd.DataFrame(rows)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.imgs, self.stack = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag not in ("img", "meta", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()


def _parse(text):
    p = _Collect()
    p.feed(text)
    p.close()
    assert p.stack == []  # every element closed, properly nested
    return p


def test_summary_orders_by_score_and_keeps_footprint():
    df = _results()
    s = summarize_results(df)
    assert list(s["score_mean"]) == sorted(s["score_mean"], reverse=True)
    assert set(s["pipeline"]) == {"riemann svm", "hamming svm", "mdm"}
    assert (s["n_subjects"] == 3).all()
    mean = df[df.pipeline == "mdm"].score.mean()
    assert s.set_index("pipeline").loc["mdm", "score_mean"] == pytest.approx(mean)
    assert s.set_index("pipeline").loc["hamming svm", "memory_kB"] == 1.2


def test_report_is_self_contained_html(tmp_path):
    csv = tmp_path / "results.csv"
    _results().to_csv(csv, index=False)
    out = write_report(csv)
    assert out == str(tmp_path / "results.html")
    text = open(out, encoding="utf-8").read()
    p = _parse(text)
    assert p.tags.count("table") == 2  # summary + all results
    assert text.count("<tr") == 1 + 3 + 1 + 18  # header + rows of both tables
    assert len(p.imgs) == 2
    for img in p.imgs:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        png = base64.b64decode(img["src"][len(prefix):], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert "hamming svm" in text and "memory_kB" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched when opened


def test_report_without_footprint_columns_still_renders():
    df = _results().drop(columns=["memory_kB", "macs", "word_ops"])
    p = _parse(render_report(df, title="t <&>"))
    assert len(p.imgs) == 2


def test_cli_report(tmp_path, capsys):
    csv = tmp_path / "r.csv"
    _results().to_csv(csv, index=False)
    assert main(["report", str(csv), "--out", str(tmp_path / "x.html")]) == 0
    assert (tmp_path / "x.html").stat().st_size > 10000
    assert "x.html" in capsys.readouterr().out


def test_bad_input(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_results(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    _results().drop(columns=["score"]).to_csv(bad, index=False)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['score'\]"):
        read_results(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        read_results(empty)
    with pytest.raises(TypeError, match="DataFrame"):
        render_report({"score": [1]})
    with pytest.raises(TypeError, match="path must be"):
        read_results(3)
    assert main(["report", str(bad)]) == 2
    assert "lacks column" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed")
def test_report_renders_in_headless_chromium(tmp_path):
    csv = tmp_path / "results.csv"
    _results().to_csv(csv, index=False)
    out = write_report(csv)
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"file://{out}"],
        capture_output=True, text=True, timeout=120,
    )
    assert dom.returncode == 0, dom.stderr
    assert dom.stdout.count("<img") == 2 and "Accuracy versus footprint" in dom.stdout
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
         "--window-size=1200,2000", f"file://{out}"],
        capture_output=True, timeout=120, check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_output_directory_with_summary_footprints(tmp_path):
    # the layout of `eegbin evaluate --out DIR`: MOABB scores + per-pipeline summary
    df = _results()
    df.drop(columns=["memory_kB", "macs", "word_ops"]).to_csv(tmp_path / "scores.csv", index=False)
    summary = df.groupby("pipeline")[["memory_kB", "macs", "word_ops"]].first()
    summary.to_csv(tmp_path / "summary.csv", index_label="pipeline")
    got = read_results(tmp_path)
    assert got.set_index("pipeline").loc["mdm", "memory_kB"].iloc[0] == 0.5
    assert len(got) == len(df)
    summary["mean"] = [0.111, 0.222, 0.333]  # the report shows evaluate's own summary
    summary["std"] = 0.01
    summary.to_csv(tmp_path / "summary.csv", index_label="pipeline")
    out = write_report(tmp_path)
    assert out == str(tmp_path / "report.html")
    text = open(out, encoding="utf-8").read()
    assert "memory_kB" in text and "0.222" in text and "summary.csv" in text
    assert len(_parse(text).imgs) == 2
    with pytest.raises(ValueError, match=r"summary lacks column\(s\) \['score_mean'"):
        render_report(df, summary=summary.drop(columns=["mean"]).reset_index())
