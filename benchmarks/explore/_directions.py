"""Scores of directions in feature space, read from the nodes' coordinates along them:
what the explore scripts that begin the start at principal directions choose by and
report."""

from __future__ import annotations

import numpy as np
import torch

from graphclust.nn.sparse_rows import sparse_rows_linear


def coordinates_along(x: torch.Tensor, directions: torch.Tensor) -> np.ndarray:
    """The nodes' coordinates along ``directions`` (rows), nodes x directions, in float64:
    ``x`` dense or CSR rows, as the start reads them."""
    with torch.no_grad():
        return sparse_rows_linear(x, directions, None).cpu().double().numpy()


def largest_class_share(coordinates: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per column of ``coordinates`` (nodes x directions), the share of its variance about
    the mean over all nodes that lies within the largest class, about that class's mean:
    near 1 for a direction along which only that class varies (one that splits it), 0
    for one that sets the class apart as a whole."""
    largest = labels == np.bincount(labels).argmax()
    total = ((coordinates - coordinates.mean(0)) ** 2).sum(0)
    within = coordinates[largest]
    within = ((within - within.mean(0)) ** 2).sum(0)
    return within / np.maximum(total, np.finfo(float).tiny)


def between_class_share(coordinates: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per column of ``coordinates`` (nodes x directions), the share of its variance about
    the mean over all nodes that lies between the classes' means (eta squared)."""
    centred = coordinates - coordinates.mean(0)
    between = sum((labels == c).sum() * centred[labels == c].mean(0) ** 2
                  for c in np.unique(labels))
    return between / np.maximum((centred ** 2).sum(0), np.finfo(float).tiny)


def edge_agreement(coordinates: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    r"""Per column :math:`z` of ``coordinates`` (centred over the nodes), how far linked
    nodes agree along it: :math:`\sum_{(i,j)} z_i z_j / \sum_{(i,j)} (z_i^2 + z_j^2) / 2`
    over the edges ``edge_index`` (2 x E, self-loops left out); 1 where every edge joins
    equal coordinates, 0 where they are unrelated, -1 where opposite."""
    source, target = edge_index[:, edge_index[0] != edge_index[1]]
    centred = coordinates - coordinates.mean(0)
    products = (centred[source] * centred[target]).sum(0)
    squares = ((centred[source] ** 2 + centred[target] ** 2) / 2).sum(0)
    return products / np.maximum(squares, np.finfo(float).tiny)
