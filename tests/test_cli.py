import subprocess
import sys

import pandas as pd
import pytest

import eegbin
import eegbin.evaluation
from eegbin.cli import main


def test_version_and_help(capsys):
    out = subprocess.run([sys.executable, "-m", "eegbin", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and eegbin.__version__ in out.stdout
    assert main([]) == 0
    assert "evaluate" in capsys.readouterr().out


def test_evaluate_list(capsys):
    assert main(["evaluate", "--list"]) == 0
    out = capsys.readouterr().out
    assert "CSP+LDA" in out and "TS+SVM" in out


def test_evaluate_two_subjects_end_to_end(tmp_path, capsys):
    rc = main(["evaluate", "--subjects", "1", "6", "--pipelines", "CSP+LDA", "TS+LR",
               "--out", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "cross-session: trained on 0train, tested on 1test; accuracy in %" in out
    assert "S1" in out and "S6" in out and "mean ± std" in out and "memory kB" in out
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert set(scores["pipeline"]) == {"CSP+LDA", "TS+LR"} and set(scores["subject"]) == {1, 6}
    assert set(scores["session"]) == {"1test"} and set(scores["train_session"]) == {"0train"}
    assert (tmp_path / "accuracy_vs_memory.png").stat().st_size > 1000
    summary = pd.read_csv(tmp_path / "summary.csv", index_col="pipeline")
    for name in ("CSP+LDA", "TS+LR"):  # the printed table is the summary, in %
        row = summary.loc[name]
        assert f"{100 * row['S1']:6.1f}{100 * row['S6']:6.1f}  {100 * row['mean']:5.1f} ± " in out


def test_evaluate_out_is_checked_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(eegbin.evaluation, "run", lambda *a, **k: pytest.fail("work started"))
    a_file = tmp_path / "results"
    a_file.write_text("not a directory")
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--subjects", "1", "--out", str(a_file)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"eegbin evaluate: error: out: {str(a_file)!r} exists and is not a directory\n"


def test_evaluate_bad_argument_subprocess_no_traceback():
    out = subprocess.run([sys.executable, "-m", "eegbin", "evaluate", "--pipelines", "nope"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == (
        "eegbin evaluate: error: unknown pipeline 'nope' (registered: "
        + ", ".join(eegbin.evaluation.list_pipelines()) + ")\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--pipelines", "nope"],
        ["--dataset", "nope"],
        ["--evaluation", "cross-subject"],
        ["--subjects", "0"],
        ["--subjects", "10"],
        ["--subjects", "x"],
        ["--n-jobs", "0"],
        ["--scheduler", "localhost"],
        ["--dask", "local", "--dask-workers", "0"],
        ["--bogus"],
    ],
)
def test_evaluate_bad_arguments_exit_2_one_line(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate", *args])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "error:" in captured.err


def test_pipelines_all_selects_every_registered_pipeline():
    import argparse

    from eegbin.cli import _validate
    from eegbin.evaluation.pipelines import list_pipelines

    args = argparse.Namespace(dataset="simulated", evaluation="cross-session", n_jobs=1,
                              pipelines=["all"], subjects=[1])
    _, names = _validate(args)
    assert names == list_pipelines()
    assert set(list_pipelines(default_only=True)) < set(names)
