import base64
import os
import subprocess
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from eegbin.cli import main
from eegbin.evaluation import read_results, render_report, summarize_results, write_report

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


def test_summary_is_per_subject_then_over_subjects_and_keeps_footprint():
    df = _results()
    s = summarize_results(df)
    assert list(s.index) == ["riemann svm", "hamming svm", "mdm"]  # order of appearance
    per_subject = df[df.pipeline == "mdm"].groupby("subject")["score"].mean()  # both sessions
    assert s.loc["mdm", ["S1", "S2", "S3"]].tolist() == pytest.approx(per_subject.tolist())
    assert s.loc["mdm", "mean"] == pytest.approx(per_subject.mean())
    assert s.loc["mdm", "std"] == pytest.approx(per_subject.std(ddof=0))  # over subjects
    assert s.loc["hamming svm", "memory_kB"] == 1.2 and s.loc["mdm", "macs"] == 1000


def test_summary_refuses_several_datasets():
    df = _results()
    df.loc[df.subject == 3, "dataset"] = "Other"
    with pytest.raises(ValueError, match="results hold 2 datasets"):
        summarize_results(df)


def test_report_is_self_contained_html(tmp_path):
    csv = tmp_path / "results.csv"
    _results().to_csv(csv, index=False)
    out = write_report(csv)
    assert out == str(tmp_path / "results.html")
    text = open(out, encoding="utf-8").read()
    p = _parse(text)
    assert p.tags.count("table") == 2  # summary + all results
    assert text.count("<tr") == 1 + 3 + 1 + 18  # header + rows of both tables
    assert "Protocol</b>: per subject, the mean over the result rows (sessions 0train, 1test)" in text
    assert len(p.imgs) == 2
    for img in p.imgs:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        png = base64.b64decode(img["src"][len(prefix):], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert "hamming svm" in text and "memory [kB]" in text
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
    assert dom.stdout.count("<img") == 2 and "Accuracy versus memory" in dom.stdout
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
    out = write_report(str(tmp_path) + os.sep)  # a trailing separator still names the folder
    assert out == str(tmp_path / "report.html")
    text = open(out, encoding="utf-8").read()
    assert f"<title>eegbin results: {tmp_path.name}</title>" in text
    assert len(_parse(text).imgs) == 2


def _cell_texts(html_text, table_class):
    import re

    table = re.search(rf'<table[^>]*class="[^"]*{table_class}[^"]*".*?</table>', html_text, flags=re.S).group(0)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>.*?</t[dh]>", table, flags=re.S)]


def test_every_number_on_the_page_comes_from_the_one_summary(tmp_path):
    """Table cells, per-subject bars and the CLI agree: all are summarize_results, in % (1 decimal)."""
    from eegbin.evaluation import format_table
    from eegbin.evaluation.plotting import plot_per_subject

    df = _results()
    summary = summarize_results(df)
    cells = _cell_texts(render_report(df), "summary")
    for name, row in summary.iterrows():
        i = cells.index(name)
        assert cells[i + 1:i + 4] == [f"{100 * row[c]:.1f}" for c in ("S1", "S2", "S3")]
        assert cells[i + 4] == f"{100 * row['mean']:.1f} ± {100 * row['std']:.1f}"
        assert f"{100 * row['mean']:5.1f} ± {100 * row['std']:4.1f}" in format_table(summary)
    bars = plot_per_subject(summary).axes[0].patches
    heights = np.array([b.get_height() for b in bars]).reshape(len(summary), 3)
    np.testing.assert_allclose(heights, 100 * summary[["S1", "S2", "S3"]].to_numpy())


def test_per_subject_legend_does_not_cover_the_bars():
    from eegbin.evaluation.plotting import plot_per_subject

    fig = plot_per_subject(summarize_results(_results()))
    ax = fig.axes[0]
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the axes, not over subject 7


def test_accuracy_vs_memory_labels_do_not_overlap():
    from eegbin.evaluation.plotting import plot_accuracy_vs_memory

    names = ["TS+SVM", "TS+LR", "Riemann+RP+SVM-bin(d=10879)", "Riemann+SVM", "Riemann+LDA", "a", "b"]
    summary = pd.DataFrame({"mean": [0.537, 0.561, 0.538, 0.536, 0.538, 0.50, 0.501],
                            "std": 0.1, "memory_kB": [5.156, 5.156, 28.06, 109.66, 109.66, 49.8, 49.8],
                            "float_bits": [32, 32, 16, 16, 16, 16, 16]}, index=names)
    fig = plot_accuracy_vs_memory(summary, title="t", chance=0.25)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Text

    boxes = [Text.get_window_extent(t, renderer) for t in fig.axes[0].texts]  # without leader lines
    assert [t.get_text().replace("\n", "") for t in fig.axes[0].texts] == names  # long ones on two lines
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (names[i], names[j])
    assert "16 bits" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_moabb_analysis_works_on_eegbin_results_as_they_come():
    """MOABB's statistics and summary_plot on results shaped and named as eegbin writes them."""
    from moabb.analysis.meta_analysis import compute_dataset_statistics, find_significant_differences
    from moabb.analysis.plotting import score_plot, summary_plot

    from eegbin.evaluation import list_pipelines
    from eegbin.evaluation.runner import RESULT_COLUMNS

    rng = np.random.default_rng(0)
    rows = [dict(score=rng.uniform(0.3, 0.8), time=1.0, samples=288, samples_test=288, n_classes=4,
                 subject=s, session="1test", channels=22, n_sessions=2, dataset="Simulated-v1",
                 pipeline=p, evaluation="cross-session", train_session="0train")
            for p in list_pipelines(default_only=True) for s in range(1, 10)]
    results = pd.DataFrame(rows)[list(RESULT_COLUMNS)]
    stats = compute_dataset_statistics(results)
    P, T = find_significant_differences(stats)
    fig = summary_plot(P, T)
    assert len(fig.axes[0].get_xticklabels()) == len(list_pipelines(default_only=True))
    score_plot(results)
