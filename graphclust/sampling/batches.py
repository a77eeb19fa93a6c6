"""Reproducible plans of seed-node batches, shared out across processes.

An epoch is a permutation of the ``N`` node ids, drawn from a generator seeded with
``(seed, epoch)`` alone. That makes a batch sequence reproducible from two integers:
the same on every rank of a ``torch.distributed`` job, after a restart, and with or
without the epochs before it having run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import torch

from graphclust._checks import check_flag, check_integer
from graphclust._warnings import user_stacklevel

__all__ = ["NodeBatchPlan"]

_SEED_LIMIT = 2**32
# torch's CPU generator (mt19937) keeps only the low 32 bits of its seed, so epochs are
# folded into 32 bits: an odd multiplier makes the map epoch -> seed one-to-one for a
# fixed seed, and keeps nearby seeds from sharing an epoch permutation.
_EPOCH_MULTIPLIER = 0x9E3779B9


class NodeBatchPlan:
    """Batches of seed node ids for each epoch, optionally one share per process.

    Epoch ``e`` permutes ``range(num_nodes)`` with a ``torch.Generator`` on ``device``
    seeded with ``(seed + e * 0x9E3779B9) mod 2**32`` (or keeps the identity order when
    ``shuffle=False``). With ``world_size`` processes the epoch is cut into global
    batches of ``batch_size * world_size`` consecutive ids, and process ``rank``
    takes every ``world_size``-th id of each, starting at position ``rank``: the
    shares are disjoint, and every process gets the same number of batches, as
    DistributedDataParallel requires.

    Parameters
    ----------
    num_nodes : int
        Number of nodes ``N >= 1``.
    batch_size : int
        Seeds per batch and process, ``>= 1``. A value larger than a process's share
        of the epoch (``N`` for one process) gives one batch with the whole share,
        with a warning; :attr:`batch_size` then holds the share size.
    shuffle : bool, default=True
        Permute the nodes each epoch.
    drop_last : bool, default=False
        Drop the final incomplete global batch. When False and ``N`` is not a
        multiple of ``world_size``, the epoch is padded with its own first
        ``-N mod world_size`` ids (as ``torch.utils.data.DistributedSampler`` does),
        so those few nodes appear twice in the epoch.
    seed : int, optional
        In ``[0, 2**32)``. Defaults to a draw from torch's global generator, which
        ``torch.manual_seed`` controls. Required when ``world_size > 1``: the ranks
        must agree on it.
    rank : int, default=0
        This process's rank, in ``[0, world_size)``.
    world_size : int, default=1
        Number of processes sharing each epoch.
    max_batches : int, optional
        At most this many batches an epoch (per process): the first ones of the epoch's
        permutation, so an epoch of a large graph is a uniform sample of its nodes (with
        ``shuffle=False``, the same first nodes every epoch). ``None``: every node, every
        epoch.
    device : torch.device or str, optional
        Device of the permutation and the batches (CPU by default). A CUDA plan
        draws with a CUDA generator, so its permutations differ from a CPU plan's
        with the same seed.

    Attributes
    ----------
    epoch : int
        Epoch the next iteration yields. Each iteration advances it by one, so
        consecutive epochs differ and ranks that iterate equally often stay in step;
        :meth:`set_epoch` sets it (for example when resuming).
    batch_size : int
        Seeds per batch in effect.

    Examples
    --------
    >>> plan = NodeBatchPlan(10, batch_size=4, seed=0)
    >>> len(plan)
    3
    >>> [batch.numel() for batch in plan]
    [4, 4, 2]
    """

    def __init__(
        self,
        num_nodes: int,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | None = None,
        rank: int = 0,
        world_size: int = 1,
        device: torch.device | str | None = None,
        max_batches: int | None = None,
    ) -> None:
        # NumPy integers (a grid's or a config file's values) come back as ints.
        num_nodes, batch_size, world_size, rank = (
            check_integer(name, value, low) for name, value, low in (
                ("num_nodes", num_nodes, 1), ("batch_size", batch_size, 1),
                ("world_size", world_size, 1), ("rank", rank, 0)))
        if max_batches is not None:
            max_batches = check_integer("max_batches", max_batches, 1,
                                        accepts="None or an integer")
        if rank >= world_size:
            raise ValueError(f"rank must be in [0, world_size={world_size}), got {rank}.")
        shuffle, drop_last = check_flag("shuffle", shuffle), check_flag("drop_last", drop_last)
        if seed is None:
            if world_size > 1:
                raise ValueError(
                    "seed is required when world_size > 1: every rank must draw the same "
                    "permutation."
                )
            seed = int(torch.randint(0, _SEED_LIMIT, ()))
        seed = check_integer("seed", seed, 0, _SEED_LIMIT - 1, accepts="None or an integer")

        if drop_last:
            share = num_nodes // world_size
            if share == 0:
                raise ValueError(
                    f"With drop_last=True, {num_nodes} nodes leave nothing for each of "
                    f"{world_size} processes."
                )
        else:
            share = math.ceil(num_nodes / world_size)
        if batch_size > share:
            whose = "the graph's" if world_size == 1 else "each process's share of"
            warnings.warn(
                f"batch_size={batch_size} exceeds {whose} {share} nodes: each epoch is one "
                f"full batch of {share} seeds.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            batch_size = share

        self.num_nodes = num_nodes
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.max_batches = max_batches
        self.epoch = 0
        self._share = share

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration yield the batches of ``epoch`` (in ``[0, 2**32)``)."""
        epoch = check_integer("epoch", epoch, 0, _SEED_LIMIT - 1)
        self.epoch = epoch

    def batches(self, epoch: int) -> list[torch.Tensor]:
        """This process's ``int64`` seed batches of ``epoch``, without advancing."""
        epoch = check_integer("epoch", epoch, 0, _SEED_LIMIT - 1)
        if self.shuffle:
            generator = torch.Generator(device=self.device)
            generator.manual_seed((self.seed + epoch * _EPOCH_MULTIPLIER) % _SEED_LIMIT)
            order = torch.randperm(self.num_nodes, generator=generator, device=self.device)
        else:
            order = torch.arange(self.num_nodes, device=self.device)
        used = self._share * self.world_size
        if used != self.num_nodes:
            # Truncate (drop_last) or wrap around to the epoch's first ids (padding).
            order = order[torch.arange(used, device=self.device) % self.num_nodes]
        share = order[self.rank :: self.world_size].contiguous()
        batches = list(share.split(self.batch_size))
        if self.drop_last and batches[-1].numel() < self.batch_size:
            batches.pop()
        return batches[:len(self)]

    def __iter__(self) -> Iterator[torch.Tensor]:
        epoch = self.epoch
        self.epoch += 1
        return iter(self.batches(epoch))

    def __len__(self) -> int:
        if self.drop_last:
            every = self._share // self.batch_size
        else:
            every = math.ceil(self._share / self.batch_size)
        return every if self.max_batches is None else min(every, self.max_batches)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_nodes={self.num_nodes}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}, "
            f"rank={self.rank}, world_size={self.world_size}, device={self.device}, "
            f"max_batches={self.max_batches})"
        )

