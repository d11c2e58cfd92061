"""eegbin on Dask: per-subject tasks, results equal to the serial run, worker death.

One two-worker LocalCluster of processes on loopback serves the whole module.
"""

import os

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from sklearn.pipeline import Pipeline  # noqa: E402

from eegbin.evaluation._dask import check_scheduler, map_tasks  # noqa: E402
from tests.evaluation._dask_helpers import (  # noqa: E402
    KillWorkerOnce,
    read_pid_logs,
    recording_simulated_dataset,
)

KEYS = ["dataset", "subject", "session", "pipeline"]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as c:
        yield c


def _sorted(df):
    return df.sort_values(KEYS).reset_index(drop=True)


def test_check_scheduler():
    assert check_scheduler(None) is None
    assert check_scheduler("local") == "local"
    for address in ("tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://h:1", "inproc://x"):
        assert check_scheduler(address) == address  # the forms distributed.Client accepts
    for bad in ("dask", "localhost", "host:port", "tcp://", "a b:1"):
        with pytest.raises(ValueError, match="scheduler must be None, 'local' or"):
            check_scheduler(bad)
    with pytest.raises(TypeError, match="got int 8786"):
        check_scheduler(8786)
    with pytest.raises(ValueError, match="scheduler must be"):
        map_tasks(len, [()], scheduler="dask")


def test_unreachable_scheduler_is_one_clear_error_within_the_connect_timeout():
    import time

    import dask

    from eegbin.evaluation import SchedulerUnreachable, run

    start = time.monotonic()
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        with pytest.raises(SchedulerUnreachable, match=r"cannot reach the Dask scheduler at '127.0.0.1:9' within 2s"):
            run(["CSP+LDA"], subjects=[1], scheduler="127.0.0.1:9")
    assert time.monotonic() - start < 30  # the connect timeout, not distributed's 30 s default


def test_cli_unreachable_scheduler_one_line(tmp_path):
    import subprocess
    import sys

    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    out = subprocess.run(
        [sys.executable, "-m", "eegbin", "evaluate", "--pipelines", "CSP+LDA", "--subjects", "1",
         "--scheduler", "127.0.0.1:9", "--out", str(tmp_path)],
        capture_output=True, text=True, env=env,
    )
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach the Dask scheduler at '127.0.0.1:9'" in lines[0], out.stderr


# --- eegbin.evaluation.run on Dask -----------------------------------------------------


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    """The serial run of CSP+LDA on 2 simulated subjects, and where they were simulated."""
    from eegbin.evaluation import run

    log = tmp_path_factory.mktemp("serial-log")
    return run(["CSP+LDA"], dataset=recording_simulated_dataset(log), n_jobs=1), read_pid_logs(log)


def _worker_pids(cluster):
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        return set(client.run(os.getpid).values())


def _assert_same_scores(serial, dask):
    cols = [c for c in serial.columns if c != "time"]  # fit durations differ
    pd.testing.assert_frame_equal(_sorted(serial)[cols], _sorted(dask)[cols])


def test_run_on_dask_simulates_on_workers_survives_a_killed_worker_equals_serial(
    cluster, serial_run, tmp_path
):
    """One Dask run (to keep the suite fast) checks the three promises of issue 9.

    Pipelines: CSP+LDA, and the same CSP+LDA behind a step whose first fit kills
    the worker process running it (the task is rerun by Dask on a live worker).
    """
    from eegbin.evaluation import get_pipeline, run
    from eegbin.evaluation.pipelines import _REGISTRY, register_pipeline

    marker = tmp_path / "killed-once"
    killed = f"CSP+LDA killed once {tmp_path.name}"

    @register_pipeline(killed, default=False)
    def _make(sfreq):
        steps = get_pipeline("CSP+LDA", sfreq).steps
        return Pipeline([("kill_worker_once", KillWorkerOnce(str(marker))), *steps])

    log = tmp_path / "log"
    log.mkdir()
    before = set(cluster.scheduler_info["workers"])
    try:
        dask = run(
            ["CSP+LDA", killed], dataset=recording_simulated_dataset(log),
            scheduler=cluster.scheduler_address,
        )
    finally:
        _REGISTRY.pop(killed)
    serial, serial_log = serial_run

    # 1. a worker died mid-run (not this process), its nanny replaced it, and the
    #    run still returned every (subject, session, pipeline)
    assert int(marker.read_text()) != os.getpid()
    assert set(cluster.scheduler_info["workers"]) != before
    assert len(dask.scores) == 2 * len(serial.scores)
    # 2. the subjects were simulated here in the serial run, on the workers with Dask
    assert {pid for _, pid in serial_log} == {os.getpid()}
    on_dask = read_pid_logs(log)
    assert {s for s, _ in on_dask} == {1, 2}
    assert os.getpid() not in {pid for _, pid in on_dask}
    assert {pid for _, pid in on_dask} - {int(marker.read_text())} <= _worker_pids(cluster)
    # 3. results identical to the serial run, the rerun pipeline's included
    plain = dask.scores[dask.scores["pipeline"] == "CSP+LDA"]
    rerun = dask.scores[dask.scores["pipeline"] == killed].assign(pipeline="CSP+LDA")
    _assert_same_scores(serial.scores, plain)
    _assert_same_scores(serial.scores, rerun)
    pd.testing.assert_frame_equal(serial.summary, dask.summary.loc[["CSP+LDA"]])
    assert serial.footprints["CSP+LDA"] == dask.footprints["CSP+LDA"]


def test_run_rejects_bad_scheduler():
    from eegbin.evaluation import run

    with pytest.raises(ValueError, match="scheduler must be None, 'local' or"):
        run(["CSP+LDA"], subjects=[1], scheduler="localhost")


def test_cli_dask_flags(monkeypatch, tmp_path):
    import eegbin.evaluation
    from eegbin.cli import main

    seen = {}

    def fake_run(*args, **kwargs):
        seen.update(kwargs)
        raise FileNotFoundError("stop here")  # the CLI reports it and returns 2

    monkeypatch.setattr(eegbin.evaluation, "run", fake_run)
    argv = ["evaluate", "--pipelines", "CSP+LDA", "--subjects", "1", "--out", str(tmp_path)]
    assert main(argv + ["--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert seen["scheduler"] == "tcp://127.0.0.1:8786" and seen["dask_workers"] is None
    assert main(argv + ["--scheduler", "127.0.0.1:8786"]) == 2  # the form distributed accepts
    assert seen["scheduler"] == "127.0.0.1:8786" and seen["verbose"] is False
    assert main(argv + ["--dask", "local", "--dask-workers", "2"]) == 2
    assert seen["scheduler"] == "local" and seen["dask_workers"] == 2
    assert main(argv) == 2
    assert seen["scheduler"] is None
    with pytest.raises(SystemExit):
        main(argv + ["--dask", "local", "--scheduler", "tcp://h:1"])  # mutually exclusive


def test_local_scheduler_starts_its_own_quiet_single_threaded_cluster(capfd):
    # scheduler="local": a LocalCluster of processes for the duration of the call
    seen = []
    out = map_tasks(_pid_and_threads, [None, None], scheduler="local", n_workers=1, on_result=seen.append)
    assert len({pid for pid, _ in out}) == 1 and out[0][0] != os.getpid()
    assert out[0][1] == "1"  # numba: one thread per single-threaded worker process
    assert sorted(seen) == [0, 1]
    captured = capfd.readouterr()
    assert "INFO" not in captured.err + captured.out  # quiet unless verbose


def _pid_and_threads(_):
    return os.getpid(), os.environ.get("NUMBA_NUM_THREADS")
