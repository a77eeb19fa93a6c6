r"""The principal directions of a feature matrix: its top right singular vectors.

For :math:`X = U \Sigma V^\top` (uncentred, as scikit-learn's ``TruncatedSVD``, so
that sparse rows stay sparse), the rows of :math:`V_d^\top` span the :math:`d`
directions along which the rows of :math:`X` have the most energy; :math:`X V_d` is the
best rank-:math:`d` summary of the rows in the least-squares sense. ``svd-kmeans``
clusters that projection, and a linear start that finds nothing to learn keeps it.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import TruncatedSVD

from graphclust.nn.sparse_rows import as_scipy, is_sparse_rows

__all__ = ["n_principal_directions", "principal_directions"]


def n_principal_directions(n_components: int, n_features: int) -> int:
    """How many directions :func:`principal_directions` gives: ``n_components``, at most
    ``n_features - 1`` (the shape saved ``svd-kmeans`` models have) and at least one."""
    return min(int(n_components), max(1, int(n_features) - 1))


def principal_directions(x: torch.Tensor, n_components: int, seed: int) -> torch.Tensor:
    """The top ``min(n_components, features - 1)`` right singular vectors of ``x``.

    Parameters
    ----------
    x : torch.Tensor
        ``(N, features)``, dense or CSR (:mod:`graphclust.nn.sparse_rows`), on any device.
    n_components : int
        :math:`d`; at most ``features - 1`` are computed (at least one).
    seed : int
        Seeds the randomized SVD, so the same seed gives the same directions.

    Returns
    -------
    torch.Tensor
        ``(d, features)`` float32 on ``x``'s device, one direction a row, strongest first.
    """
    if x.shape[1] == 1:  # TruncatedSVD refuses a single feature: it is its own direction
        return torch.ones(1, 1, device=x.device)
    components = n_principal_directions(n_components, x.shape[1])
    matrix = as_scipy(x.cpu()) if is_sparse_rows(x) else x.detach().cpu().numpy()
    svd = TruncatedSVD(components, random_state=seed).fit(matrix)
    return torch.from_numpy(svd.components_.astype(np.float32)).to(x.device)
