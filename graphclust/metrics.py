"""Clustering quality: agreement with ground truth, and structure of the clustered graph.

External scores compare predicted clusters with true classes and do not care how either is
numbered: ``accuracy`` and ``f1`` first match clusters to classes one-to-one with the
Hungarian algorithm, ``nmi`` and ``ari`` are invariant by construction. Graph scores
(``modularity``, ``conductance``) judge a partition of a graph and need no labels.

Labels may be numpy arrays, torch tensors (any device) or lists of integers with arbitrary
values; they are mapped to ``0..K-1`` in sorted order of the distinct values.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from graphclust._arrays import tensor_of
from graphclust._checks import check_edge_index, check_label_values

__all__ = ["accuracy", "ari", "conductance", "evaluate", "f1", "modularity", "nmi"]


def accuracy(y_true, y_pred) -> float:
    """Clustering accuracy under the best one-to-one matching of clusters to classes.

    .. math:: \\mathrm{ACC} = \\max_{m} \\frac{1}{n} \\sum_i [\\, m(\\hat y_i) = y_i \\,]

    where ``m`` ranges over injective partial maps from predicted clusters to classes, found
    with :func:`scipy.optimize.linear_sum_assignment` on the contingency table (ties between
    optimal matchings are broken as described in :func:`f1`). When there are more clusters
    than classes the surplus clusters stay unmatched and all their points count as errors;
    with fewer clusters, the unmatched classes are errors. No cluster is merged or relabelled
    beyond the matching.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True classes and predicted clusters: integers or class names (strings).

    Returns
    -------
    float
        In ``[0, 1]``; 1 exactly when the two partitions are equal up to renaming.

    Raises
    ------
    ValueError
        When classes times clusters exceeds ``MAX_MATCHING_CELLS`` (4,096 x 4,096), before
        the table is made (as for :func:`f1`).
    """
    contingency = _contingency(y_true, y_pred)
    classes, clusters = _hungarian(contingency)
    return float(contingency[classes, clusters].sum() / contingency.sum())


def f1(y_true, y_pred) -> float:
    """Macro F1 over the true classes after the Hungarian matching of :func:`accuracy`.

    Among the matchings with the maximal number of correctly matched points, the one with the
    highest macro F1 is used, so the score does not depend on how clusters are numbered.

    Class ``c`` matched to cluster ``j`` scores :math:`F_1 = 2\\,n_{cj} / (n_c + n_j)`
    (harmonic mean of precision :math:`n_{cj}/n_j` and recall :math:`n_{cj}/n_c`); a class
    left without a cluster scores 0. Points in unmatched clusters are predicted as no class,
    so they lower the recall of their true classes. Equals
    ``sklearn.metrics.f1_score(y_true, matched, labels=classes, average="macro")`` where
    ``matched`` renames each matched cluster to its class.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True classes and predicted clusters: integers or class names (strings).

    Returns
    -------
    float
        In ``[0, 1]``.
    """
    contingency = _contingency(y_true, y_pred)
    classes, clusters = _hungarian(contingency)
    class_sizes = contingency.sum(axis=1)
    cluster_sizes = contingency.sum(axis=0)
    per_class = np.zeros(contingency.shape[0])
    per_class[classes] = (
        2 * contingency[classes, clusters] / (class_sizes[classes] + cluster_sizes[clusters])
    )
    return float(per_class.mean())


def nmi(y_true, y_pred) -> float:
    """Normalised mutual information, arithmetic normalisation.

    .. math:: \\mathrm{NMI} = \\frac{I(Y; \\hat Y)}{(H(Y) + H(\\hat Y)) / 2}

    Same value as :func:`sklearn.metrics.normalized_mutual_info_score` (its default), which
    computes it after the input checks here. In ``[0, 1]``.
    """
    true_codes, pred_codes = _label_pair(y_true, y_pred)
    return float(normalized_mutual_info_score(true_codes, pred_codes, average_method="arithmetic"))


def ari(y_true, y_pred) -> float:
    """Adjusted Rand index (Hubert and Arabie), via :func:`sklearn.metrics.adjusted_rand_score`.

    The Rand index corrected for chance: 0 in expectation for random labels, 1 for equal
    partitions, and bounded below by -0.5.
    """
    true_codes, pred_codes = _label_pair(y_true, y_pred)
    return float(adjusted_rand_score(true_codes, pred_codes))


def modularity(edge_index, labels, num_nodes: int | None = None) -> float:
    """Newman modularity of a partition of an undirected graph.

    With :math:`A_{ij}` the number of entries ``(i, j)`` in ``edge_index``, degrees
    :math:`k_i = \\sum_j A_{ij}` and :math:`2m = \\sum_{ij} A_{ij}` (the number of entries),

    .. math:: Q = \\frac{1}{2m} \\sum_{ij} \\Big(A_{ij} - \\frac{k_i k_j}{2m}\\Big)
              \\delta(c_i, c_j)
              = \\sum_c \\Big(\\frac{e_c}{2m} - \\Big(\\frac{v_c}{2m}\\Big)^2\\Big)

    with :math:`e_c` the entries inside cluster ``c`` and :math:`v_c` its total degree. For a
    graph without self-loops this is :func:`networkx.community.modularity`; a self-loop listed
    once adds 1 to :math:`A_{ii}` and to the degree.

    Parameters
    ----------
    edge_index : array-like of shape (2, n_edges), or a graph with ``edge_index``
        Undirected graph with both directions of every edge (PyG convention), integer node ids
        in ``[0, n_nodes)``; a ``torch_geometric.data.Data`` gives its ``edge_index``.
    labels : array-like of shape (n_nodes,)
        Cluster of every node, integers.
    num_nodes : int, optional
        Number of nodes; if given it must equal ``len(labels)``.

    Returns
    -------
    float
        In ``[-1/2, 1)``; 0 for a single cluster.

    Raises
    ------
    ValueError
        If the graph has no edges, lists an edge in one direction only (in- and out-degrees
        differ), has node ids out of range, or the sizes disagree.
    """
    sources, targets, codes, n_clusters = _graph_and_partition(edge_index, labels, num_nodes)
    n_entries = sources.numel()
    internal, volume = _cluster_edge_totals(sources, targets, codes, n_clusters)
    return float((internal / n_entries - (volume / n_entries) ** 2).sum())


def conductance(edge_index, labels) -> float:
    """Mean conductance of the clusters of a partition of an undirected graph.

    .. math:: \\phi(c) = \\frac{\\mathrm{cut}(c)}{\\min(\\mathrm{vol}(c), 2m - \\mathrm{vol}(c))}

    where :math:`\\mathrm{cut}(c)` counts edges with exactly one end in ``c`` and
    :math:`\\mathrm{vol}(c)` is the total degree of ``c`` (conventions as in
    :func:`modularity`). Lower is better. The result is the unweighted mean of
    :math:`\\phi(c)` over clusters where the denominator is positive; a cluster without
    edges, or one holding every edge, has no defined conductance and is left out. When no
    cluster is left (for instance a single cluster) the result is NaN.

    Parameters
    ----------
    edge_index : array-like of shape (2, n_edges), or a graph with ``edge_index``
        Undirected graph with both directions of every edge (a ``Data`` gives its own).
    labels : array-like of shape (n_nodes,)
        Cluster of every node, integers.

    Returns
    -------
    float
        In ``[0, 1]``, or NaN as described above.
    """
    sources, targets, codes, n_clusters = _graph_and_partition(edge_index, labels, None)
    internal, volume = _cluster_edge_totals(sources, targets, codes, n_clusters)
    cut = volume - internal
    denominator = torch.minimum(volume, sources.numel() - volume)
    defined = denominator > 0
    if not bool(defined.any()):
        return float("nan")
    return float((cut[defined] / denominator[defined]).mean())


def evaluate(y_true, y_pred, graph=None) -> dict[str, float]:
    """All scores of a clustering in one dictionary.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True classes and predicted clusters: integers or class names (strings).
    graph : torch_geometric.data.Data or array-like of shape (2, n_edges), optional
        The graph that was clustered; adds the graph scores of ``y_pred``.

    Returns
    -------
    dict
        ``acc``, ``nmi``, ``ari``, ``f1`` (see :func:`accuracy`, :func:`nmi`, :func:`ari`,
        :func:`f1`), plus ``modularity`` and ``conductance`` when ``graph`` is given.
    """
    scores = {
        "acc": accuracy(y_true, y_pred),
        "nmi": nmi(y_true, y_pred),
        "ari": ari(y_true, y_pred),
        "f1": f1(y_true, y_pred),
    }
    if graph is not None:  # a Data or an edge_index: the graph scores read either
        scores["modularity"] = modularity(graph, y_pred)
        scores["conductance"] = conductance(graph, y_pred)
    return scores


def _as_label_array(name: str, labels) -> np.ndarray:
    """1-D, non-empty integer numpy array of labels; class names (strings or other
    sortable objects) become their ranks, which no score here tells from the names."""
    if isinstance(labels, torch.Tensor):
        # float64 holds every float dtype's values, bfloat16's too, which NumPy lacks.
        labels = labels.detach().cpu()
        labels = (labels.double() if labels.is_floating_point() else labels).numpy()
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must be non-empty")
    check_label_values(name, array, given=labels)
    if array.dtype.kind in "USO":
        try:
            return np.unique(array, return_inverse=True)[1].reshape(-1)
        except TypeError as err:
            raise TypeError(f"{name} values cannot be sorted into classes: {err}") from err
    if array.dtype.kind == "f":
        # Whole floats are class ids, as fit reads them (np.loadtxt gives labels as floats).
        return np.unique(array, return_inverse=True)[1].reshape(-1)
    if array.dtype.kind not in "biu":
        raise TypeError(
            f"{name} must hold integers, floats or class names, got dtype {array.dtype}"
        )
    return array


def _codes(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels renamed to 0..K-1 in sorted order of their values, and K."""
    values, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(-1), len(values)


def _label_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    true_labels = _as_label_array("y_true", y_true)
    pred_labels = _as_label_array("y_pred", y_pred)
    if true_labels.shape != pred_labels.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {true_labels.size} and "
            f"{pred_labels.size}"
        )
    return true_labels, pred_labels


# Cells of the dense (classes x clusters) tables that ACC and F1 match on (three tables of
# 8 bytes a cell, and a Hungarian solve cubic in their side): 4,096 x 4,096.
MAX_MATCHING_CELLS = 2**24


def check_matching_size(n_classes: int, n_clusters: int) -> None:
    """Refuse classes x clusters over :data:`MAX_MATCHING_CELLS` before any table is made:
    node ids given as labels by mistake had asked for tables of GiBs."""
    if n_classes * n_clusters > MAX_MATCHING_CELLS:
        raise ValueError(
            f"accuracy and f1 match classes to clusters on a dense table: {n_classes} "
            f"classes x {n_clusters} clusters is over {MAX_MATCHING_CELLS:,} cells (were "
            "ids given as labels?); nmi and ari take any number")


def _contingency(y_true, y_pred) -> np.ndarray:
    """(n_classes, n_clusters) table of co-occurrence counts."""
    true_labels, pred_labels = _label_pair(y_true, y_pred)
    true_codes, n_classes = _codes(true_labels)
    pred_codes, n_clusters = _codes(pred_labels)
    check_matching_size(n_classes, n_clusters)
    flat = np.bincount(true_codes * n_clusters + pred_codes, minlength=n_classes * n_clusters)
    return flat.reshape(n_classes, n_clusters)


def _hungarian(contingency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matched (class, cluster) pairs: most shared points, then highest macro F1.

    Several matchings can share the maximal number of points, and their F1 differ; picking
    whichever the solver meets first would make ``f1`` depend on how clusters are numbered.
    The weight ``(K + 1) * n_cj + F1_cj`` breaks the tie: a matching has at most ``K``
    pairs with ``F1_cj <= 1``, so the F1 term can never outweigh one more shared point.
    """
    class_sizes = contingency.sum(axis=1, keepdims=True)
    cluster_sizes = contingency.sum(axis=0, keepdims=True)
    pair_f1 = 2 * contingency / (class_sizes + cluster_sizes)
    weight = (contingency.shape[0] + 1) * contingency + pair_f1
    return linear_sum_assignment(weight, maximize=True)


def _graph_and_partition(
    edge_index, labels, num_nodes: int | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Validated sources, targets, cluster codes (all on the edges' device) and cluster count."""
    if hasattr(edge_index, "edge_index"):  # a Data: its edges and, as evaluate, its size
        num_nodes = getattr(edge_index, "num_nodes", None) if num_nodes is None \
            else num_nodes
        edge_index = edge_index.edge_index
    edges = edge_index if isinstance(edge_index, torch.Tensor) else tensor_of(
        np.asarray(edge_index))
    codes, n_clusters = _codes(_as_label_array("labels", labels))
    n_nodes = codes.size
    if num_nodes is not None and num_nodes != n_nodes:
        raise ValueError(f"num_nodes={num_nodes} but labels has {n_nodes} entries")
    check_edge_index(edges, n_nodes)  # the labels give the node count
    if edges.shape[1] == 0:
        raise ValueError("the graph has no edges; graph scores are undefined")
    edges = edges.long()
    sources, targets = edges[0], edges[1]
    # Both graph scores only see degrees and within-cluster entry counts, which are the same
    # for A and A^T exactly when every node's in-degree equals its out-degree.
    if not torch.equal(
        torch.bincount(sources, minlength=n_nodes), torch.bincount(targets, minlength=n_nodes)
    ):
        raise ValueError(
            "edge_index must list both directions of every undirected edge (in- and "
            "out-degrees differ); add the reverse edges, e.g. with "
            "torch_geometric.utils.to_undirected"
        )
    return sources, targets, torch.as_tensor(codes, device=edges.device), n_clusters


def _cluster_edge_totals(
    sources: torch.Tensor, targets: torch.Tensor, codes: torch.Tensor, n_clusters: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per cluster: edge entries with both ends inside, and total degree (float64)."""
    source_clusters = codes[sources]
    inside = source_clusters == codes[targets]
    internal = torch.bincount(source_clusters[inside], minlength=n_clusters)
    volume = torch.bincount(source_clusters, minlength=n_clusters)
    return internal.double(), volume.double()
