r"""The objective part: the terms of the joint stage and the object that weighs them.

In the spirit of PyGCL's ``DualBranchContrast(loss=InfoNCE(tau))``, each term is a small
frozen dataclass and :class:`ClusteringObjective` composes them:

.. math::

    \mathcal L = \beta\,\mathrm{KL}(P \,\|\, Q) + \alpha\,\mathcal L_{NC}
        \;[+\; \lVert \hat x - x \rVert^2 / (N F)],

* :class:`NeighborContrast`: the neighbour-contrastive / IAC loss
  (:func:`graphclust.objectives.neighbor_contrastive_loss`) of the pairs a sampler gives
  (:mod:`graphclust.sampling.contrastive`), averaged over the encoder's views;
* :class:`SelfTraining`: DEC's KL to the sharpened target :math:`P` with its size prior
  (:mod:`graphclust.objectives.clustering`);
* :class:`Reconstruction`: SCGC's mean squared error of a decoder (SDCN's mirror MLP);
  an objective with one makes the estimator build and train that decoder.

The training loop (:func:`graphclust.training.train_clusterer`) calls the objective once
per batch; a custom objective is any object with the same attributes and call (see
``examples/custom_objective.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F

from graphclust._checks import check_real
from graphclust.objectives.clustering import kl_clustering_loss, target_distribution
from graphclust.objectives.contrastive import neighbor_contrastive_loss

__all__ = ["ClusteringObjective", "NeighborContrast", "Objective", "Reconstruction",
           "SelfTraining", "SIZE_PRIORS"]

SIZE_PRIORS = ("start", "uniform")


@dataclass(frozen=True)
class NeighborContrast:
    """Neighbour-contrastive loss with inverse temperature ``tau`` (> 0)."""

    tau: float = 1.0

    def __post_init__(self) -> None:
        # A part passed as objective= skips the estimator's own table of constraints.
        if check_real("tau", self.tau) <= 0:  # <= 0 would push neighbours apart
            raise ValueError(f"tau must be > 0, got {self.tau!r}")

    def __call__(self, views: list[torch.Tensor], batch) -> torch.Tensor:
        """Mean loss over the encoder's ``views`` (each row-aligned with the candidates)."""
        if len(batch.anchor_rows) == 0:  # only isolated nodes in this batch
            return sum(view.sum() for view in views) * 0.0
        return sum(
            neighbor_contrastive_loss(
                view[batch.anchor_rows], view, batch.positive_anchor,
                batch.positive_candidate, batch.positive_weight, self.tau,
                self_candidate=batch.anchor_rows,
            )
            for view in views
        ) / len(views)


@dataclass(frozen=True)
class SelfTraining:
    """DEC's clustering term: KL(P || Q) to the sharpened target P.

    ``size_prior``: ``"start"`` pulls cluster sizes towards the soft sizes at the k-means
    start, ``"uniform"`` towards equal sizes (DEC's own target).
    """

    size_prior: str = "start"

    def __post_init__(self) -> None:
        if self.size_prior not in SIZE_PRIORS:  # else prior() would fall back to uniform
            raise ValueError(f"size_prior must be one of {', '.join(SIZE_PRIORS)}, got "
                             f"{self.size_prior!r}")

    def prior(self, q_start: torch.Tensor) -> torch.Tensor | None:
        """The size prior from the soft assignments at the start (None: uniform)."""
        return q_start.sum(0) if self.size_prior == "start" else None

    def target(self, q: torch.Tensor, prior: torch.Tensor | None) -> torch.Tensor:
        return target_distribution(q, size_prior=prior)

    def __call__(self, p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return kl_clustering_loss(p, q)


@dataclass(frozen=True)
class Reconstruction:
    """Mean squared error of the decoded embeddings against the encoder's input (the
    transformed features, or their propagated copies where the encoder reads those)."""

    def __call__(self, reconstructed: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(reconstructed, x)


@dataclass(frozen=True)
class ClusteringObjective:
    r"""Weighted sum :math:`\beta\,\text{clustering} + \alpha\,\text{contrastive}
    [+ \text{reconstruction}]` (module docstring).

    Parameters
    ----------
    contrastive : NeighborContrast
        The contrastive term, called as ``contrastive(views, batch)``; a start that holds
        out edges also reads its ``tau``.
    clustering : SelfTraining
        The clustering term, with ``prior(q)``, ``target(q, prior)`` and ``(p, q)``.
    reconstruction : Reconstruction or None
        With one, the estimator trains a decoder; ``None``: no decoder.
    alpha, beta : float
        Weights of the contrastive and the clustering terms.
    """

    contrastive: NeighborContrast = field(default_factory=NeighborContrast)
    clustering: SelfTraining = field(default_factory=SelfTraining)
    reconstruction: Reconstruction | None = None
    alpha: float = 0.03
    beta: float = 1.0

    def __post_init__(self) -> None:
        for name in ("alpha", "beta"):
            if check_real(name, getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

    def __call__(self, views: list[torch.Tensor], q: torch.Tensor, p: torch.Tensor, batch,
                 reconstructed: torch.Tensor | None = None,
                 x: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The named terms of one batch and their weighted sum under ``"loss"``."""
        kl = self.clustering(p, q)
        contrastive = self.contrastive(views, batch)
        terms = {"loss": self.beta * kl + self.alpha * contrastive, "kl": kl,
                 "contrastive": contrastive}
        if self.reconstruction is not None and reconstructed is not None:
            terms["reconstruction"] = self.reconstruction(reconstructed, x)
            terms["loss"] = terms["loss"] + terms["reconstruction"]
        return terms


@runtime_checkable
class Objective(Protocol):
    """What the training loop reads of an objective (see :class:`ClusteringObjective`):
    its ``contrastive`` term (also run alone by the contrastive starts, whose held-out
    length reads its ``tau``), its ``clustering`` term (``prior``, ``target``), its
    ``reconstruction`` (``None``: no decoder) and the call giving the batch's terms
    (``x``: the seeds' transformed features, dense, given with ``reconstructed``)."""

    contrastive: object
    clustering: object
    reconstruction: object

    def __call__(self, views, q, p, batch, reconstructed=None, x=None) -> dict: ...
