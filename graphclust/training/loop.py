r"""The training loop: compose a start, a head, an objective and a sampler's batches.

:func:`train_clusterer` runs the three stages of every contrastive clusterer:

1. the **start** sets the encoder (:mod:`graphclust.starts`);
2. the **head** places its Student-t centres by k-means on the embeddings
   (:meth:`graphclust.nn.StudentTHead.start_from`);
3. joint training of the **objective** (:mod:`graphclust.objectives.composed`) over the
   **sampler**'s batches (:mod:`graphclust.sampling.contrastive`) until DEC's label-free
   stopping rule fires or ``max_epochs`` is reached; none where the start found that the
   edges teach the encoder nothing (``TrainingRun.joint_stage``).

Every setting arrives as an argument; nothing is read off an estimator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from graphclust._checks import check_integer, check_positive_real
from graphclust.metrics import evaluate
from graphclust.nn.heads import StudentTHead
from graphclust.nn.sparse_rows import dense_rows
from graphclust.sampling.contrastive import checked_batches, one_pass
from graphclust.training.parts import (
    Networks,
    TrainingRun,
    contrastive_views,
    data_parallel,
    encode_all,
    optimizer_for,
    optimizer_step,
)

__all__ = ["Schedule", "Trained", "train_clusterer"]


@dataclass(frozen=True)
class Schedule:
    """The joint stage's optimiser and stopping rule: Adam at ``lr`` an epoch (each of
    an epoch's k mini-batch steps at ``lr / k``) for at most ``max_epochs`` epochs; stop
    once fewer than ``tol`` of the nodes changed cluster over the last
    ``check_interval`` epochs (DEC's rule over a window).

    The labels an epoch records (``changed``, the scores in ``history_``) are those it
    trained from, read off the head before its steps (the targets' pass): an epoch's entry
    shows the model at its start, the first epoch's shows the start's k-means labels, and
    the labels of the fit (``labels_``) are read once more after the last epoch. The
    first window therefore spans one epoch fewer than the others; with ``check_interval``
    1 that is none, so no check stops the first epoch."""

    lr: float = 3e-4
    max_epochs: int = 200
    tol: float = 5e-3
    check_interval: int = 10

    def __post_init__(self) -> None:  # check_interval <= 0 had read as 1, without a word
        check_positive_real("lr", self.lr)
        check_integer("max_epochs", self.max_epochs, 0)
        check_positive_real("tol", self.tol, allow_zero=True)
        check_integer("check_interval", self.check_interval, 1)


@dataclass
class Trained:
    """What :func:`train_clusterer` returns (the modules are trained in place)."""

    encoder: nn.Module
    embedding: torch.Tensor  # what the head clusters, every node
    labels: torch.Tensor
    n_iter: int


def train_clusterer(encoder: nn.Module, head: StudentTHead, decoder: nn.Module | None,
                    run: TrainingRun, *, start, objective, config, schedule: Schedule,
                    make_decoder, labels: np.ndarray | None = None) -> Trained:
    """Start ``encoder`` with ``start``, place ``head``'s centres, train jointly.

    ``decoder`` is trained with the objective's reconstruction term (``None``: no
    decoder); ``make_decoder()`` gives the decoder an autoencoder start trains. ``labels``
    only score the epochs in ``run.history``.
    """
    inputs = run.inputs
    checked_batches(run.batches, run.sampler)
    encoder = start(encoder, run, config=config, contrastive=objective.contrastive,
                    decoder=make_decoder)
    full_edges = inputs.edge_index  # None for a feature-only encoder

    def head_inputs() -> torch.Tensor:
        return run.head_input(encode_all(encoder, inputs.x, full_edges))

    embedding = head_inputs()
    if embedding.shape[1] != head.centers.shape[1]:  # else k-means' centres were refused
        raise ValueError(
            f"the encoder of {type(config).__name__} gives {embedding.shape[1]} columns a "
            f"node where the head takes embedding_dim={head.centers.shape[1]}: its "
            "build(in_channels, out_channels) must give out_channels columns")
    window = [head.start_from(embedding, run.generator)]  # labels of the last epochs
    networks = Networks(encoder, head, decoder, run.head_input)
    # Gradients averaged over processes; DDP also broadcasts rank 0's parameters
    # (centres included) so every process starts from the same k-means solution.
    trained = data_parallel(networks, run.world_size)
    if run.world_size > 1:
        # And rank 0's k-means labels with them, which the stopping rule compares with: a
        # process whose own k-means differed (its generator drew other neighbourhoods in
        # the start) saw most nodes change and trained on after the others had stopped.
        torch.distributed.broadcast(window[0], src=0)
    with torch.no_grad():
        # The target's pull on cluster sizes, from the shared centres, so every process
        # uses the same prior.
        prior = objective.clustering.prior(head(embedding))
    # Adam moves each weight by about its rate a step, whatever the batch. An epoch of k
    # mini-batches takes k steps where full batch takes one, so each takes lr / k: an
    # epoch then moves the model as far as a full-batch epoch, which the epoch-counting
    # stopping rule and max_epochs assume (benchmarks/results/notes.md, "Mini-batch by
    # default").
    optimizer = optimizer_for(encoder, networks, schedule.lr / len(run.batches))
    n_iter = 0
    max_epochs = schedule.max_epochs if run.joint_stage else 0
    with run.progress(max_epochs, run.name) as bar:
        for epoch in range(1, max_epochs + 1):
            target = None
            sums: dict[str, float] = {}
            for batch in one_pass(run.batches, run.sampler):
                if not batch.is_full_graph and target is None:
                    # Mini-batches: P from the whole graph at the start of the epoch (DEC).
                    with torch.no_grad():
                        q_all = head(head_inputs())
                    target = objective.clustering.target(q_all, prior)
                    predicted = q_all.argmax(1)
                arguments, num_candidates = inputs(batch)
                z, q, reconstructed = trained(arguments, num_candidates, len(batch.seeds))
                p = objective.clustering.target(q, prior) if batch.is_full_graph \
                    else target[batch.seeds]
                # The reconstruction's target, dense (the decoder's output is) and only
                # for an objective that reconstructs.
                seeds_x = None if reconstructed is None else dense_rows(
                    inputs.x, None if batch.is_full_graph else batch.seeds)
                terms = objective(contrastive_views(encoder, z), q, p, batch,
                                  reconstructed, seeds_x)
                optimizer_step(encoder, optimizer, terms["loss"])
                for key, value in terms.items():
                    sums[key] = sums.get(key, 0.0) + value.item()
                if batch.is_full_graph:
                    predicted = q.detach().argmax(1)
            changed = (predicted != window[-1]).float().mean().item()
            window.append(predicted)
            entry = {"epoch": epoch, "phase": "train", "changed": changed}
            entry.update({key: value / len(run.batches) for key, value in sums.items()})
            if labels is not None:
                entry.update(evaluate(labels, predicted.cpu().numpy()))
            run.history.append(entry)
            n_iter = epoch
            if bar is not None:
                bar.set_postfix(loss=f"{entry['loss']:.4f}", changed=f"{changed:.4f}",
                                refresh=False)  # update() redraws, as often as the bar allows
                bar.update()
            # Stop once fewer than `tol` of the nodes changed cluster in the last
            # `check_interval` epochs. Every process sees the same whole-graph labels, so
            # all processes stop together.
            if len(window) > schedule.check_interval:
                drift = (window.pop(0) != window[-1]).float().mean().item()
                entry["changed_window"] = drift
                if drift < schedule.tol and epoch > 1:  # epoch 1's window: no step yet
                    break
    embedding = head_inputs()
    with torch.no_grad():
        final = head(embedding).argmax(1)
    return Trained(encoder, embedding, final, n_iter)
