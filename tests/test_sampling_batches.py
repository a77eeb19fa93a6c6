"""Tests of graphclust.sampling: the node batch plans of mini-batch training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from graphclust.sampling import (
    NodeBatchPlan,
)

# ------------------------------------------------------------------ batch plans


def test_batch_plan_covers_every_node_once_per_epoch():
    plan = NodeBatchPlan(103, 10, seed=0)
    assert len(plan) == 11
    first, second = list(plan), list(plan)
    assert [batch.numel() for batch in first] == [10] * 10 + [3]
    for epoch in (first, second):
        assert torch.equal(torch.cat(epoch).sort().values, torch.arange(103))
    assert not torch.equal(torch.cat(first), torch.cat(second))
    assert plan.epoch == 2


def test_batch_plan_is_reproducible_from_seed_and_epoch():
    plan, twin = NodeBatchPlan(50, 8, seed=11), NodeBatchPlan(50, 8, seed=11)
    epochs = [torch.cat(list(plan)) for _ in range(3)]
    twin.set_epoch(2)
    assert torch.equal(torch.cat(list(twin)), epochs[2])
    assert torch.equal(torch.cat(plan.batches(0)), epochs[0])
    assert len({tuple(epoch.tolist()) for epoch in epochs}) == 3
    # Neighbouring seeds give different epochs (a 64-bit seed would collide here,
    # since the CPU generator keeps 32 bits of it).
    for seed in (10, 12, 11 + 2**31):
        other = NodeBatchPlan(50, 8, seed=seed)
        assert not torch.equal(torch.cat(list(other)), epochs[0])


def test_a_capped_epoch_is_the_first_batches_of_the_full_epochs_permutation():
    capped, full = NodeBatchPlan(103, 10, seed=4, max_batches=3), NodeBatchPlan(103, 10, seed=4)
    assert len(capped) == 3 and len(full) == 11
    epochs = [list(capped) for _ in range(2)]
    for epoch, batches in enumerate(epochs):
        assert [batch.numel() for batch in batches] == [10] * 3
        assert [b.tolist() for b in batches] == [b.tolist() for b in full.batches(epoch)[:3]]
    # A fresh sample of the nodes each epoch, and a cap above the epoch changes nothing.
    assert set(torch.cat(epochs[0]).tolist()) != set(torch.cat(epochs[1]).tolist())
    roomy = NodeBatchPlan(103, 10, seed=4, max_batches=50)
    assert len(roomy) == 11 and all(torch.equal(a, b) for a, b in zip(
        roomy.batches(0), full.batches(0), strict=True))


def test_batch_plan_default_seed_follows_torch_manual_seed():
    torch.manual_seed(5)
    first = torch.cat(list(NodeBatchPlan(30, 7)))
    torch.manual_seed(5)
    assert torch.equal(torch.cat(list(NodeBatchPlan(30, 7))), first)


def test_batch_plan_without_shuffle_and_with_drop_last():
    plan = NodeBatchPlan(10, 4, shuffle=False, drop_last=True)
    assert len(plan) == 2
    assert [batch.tolist() for batch in plan] == [[0, 1, 2, 3], [4, 5, 6, 7]]


@pytest.mark.parametrize(("num_nodes", "drop_last"), [(60, False), (64, False), (64, True)])
def test_batch_plan_shares_epochs_between_ranks(num_nodes, drop_last):
    world_size, batch_size = 3, 4
    plans = [
        NodeBatchPlan(
            num_nodes, batch_size, drop_last=drop_last, seed=3, rank=rank, world_size=world_size
        )
        for rank in range(world_size)
    ]
    assert len({len(plan) for plan in plans}) == 1
    epochs = [plan.batches(1) for plan in plans]
    assert len({len(batches) for batches in epochs}) == 1
    shares = [torch.cat(batches) for batches in epochs]
    everything = torch.cat(shares)
    single = torch.cat(NodeBatchPlan(num_nodes, batch_size, seed=3).batches(1))
    if drop_last:
        # Whole global batches of batch_size * world_size only.
        assert everything.numel() == (num_nodes // 12) * 12
        assert torch.unique(everything).numel() == everything.numel()
    else:
        padding = -num_nodes % world_size
        assert everything.numel() == num_nodes + padding
        assert torch.equal(torch.unique(everything), torch.arange(num_nodes))
        # Ranks draw the single-process permutation and deal it out in turn.
        for rank, share in enumerate(shares):
            assert torch.equal(share, torch.cat([single, single[:padding]])[rank::world_size])


def test_batch_size_larger_than_the_graph_falls_back_to_full_batch():
    with pytest.warns(UserWarning, match="batch_size=50 exceeds the graph's 20 nodes"):
        plan = NodeBatchPlan(20, 50, seed=0)
    assert plan.batch_size == 20 and len(plan) == 1
    assert torch.equal(next(iter(plan)).sort().values, torch.arange(20))
    with pytest.warns(UserWarning, match="each process's share of 10 nodes"):
        NodeBatchPlan(20, 11, seed=0, rank=1, world_size=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_nodes": 10, "batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
        ({"num_nodes": 0, "batch_size": 4}, ValueError, "num_nodes must be an integer >= 1"),
        ({"num_nodes": 10, "batch_size": 2.5}, TypeError, "batch_size must be an int"),
        (
            {"num_nodes": 10, "batch_size": 2, "seed": 1, "rank": 2, "world_size": 2},
            ValueError,
            r"rank must be in \[0, world_size=2\)",
        ),
        ({"num_nodes": 10, "batch_size": 2, "world_size": 2}, ValueError, "seed is required"),
        ({"num_nodes": 10, "batch_size": 2, "seed": -1}, ValueError, "seed must be an int"),
        (
            {"num_nodes": 2, "batch_size": 1, "seed": 0, "world_size": 3, "drop_last": True},
            ValueError,
            "leave nothing",
        ),
        ({"num_nodes": 10, "batch_size": 2, "shuffle": 1}, TypeError,
         "shuffle must be True or False"),
        ({"num_nodes": 10, "batch_size": 2, "max_batches": 0}, ValueError,
         "max_batches must be an integer >= 1"),
        ({"num_nodes": 10, "batch_size": 2, "max_batches": 1.5}, TypeError,
         "max_batches must be None or an int"),
        ({"num_nodes": 10, "batch_size": 2, "max_batches": True}, TypeError,
         "max_batches must be None or an int"),
    ],
)
def test_batch_plan_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        NodeBatchPlan(**kwargs)


def test_set_epoch_rejects_bad_epoch():
    with pytest.raises(ValueError, match="epoch must be an int"):
        NodeBatchPlan(10, 2, seed=0).set_epoch(-1)


def test_batch_plan_len_matches_iteration():
    for num_nodes, batch_size, drop_last in itertools.product((1, 7, 64), (1, 3, 8), (0, 1)):
        plan = NodeBatchPlan(
            num_nodes, min(batch_size, num_nodes), drop_last=bool(drop_last), seed=0
        )
        assert len(plan) == len(list(plan))


def test_batch_plan_takes_numpy_integers():
    """A grid's or a config file's NumPy integers plan the same batches as Python ints."""
    numpy_plan = NodeBatchPlan(np.int64(10), np.int64(3), seed=np.uint32(5),
                               max_batches=np.int64(2))
    plan = NodeBatchPlan(10, 3, seed=5, max_batches=2)
    assert type(numpy_plan.max_batches) is int and len(numpy_plan) == len(plan) == 2
    assert all(torch.equal(a, b) for a, b in zip(numpy_plan, plan, strict=True))


@pytest.mark.parametrize("drop_last", [False, True])
def test_a_capped_epoch_gives_every_rank_as_many_disjoint_batches(drop_last):
    """Under DDP every rank must take the same number of steps an epoch (or the
    all-reduce waits forever): the cap applies to each rank's share alike."""
    plans = [NodeBatchPlan(101, 4, drop_last=drop_last, seed=7, rank=rank, world_size=2,
                           max_batches=3) for rank in range(2)]
    uncapped = [NodeBatchPlan(101, 4, drop_last=drop_last, seed=7, rank=rank, world_size=2)
                for rank in range(2)]
    for epoch in (0, 5):
        epochs = [plan.batches(epoch) for plan in plans]
        assert [len(batches) for batches in epochs] == [3, 3]
        assert all(batch.numel() == 4 for batches in epochs for batch in batches)
        seeds = torch.cat([torch.cat(batches) for batches in epochs])
        assert torch.unique(seeds).numel() == 24
        for batches, full in zip(epochs, uncapped, strict=True):
            assert all(torch.equal(a, b) for a, b in zip(batches, full.batches(epoch)[:3],
                                                         strict=True))
