r"""DEC's self-training clustering objective.

From the soft assignments :math:`Q` (see :class:`graphclust.nn.StudentTHead`) the target

.. math::

    p_{ij} = \frac{q_{ij}^2 / f_j}{\sum_{j'} q_{ij'}^2 / f_{j'}}, \qquad f_j = \sum_i q_{ij},

sharpens confident assignments and divides by cluster frequency so that large clusters do
not swallow small ones. That division pulls every cluster towards the same size; with a
prior :math:`\pi` on the sizes the target becomes

.. math::

    p_{ij} \propto q_{ij}^2 \, \pi_j / f_j,

which pulls cluster :math:`j` towards size :math:`\pi_j` instead (:math:`\pi` uniform is
DEC's target). The estimators' default ``size_prior="start"`` takes :math:`\pi` from the
soft sizes at the k-means start, so that the first epoch's target only sharpens
(:math:`\pi = f`) and DEC's pull towards equal sizes does not act from the start (on Cora
it shrinks the largest class's cluster and costs about 0.02 ACC). Those soft sizes are
much closer to equal than the start's k-means sizes (Student-t assignments on the unit
sphere are flat), so the prior does not hold the k-means sizes once :math:`Q` sharpens:
on a 2,000-node sample of Cora the largest cluster shrinks from 523 to 407 nodes over 200
epochs of the joint stage. Holding the k-means sizes instead helps that sample and hurts others
(benchmarks/results/notes_part10.md, "The joint stage run to its end").

The loss is :math:`\mathrm{KL}(P \,\|\, Q) = \frac{1}{N}\sum_i \sum_j p_{ij}
\log(p_{ij} / q_{ij})`, with :math:`P` held fixed (recomputed from :math:`Q`
every epoch in SCGC).
"""

from __future__ import annotations

import torch

__all__ = ["target_distribution", "kl_clustering_loss"]


def target_distribution(q: torch.Tensor, cluster_frequency: torch.Tensor | None = None,
                        size_prior: torch.Tensor | None = None):
    r"""DEC target :math:`P` from soft assignments ``q`` of shape ``(N, K)``.

    ``cluster_frequency`` (:math:`f`) defaults to ``q.sum(0)``. Mini-batch training
    (:mod:`graphclust.training.loop`) computes ``P`` from the whole graph's ``q`` at the
    start of each epoch, so every batch reads the whole graph's frequency.
    ``size_prior`` (:math:`\pi`, any positive scale) defaults to uniform, DEC's own
    target.
    """
    q = q.detach()
    for name, given in (("cluster_frequency", cluster_frequency), ("size_prior", size_prior)):
        if given is not None and given.shape != q.shape[1:]:
            raise ValueError(f"{name} must have one entry per cluster, shape "
                             f"{tuple(q.shape[1:])}, got {tuple(given.shape)}")
    if size_prior is not None and not bool((size_prior > 0).all()):
        raise ValueError("size_prior must be positive (and not NaN)")
    if cluster_frequency is None:
        cluster_frequency = q.sum(0)
    weight = q.pow(2) / cluster_frequency.clamp_min(torch.finfo(q.dtype).tiny)
    if size_prior is not None:
        weight = weight * size_prior
    return weight / weight.sum(1, keepdim=True)


def kl_clustering_loss(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """:math:`\\mathrm{KL}(P \\| Q)` averaged over rows; ``p`` is treated as a constant."""
    if p.shape != q.shape:  # a (1, K) target would broadcast over every row of Q
        raise ValueError(f"p and q must have one shape, got {tuple(p.shape)} and "
                         f"{tuple(q.shape)}")
    p = p.detach()
    tiny = torch.finfo(q.dtype).tiny
    return (p * (torch.log(p.clamp_min(tiny)) - torch.log(q.clamp_min(tiny)))).sum(1).mean()
