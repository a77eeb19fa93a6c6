"""Two CPU processes (gloo) train one model with DistributedDataParallel."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from graphclust import MPNNVNClusterer, SCGCStar, evaluate
from graphclust.data import make_sbm

PARAMS = {"n_clusters": 3, "batch_size": 100, "max_epochs": 10, "pretrain_epochs": 60,
          "hidden_dims": (32,), "embedding_dim": 8, "lr": 1e-3, "tol": 0.0, "random_state": 0}
# A message-passing encoder grown from the same linear start, trained on sampled subgraphs.
MODELS = {
    "scgc-star": (SCGCStar, PARAMS),
    "mpnn-vn": (MPNNVNClusterer, {**{k: v for k, v in PARAMS.items() if k != "hidden_dims"},
                                  "hidden_channels": 16, "fanout": 5}),
}


def _graph():
    return make_sbm(600, 3, 16, avg_degree=8, homophily=0.9, feature_signal=1.0,
                    random_state=1)


def _worker(rank: int, world_size: int, folder: str, model: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous",
                            rank=rank, world_size=world_size)
    try:
        estimator, params = MODELS[model]
        est = estimator(**params).fit(_graph())
        flat = torch.cat([p.detach().flatten() for p in est.encoder_.parameters()])
        np.save(f"{folder}/params{rank}.npy", flat.numpy())
        np.save(f"{folder}/labels{rank}.npy", est.labels_)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
@pytest.mark.parametrize("model", sorted(MODELS))
def test_two_processes_stay_in_sync_and_match_single_process_quality(tmp_path, model):
    mp.spawn(_worker, args=(2, str(tmp_path), model), nprocs=2, join=True)
    np.testing.assert_array_equal(np.load(tmp_path / "params0.npy"),
                                  np.load(tmp_path / "params1.npy"))
    labels = np.load(tmp_path / "labels0.npy")
    np.testing.assert_array_equal(labels, np.load(tmp_path / "labels1.npy"))
    # One process with the same global batch (2 x 100 seeds) takes the same number of
    # optimizer steps; two processes must reach its quality.
    graph = _graph()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the workers
    try:
        estimator, params = MODELS[model]
        single = estimator(**{**params, "batch_size": 200}).fit(graph)
    finally:
        torch.set_num_threads(threads)
    y = graph.y.numpy()
    assert evaluate(y, labels)["acc"] >= evaluate(y, single.labels_)["acc"] - 0.03
    assert evaluate(y, labels)["acc"] > 0.9


def test_full_batch_is_refused_in_a_distributed_job(monkeypatch):
    monkeypatch.setattr("graphclust.estimators.contrastive.distributed_context", lambda: (0, 2))
    with pytest.raises(ValueError, match="set batch_size"):
        SCGCStar(**{**PARAMS, "batch_size": None}).fit(_graph())


def _diverging_worker(rank: int, world_size: int, folder: str) -> None:
    """Rank 1's third step sees a NaN loss; rank 0's stays finite. Both must stop there."""
    import datetime

    import graphclust.training.loop as loop

    torch.set_num_threads(1)
    # A short timeout: a process left waiting fails the test instead of hanging it.
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=60))
    real, calls = loop.optimizer_step, []

    def step(encoder, optimizer, loss):
        calls.append(1)
        return real(encoder, optimizer, loss * float("nan") if rank == 1 and len(calls) == 3
                    else loss)

    loop.optimizer_step = step
    try:
        SCGCStar(**{**PARAMS, "pretrain": "none"}).fit(_graph())
        outcome = "finished"
    except FloatingPointError:
        outcome = f"FloatingPointError at step {len(calls)}"
    finally:
        dist.destroy_process_group()
    (Path(folder) / f"outcome{rank}").write_text(outcome)


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_a_loss_that_is_not_finite_in_one_process_stops_every_process(tmp_path):
    """One process's NaN stops all of them at that step (a process that stopped alone
    would leave the others waiting in the gradients' all-reduce)."""
    mp.spawn(_diverging_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    assert [(tmp_path / f"outcome{rank}").read_text() for rank in (0, 1)] == \
        ["FloatingPointError at step 3"] * 2


def _agreement_worker(rank: int, world_size: int, folder: str) -> None:
    """``random_state=None`` draws a seed in each process, and ``batch_size="auto"`` fits
    the batch to each process's memory (here: rank 1 is told it has room for half)."""
    import datetime
    import json

    import graphclust.estimators.contrastive as contrastive

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=60))
    contrastive.choose_batch_size = lambda *args, **kwargs: 100 if rank == 0 else 50
    try:
        params = {**PARAMS, "random_state": None, "batch_size": "auto", "tol": 5e-3}
        est = SCGCStar(**params).fit(_graph())
        record = {"labels": est.labels_.tolist(), "n_iter": est.n_iter_,
                  "batch_size": est.batch_size_, "start_length": est.start_length_}
    finally:
        dist.destroy_process_group()
    (Path(folder) / f"record{rank}.json").write_text(json.dumps(record))


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_choices_made_in_each_process_are_one_choice(tmp_path):
    """The seed and the automatic batch size are agreed between the processes (the
    smallest of their own): with their own, the processes held out other edges, stopped
    at other epochs and left one waiting in an all-reduce."""
    import json

    mp.spawn(_agreement_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    records = [json.loads((tmp_path / f"record{rank}.json").read_text()) for rank in (0, 1)]
    assert records[0] == records[1]
    assert records[0]["batch_size"] == 50


def _baseline_worker(rank: int, world_size: int, folder: str) -> None:
    """Rank 0 alone fits a no-training baseline inside a distributed job."""
    import datetime

    from graphclust import SVDKMeans

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=30))
    try:
        if rank == 0:
            SVDKMeans(n_clusters=3).fit(_graph())
        dist.barrier()
    finally:
        dist.destroy_process_group()
    (Path(folder) / f"done{rank}").write_text("done")


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_a_baseline_fitted_by_one_process_makes_no_collective_call(tmp_path):
    """Only the models that train across processes agree on their seed: a baseline that
    one process fits alone must not wait for the others."""
    mp.spawn(_baseline_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    assert (tmp_path / "done0").exists() and (tmp_path / "done1").exists()


def _short_of_memory_worker(rank: int, world_size: int, folder: str) -> None:
    """Rank 1 is told it has almost no memory: its check fails, rank 0's passes."""
    import datetime

    import graphclust.estimators.contrastive as contrastive
    from graphclust.memory import TrainingMemoryError

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=60))
    if rank == 1:
        contrastive.memory_to_check = lambda device: 1024
    try:
        SCGCStar(**PARAMS).fit(_graph())
        outcome = "finished"
    except TrainingMemoryError as error:
        outcome = "another process" if "another process" in str(error) else "own"
    finally:
        dist.destroy_process_group()
    (Path(folder) / f"outcome{rank}").write_text(outcome)


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_a_process_short_of_memory_stops_every_process(tmp_path):
    """The memory check that fails in one process fails in all of them at once: the
    others are told another process cannot fit, instead of waiting for it."""
    mp.spawn(_short_of_memory_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    assert [(tmp_path / f"outcome{rank}").read_text() for rank in (0, 1)] == \
        ["another process", "own"]


def _start_labels_worker(rank: int, world_size: int, folder: str) -> None:
    """A message-passing encoder's contrastive start draws each process's own sampled
    neighbourhoods from the fit's generator, which k-means then draws its starts from."""
    import datetime
    import json

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=60))
    graph = make_sbm(600, 10, 16, avg_degree=8, homophily=0.3, feature_signal=0.0,
                     random_state=1)
    params = {**MODELS["mpnn-vn"][1], "n_clusters": 10, "max_epochs": 30,
              "pretrain_epochs": 20, "pretrain": "contrastive", "tol": 0.2}
    try:
        est = MPNNVNClusterer(**params).fit(graph)
        record = {"n_iter": est.n_iter_, "changed": [entry["changed"] for entry in
                                                     est.history_ if entry["phase"] == "train"]}
    finally:
        dist.destroy_process_group()
    (Path(folder) / f"record{rank}.json").write_text(json.dumps(record))


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_every_process_compares_with_the_same_k_means_labels(tmp_path):
    """The stopping rule compares the labels with the k-means labels at first: each
    process's own had differed, and one process stopped while another trained on."""
    import json

    mp.spawn(_start_labels_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    records = [json.loads((tmp_path / f"record{rank}.json").read_text()) for rank in (0, 1)]
    assert records[0] == records[1]


def _auto_worker(rank: int, world_size: int, folder: str) -> None:
    """A default fit (``batch_size="auto"``) of a graph that one process trains full batch."""
    import json

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous",
                            rank=rank, world_size=world_size)
    try:
        params = {k: v for k, v in PARAMS.items() if k != "batch_size"}
        est = SCGCStar(**{**params, "max_epochs": 2, "pretrain_epochs": 5}).fit(_graph())
        record = {"batch_size": est.batch_size_, "labels": est.labels_.tolist()}
    finally:
        dist.destroy_process_group()
    (Path(folder) / f"record{rank}.json").write_text(json.dumps(record))


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_auto_trains_each_process_share_where_one_process_trains_full_batch(tmp_path):
    """Full batch cannot be shared between processes: "auto" had chosen it for a small
    graph, and the fit was refused ("set batch_size") though the user had left the
    choice to it. Each process trains its share of the 600 nodes as one batch instead."""
    import json

    mp.spawn(_auto_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    records = [json.loads((tmp_path / f"record{rank}.json").read_text()) for rank in (0, 1)]
    assert records[0] == records[1]
    assert records[0]["batch_size"] == 300


@pytest.mark.parametrize("batch_size", ["auto", 1000, 5000])
def test_the_batch_each_process_trains_is_recorded(batch_size, monkeypatch):
    """With more processes than a batch fits in (4 shares of 750 nodes), the plan cut
    every batch to the share (with a warning) while ``batch_size_`` recorded the batch
    ("auto": 1,024); an int as large as the graph was taken for full batch, which
    processes cannot share, and the fit refused ("set batch_size")."""
    import graphclust.estimators.contrastive as contrastive

    class Planned(Exception):
        """Raised where training would start, once the batches are planned."""

    def planned(encoder, head, decoder, run, **kwargs):
        raise Planned(run.sampler.batch_size, run.batches.plan.batch_size)

    monkeypatch.setattr(contrastive, "distributed_context", lambda: (0, 4))
    monkeypatch.setattr(contrastive, "train_clusterer", planned)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(Planned) as stop:
        warnings.simplefilter("always")
        SCGCStar(n_clusters=3, batch_size=batch_size).fit(
            make_sbm(3000, 3, 16, avg_degree=8, random_state=1))
    recorded, trained = stop.value.args  # batch_size_ builds the sampler
    assert recorded == trained == 750
    cut = ("exceeds each process's share", "not smaller than the graph")
    assert not [w for w in caught if any(words in str(w.message) for words in cut)]


@pytest.mark.parametrize(("rank", "speaks"), [(0, True), (1, False)])
def test_only_rank_zero_reports_when_verbose(monkeypatch, capsys, rank, speaks):
    # A torchrun job with verbose=True writes its lines once, from rank 0, not once a process.
    monkeypatch.setattr("graphclust.estimators.base.distributed_context", lambda: (rank, 2))
    SCGCStar(**{**PARAMS, "verbose": True, "max_epochs": 2}).fit(_graph())
    out, err = capsys.readouterr()
    assert ("SCGCStar: batch_size=100" in out) is speaks
    assert ("SCGCStar: start: " in out) is speaks
    assert ("choosing its length" in err) is speaks  # the progress bars
