r"""The principal directions of a feature matrix: its top right singular vectors.

For :math:`X = U \Sigma V^\top` (uncentred, as scikit-learn's ``TruncatedSVD``, so
that sparse rows stay sparse), the rows of :math:`V_d^\top` span the :math:`d`
directions along which the rows of :math:`X` have the most energy; :math:`X V_d` is the
best rank-:math:`d` summary of the rows in the least-squares sense. ``svd-kmeans``
clusters that projection, and a linear start that finds nothing to learn keeps it.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.decomposition import TruncatedSVD

from graphclust.nn.sparse_rows import as_scipy, is_sparse_rows

__all__ = ["n_principal_directions", "principal_directions"]


def n_principal_directions(n_components: int, n_features: int) -> int:
    """How many directions :func:`principal_directions` asks for: ``n_components``, at
    most ``n_features``."""
    return min(int(n_components), int(n_features))


def principal_directions(x: torch.Tensor, n_components: int, seed: int) -> torch.Tensor:
    """The top ``min(n_components, features)`` right singular vectors of ``x`` (fewer
    where ``x`` has fewer rows than that).

    Parameters
    ----------
    x : torch.Tensor
        ``(N, features)``, dense or CSR (:mod:`graphclust.nn.sparse_rows`), on any device.
    n_components : int
        :math:`d`; at most ``features`` are computed.
    seed : int
        Seeds the randomized SVD, so the same seed gives the same directions.

    Returns
    -------
    torch.Tensor
        ``(d, features)`` float32 on ``x``'s device, one direction a row, strongest first.
    """
    components = n_principal_directions(n_components, x.shape[1])
    matrix = as_scipy(x.cpu()) if is_sparse_rows(x) else x.detach().cpu().numpy()
    if components < x.shape[1]:
        with warnings.catch_warnings():
            # Its explained-variance ratio, which nothing here reads, divides by a total
            # variance of 0 on constant features.
            warnings.filterwarnings("ignore", "invalid value encountered in divide",
                                    RuntimeWarning)
            directions = TruncatedSVD(components, random_state=seed).fit(matrix).components_
    else:
        directions = _every_direction(matrix)
    return torch.from_numpy(directions.astype(np.float32)).to(x.device)


def _every_direction(matrix) -> np.ndarray:
    """Every right singular vector of ``matrix``, from an exact SVD (its features are at
    most ``n_components``, so it costs little; ``TruncatedSVD`` refuses one feature), each
    signed so that its largest entry is positive."""
    dense = matrix.toarray() if hasattr(matrix, "toarray") else matrix
    _, _, directions = np.linalg.svd(np.asarray(dense, dtype=np.float64), full_matrices=False)
    largest = np.abs(directions).argmax(axis=1)
    return directions * np.sign(directions[np.arange(len(directions)), largest])[:, None]
