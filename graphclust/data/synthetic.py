"""Attributed stochastic block models: labelled graphs of any size for tests and benchmarks.

:func:`make_sbm` samples a planted partition with Gaussian node features in ``O(E)`` time and
memory, with no Python loop over nodes or edges, so that million-node graphs take seconds.
"""

from __future__ import annotations

import torch
from torch_geometric.data import Data

from graphclust._checks import check_integer, check_real

__all__ = ["make_sbm"]

# The largest feature_signal whose cluster means (standard normal draws, within about 8
# of 0 for any graph that fits in memory, times the signal) stay finite in float32.
_MAX_FEATURE_SIGNAL = 1e37


def make_sbm(
    n_nodes: int,
    n_clusters: int,
    n_features: int,
    avg_degree: float,
    homophily: float = 0.8,
    feature_signal: float = 1.0,
    random_state: int | None = None,
) -> Data:
    """Sample an attributed stochastic block model.

    Labels: ``n_clusters`` balanced clusters (sizes differ by at most one) assigned to nodes
    in random order.

    Edges: ``m = round(n_nodes * avg_degree / 2)`` source nodes are drawn uniformly. With
    probability ``homophily`` a source is joined to a uniform node of its own cluster,
    otherwise to a uniform node of another cluster. Self-loops are dropped, each edge is
    stored in both directions, and repeated edges are kept once. So the fraction of
    intra-cluster edges is about ``homophily``, and the realised average degree is slightly
    below ``avg_degree``: noticeably so only when ``avg_degree * homophily`` approaches the
    cluster size and repeats become common, or when clusters are small: a within-cluster
    draw lands on its own source with probability 1 / (cluster size) and is dropped, so
    clusters of a few nodes hold fewer edges than ``homophily`` says, and clusters of one
    node none.

    Features: cluster means :math:`\\mu_c \\sim \\mathcal N(0, I)\\cdot` ``feature_signal``,
    node features :math:`x_i = \\mu_{y_i} + \\varepsilon_i`, :math:`\\varepsilon_i \\sim
    \\mathcal N(0, I)`. ``feature_signal=0`` gives features that carry no cluster information.

    Parameters
    ----------
    n_nodes : int
        Number of nodes, at least 2.
    n_clusters : int
        Number of clusters, ``1 <= n_clusters <= n_nodes``; 1 requires ``homophily=1``.
    n_features : int
        Feature dimension, at least 1.
    avg_degree : float
        Target average degree (directed edge entries per node), ``0 < avg_degree <=
        n_nodes - 1``.
    homophily : float, default=0.8
        Probability that a sampled edge stays inside its source's cluster, in ``[0, 1]``.
    feature_signal : float, default=1.0
        Scale of the cluster means relative to the unit feature noise, ``>= 0``.
    random_state : int, optional
        Seed of the ``torch.Generator`` that draws everything; ``None`` seeds it from the
        operating system.

    Returns
    -------
    torch_geometric.data.Data
        ``x`` (n_nodes, n_features) float32, ``edge_index`` (2, n_edges) int64 sorted by
        (source, target) with both directions, no duplicates and no self-loops, ``y``
        (n_nodes,) int64 in ``0..n_clusters-1``, and ``num_nodes``. On the CPU.

    Raises
    ------
    TypeError
        If a count is not an integer or a rate is not a real number.
    ValueError
        If an argument is outside the range given above.

    Examples
    --------
    >>> data = make_sbm(1000, 4, 16, avg_degree=10, random_state=0)
    >>> data.x.shape, int(data.y.max()) + 1
    (torch.Size([1000, 16]), 4)
    """
    check_integer("n_nodes", n_nodes, minimum=2)
    check_integer("n_clusters", n_clusters, minimum=1)
    check_integer("n_features", n_features, minimum=1)
    if n_clusters > n_nodes:
        raise ValueError(f"n_clusters={n_clusters} exceeds n_nodes={n_nodes}")
    check_real("avg_degree", avg_degree)
    if not 0 < avg_degree <= n_nodes - 1:
        raise ValueError(
            f"avg_degree must be in (0, n_nodes - 1] = (0, {n_nodes - 1}], got {avg_degree}"
        )
    check_real("homophily", homophily)
    if not 0 <= homophily <= 1:
        raise ValueError(f"homophily must be in [0, 1], got {homophily}")
    if n_clusters == 1 and homophily < 1:
        raise ValueError(
            "with n_clusters=1 there is no other cluster to link to; use homophily=1.0"
        )
    check_real("feature_signal", feature_signal)
    if not 0 <= feature_signal <= _MAX_FEATURE_SIGNAL:
        raise ValueError(f"feature_signal must be in [0, {_MAX_FEATURE_SIGNAL:.0e}] (the "
                         f"features are float32), got {feature_signal}")
    if random_state is not None:  # a torch seed is at most 2**64 - 1
        check_integer("random_state", random_state, minimum=0, maximum=2**64 - 1)

    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(int(random_state))

    labels = (torch.arange(n_nodes) % n_clusters)[torch.randperm(n_nodes, generator=generator)]
    edge_index = _sample_edges(labels, n_clusters, avg_degree, homophily, generator)
    means = torch.randn(n_clusters, n_features, generator=generator) * feature_signal
    features = torch.randn(n_nodes, n_features, generator=generator)
    features += means[labels]
    return Data(x=features, edge_index=edge_index, y=labels, num_nodes=n_nodes)


def _sample_edges(
    labels: torch.Tensor,
    n_clusters: int,
    avg_degree: float,
    homophily: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Planted-partition edges in canonical form (both directions, sorted, unique)."""
    n_nodes = labels.numel()
    n_sources = round(n_nodes * avg_degree / 2)
    # Nodes grouped by cluster: cluster c occupies by_cluster[offsets[c] : offsets[c] + sizes[c]],
    # so "a uniform node of cluster c" is one uniform position inside that slice.
    by_cluster = labels.argsort(stable=True)
    sizes = torch.bincount(labels, minlength=n_clusters)
    offsets = torch.cumsum(sizes, 0) - sizes

    sources = torch.randint(n_nodes, (n_sources,), generator=generator)
    source_cluster = labels[sources]
    cluster_size = sizes[source_cluster]
    offset = offsets[source_cluster]
    uniform = torch.rand(n_sources, generator=generator, dtype=torch.float64)
    within = torch.rand(n_sources, generator=generator) < homophily
    # Inside: a position in the own slice. Outside: a position among the n - size nodes of
    # the other clusters, shifted past the own slice when it falls at or after its start.
    position = torch.where(
        within,
        offset + (uniform * cluster_size).long(),
        (uniform * (n_nodes - cluster_size)).long(),
    )
    del uniform
    position += (~within & (position >= offset)) * cluster_size
    targets = by_cluster[position]
    del position, within, offset, cluster_size, source_cluster

    keep = sources != targets
    sources, targets = sources[keep], targets[keep]
    # One int64 key per directed entry (n_nodes**2 < 2**63 for any graph that fits in
    # memory): sorting the keys sorts by (source, target) and puts repeats side by side.
    keys = torch.cat([sources * n_nodes + targets, targets * n_nodes + sources])
    del sources, targets, keep
    # numpy's in-place integer sort (SIMD on x86) is several times faster than torch.sort on
    # CPU at tens of millions of keys; it works on the tensor's own memory.
    keys.numpy().sort()
    keys = keys.unique_consecutive()
    return torch.stack([keys // n_nodes, keys % n_nodes])

