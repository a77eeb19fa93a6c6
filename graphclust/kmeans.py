r"""Seeded k-means in torch (k-means++ start, Lloyd iterations), on CPU or GPU.

Used to start the Student-t centres from the encoder's embeddings. Distances are computed
in row chunks, so memory is :math:`O(\text{chunk} \cdot K)` beyond the data. For very large
embeddings the centres are fitted on a uniform sample of at most ``max_samples`` rows (the
sample is plenty for :math:`K \ll` sample size), and every row is then assigned in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from graphclust._checks import check_integer, check_real

__all__ = ["KMeansResult", "assign", "kmeans", "squared_distances"]


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""Pairwise squared Euclidean distances through one matrix product.

    Unlike ``torch.cdist(...).pow(2)`` its gradient is defined at zero distance. Both sets
    are first taken relative to the mean of ``b`` (the distances do not change): the
    expansion :math:`|a|^2 + |b|^2 - 2 a \cdot b` otherwise loses float32 digits to an
    offset common to all points, and the Student-t assignments of points at 1e4 from the
    origin had disagreed with their own k-means labels.
    """
    reference = b.detach().mean(0)
    a, b = a - reference, b - reference
    squared = a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1) - 2.0 * a @ b.T
    return squared.clamp_min(0.0)


@dataclass(frozen=True)
class KMeansResult:
    centers: torch.Tensor
    labels: torch.Tensor
    inertia: float
    n_iter: int


def assign(x: torch.Tensor, centers: torch.Tensor, chunk_size: int = 65536,
           squared_norms: torch.Tensor | None = None):
    r"""Nearest centre of every row and the squared distance to it, in chunks.

    The nearest centre maximises :math:`x \cdot c - \lVert c \rVert^2 / 2` (one matrix
    product per chunk); ``squared_norms`` (:math:`\lVert x \rVert^2` per row) can be passed
    when the same rows are assigned many times, as in Lloyd's iterations.
    """
    if squared_norms is None:
        squared_norms = x.pow(2).sum(1)
    half_norms = centers.pow(2).sum(1) * 0.5
    labels, distances = [], []
    for chunk, norms in zip(x.split(chunk_size), squared_norms.split(chunk_size), strict=True):
        best = torch.addmm(-half_norms, chunk, centers.T).max(1)
        labels.append(best.indices)
        distances.append((norms - 2.0 * best.values).clamp_min(0.0))
    return torch.cat(labels), torch.cat(distances)


def _kmeans_plus_plus(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    first = torch.randint(n, (1,), generator=generator, device=x.device)
    centers = x[first]
    closest = squared_distances(x, centers).squeeze(1)
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than clusters: pick uniformly
            weights = torch.ones_like(closest)
        else:
            weights = closest / total
        index = torch.multinomial(weights, 1, generator=generator)
        centers = torch.cat([centers, x[index]])
        closest = torch.minimum(closest, squared_distances(x, x[index]).squeeze(1))
    return centers


def _lloyd(x, centers, max_iter: int, tol: float, chunk_size: int):
    k = centers.shape[0]
    scale = x.var(0).mean().clamp_min(torch.finfo(x.dtype).tiny)
    squared_norms = x.pow(2).sum(1)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        labels, _ = assign(x, centers, chunk_size, squared_norms)
        sums = torch.zeros_like(centers).index_add_(0, labels, x)
        counts = torch.bincount(labels, minlength=k).to(x.dtype).unsqueeze(1)
        # An empty cluster keeps its centre (it can win points back later).
        new_centers = torch.where(counts > 0, sums / counts.clamp_min(1), centers)
        shift = (new_centers - centers).pow(2).sum()
        centers = new_centers
        if shift <= tol * scale:
            break
    labels, distances = assign(x, centers, chunk_size, squared_norms)
    return centers, labels, float(distances.sum()), n_iter


def kmeans(
    x: torch.Tensor,
    n_clusters: int,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
    generator: torch.Generator | None = None,
    max_samples: int = 100_000,
    chunk_size: int = 65536,
) -> KMeansResult:
    """Best of ``n_init`` k-means++ / Lloyd runs by inertia.

    Parameters
    ----------
    x : torch.Tensor
        ``(N, D)`` float tensor.
    n_clusters : int
        :math:`K`, at most :math:`N`.
    n_init, max_iter, tol :
        As in scikit-learn: restarts, Lloyd iterations, and the stopping threshold on the
        squared centre shift relative to the mean feature variance.
    generator : torch.Generator, optional
        On ``x.device``; seeds the sample, the k-means++ draws and nothing else.
    max_samples : int
        Fit the centres on a uniform sample of this many rows when :math:`N` is larger.
    """
    if x.ndim != 2:
        raise ValueError(f"k-means needs an (N, D) tensor of points, got shape "
                         f"{tuple(x.shape)}")
    n = x.shape[0]
    n_clusters = check_integer("n_clusters", n_clusters)  # True had meant one cluster
    if not 1 <= n_clusters <= n:
        raise ValueError(f"n_clusters={n_clusters} must be between 1 and the {n} points")
    n_init, max_iter, max_samples, chunk_size = (
        check_integer(name, value, least) for name, value, least in (
            ("n_init", n_init, 1), ("max_iter", max_iter, 1),
            ("max_samples", max_samples, n_clusters), ("chunk_size", chunk_size, 1)))
    if not check_real("tol", tol) >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    x = x.detach().float()
    if not bool(torch.isfinite(x).all()):
        raise ValueError(
            "k-means got points that are not finite (NaN or inf); where they are a model's "
            "embeddings, these overflowed (features of a very large scale with "
            "features='none', or weights that diverged): bring the features to a smaller "
            "scale or lower the learning rate")
    # Centred, as scikit-learn's k-means is: the distances' expansion |x|^2 + |c|^2 - 2x.c
    # loses float32 digits to an offset common to all points (at an offset of 1e4 on
    # blobs 4 apart it had merged them and reported an inertia below the optimum's).
    mean = x.mean(0)
    x = x - mean
    fit_rows = x
    if n > max_samples:
        fit_rows = x[torch.randperm(n, generator=generator, device=x.device)[:max_samples]]
    best = None
    for _ in range(n_init):
        start = _kmeans_plus_plus(fit_rows, n_clusters, generator)
        centers, labels, inertia, n_iter = _lloyd(fit_rows, start, max_iter, tol, chunk_size)
        if best is None or inertia < best[2]:
            best = (centers, labels, inertia, n_iter)
    centers, labels, inertia, n_iter = best
    if fit_rows is not x:
        labels, distances = assign(x, centers, chunk_size)
        inertia = float(distances.sum())
    return KMeansResult(centers + mean, labels, inertia, n_iter)
