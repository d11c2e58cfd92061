"""eegbin on Dask: per-subject tasks, results equal to the serial run, worker death.

One two-worker LocalCluster of processes on loopback serves the whole module.
"""

import os

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from pyriemann.classification import MDM  # noqa: E402
from pyriemann.estimation import Covariances  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from eegbin.evaluation._dask import check_scheduler, dask_backend, map_tasks  # noqa: E402
from tests.evaluation._dask_helpers import evaluate_fake_subject  # noqa: E402

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


def _pipes():
    return {"MDM": make_pipeline(Covariances("oas"), MDM())}


def test_check_scheduler():
    assert check_scheduler(None) is None
    assert check_scheduler("local") == "local"
    assert check_scheduler("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    with pytest.raises(ValueError, match="scheduler must be None, 'local' or"):
        check_scheduler("127.0.0.1:8786")
    with pytest.raises(TypeError, match="got int 8786"):
        check_scheduler(8786)
    with pytest.raises(ValueError, match="scheduler must be"):
        map_tasks(len, [()], scheduler="dask")


def test_map_tasks_on_dask_equals_serial_and_runs_on_workers(cluster):
    specs = [(subject, _pipes(), None) for subject in (1, 2)]
    serial = pd.concat(map_tasks(evaluate_fake_subject, specs), ignore_index=True)
    with dask_backend(cluster.scheduler_address) as client:
        assert isinstance(client, distributed.Client)
        workers = set(client.run(os.getpid).values())
    dask = pd.concat(
        map_tasks(evaluate_fake_subject, specs, scheduler=cluster.scheduler_address),
        ignore_index=True,
    )
    assert set(serial["pid"]) == {os.getpid()}
    assert set(dask["pid"]) <= workers and os.getpid() not in set(dask["pid"])
    cols = [c for c in serial.columns if c not in ("time", "pid")]
    pd.testing.assert_frame_equal(_sorted(serial)[cols], _sorted(dask)[cols])


def test_worker_killed_mid_run_is_retried(cluster, tmp_path):
    marker = tmp_path / "killed-once"
    specs = [(subject, _pipes(), str(marker)) for subject in (1, 2)]
    before = set(cluster.scheduler_info["workers"])
    res = pd.concat(
        map_tasks(evaluate_fake_subject, specs, scheduler=cluster.scheduler_address),
        ignore_index=True,
    )
    killed_pid = int(marker.read_text())
    assert killed_pid != os.getpid()  # the kill happened in a worker, not here
    assert killed_pid not in set(res["pid"])  # ... whose task was rerun elsewhere
    assert sorted(res["subject"].astype(str)) == ["1", "2"]  # every subject arrived
    assert res["score"].notna().all()
    assert set(cluster.scheduler_info["workers"]) != before  # the nanny replaced it
