"""eegbin on Dask: per-subject tasks, results equal to the serial run, worker death.

One two-worker LocalCluster of processes on loopback serves the whole module.
"""

import os

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from moabb.datasets.fake import FakeDataset  # noqa: E402
from moabb.evaluations import WithinSessionEvaluation  # noqa: E402
from moabb.paradigms import LeftRightImagery  # noqa: E402
from pyriemann.classification import MDM  # noqa: E402
from pyriemann.estimation import Covariances  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from eegbin.evaluation._dask import check_scheduler, dask_backend, process_per_subject  # noqa: E402
from tests.evaluation._dask_helpers import KillWorkerOnce  # noqa: E402

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


def _fake():
    return FakeDataset(
        event_list=["left_hand", "right_hand"], n_subjects=2, n_sessions=1, n_runs=1,
        duration=60, seed=3,
    )


def _sorted(df):
    return df.sort_values(KEYS).reset_index(drop=True)


def test_check_scheduler():
    assert check_scheduler(None) is None
    assert check_scheduler("local") == "local"
    assert check_scheduler("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    with pytest.raises(ValueError, match="scheduler must be None, 'local' or"):
        check_scheduler("127.0.0.1:8786")
    with pytest.raises(TypeError, match="got int 8786"):
        check_scheduler(8786)
    with pytest.raises(TypeError, match="manages 'hdf5_path'"):
        process_per_subject(WithinSessionEvaluation, LeftRightImagery(), [], {}, hdf5_path="x")


def test_worker_killed_mid_run_is_retried(cluster, tmp_path):
    marker = tmp_path / "killed-once"
    pipes = {"MDM": make_pipeline(KillWorkerOnce(str(marker)), Covariances("oas"), MDM())}
    before = set(cluster.scheduler_info["workers"])
    with dask_backend(cluster.scheduler_address) as client:
        assert isinstance(client, distributed.Client)
        res = process_per_subject(
            WithinSessionEvaluation, LeftRightImagery(), [_fake()], pipes, random_state=0
        )
    killed_pid = int(marker.read_text())
    assert killed_pid != os.getpid()  # the kill happened in a worker, not here
    assert sorted(res["subject"].astype(str)) == ["1", "2"]  # every subject arrived
    assert res["score"].notna().all()
    # the nanny replaced the dead worker
    assert set(cluster.scheduler_info["workers"]) != before
