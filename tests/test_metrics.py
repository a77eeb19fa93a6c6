import itertools

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, f1_score, normalized_mutual_info_score
from torch_geometric.data import Data

from graphclust.metrics import (
    MAX_MATCHING_CELLS,
    accuracy,
    ari,
    conductance,
    evaluate,
    f1,
    modularity,
    nmi,
)

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True)
EXTERNAL = {"acc": accuracy, "nmi": nmi, "ari": ari, "f1": f1}


@st.composite
def label_pairs(draw, max_classes=5, max_clusters=7, max_size=40):
    n = draw(st.integers(1, max_size))
    y_true = draw(st.lists(st.integers(0, max_classes - 1), min_size=n, max_size=n))
    y_pred = draw(st.lists(st.integers(0, max_clusters - 1), min_size=n, max_size=n))
    return np.array(y_true), np.array(y_pred)


@st.composite
def graphs_with_partition(draw):
    n = draw(st.integers(2, 14))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=40)
    )
    edges = sorted({(min(a, b), max(a, b)) for a, b in pairs if a != b})
    assume(edges)
    labels = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    one_way = torch.tensor(edges).T
    edge_index = torch.cat([one_way, one_way.flip(0)], dim=1)
    return graph, edge_index, labels


def _rename(labels: np.ndarray, seed: int) -> np.ndarray:
    """Same partition under a random injective renaming to arbitrary integers."""
    values = np.unique(labels)
    new_values = np.random.default_rng(seed).permutation(1000)[: values.size] - 500
    return new_values[np.searchsorted(values, labels)]


@SETTINGS
@given(label_pairs(), st.integers(0, 2**16))
def test_renaming_predicted_clusters_changes_nothing(pair, seed):
    y_true, y_pred = pair
    renamed = _rename(y_pred, seed)
    for name, score in EXTERNAL.items():
        assert score(y_true, renamed) == pytest.approx(score(y_true, y_pred)), name


@SETTINGS
@given(label_pairs(), st.integers(0, 2**16))
def test_perfect_clustering_scores_one(pair, seed):
    y_true, _ = pair
    scores = evaluate(y_true, _rename(y_true, seed))
    assert scores == pytest.approx({"acc": 1.0, "nmi": 1.0, "ari": 1.0, "f1": 1.0})


@SETTINGS
@given(label_pairs())
def test_bounds(pair):
    scores = evaluate(*pair)
    for name in ("acc", "nmi", "f1"):
        assert 0.0 <= scores[name] <= 1.0 + 1e-12, name
    assert -0.5 <= scores["ari"] <= 1.0 + 1e-12


def _optimal_matchings(y_true: np.ndarray, y_pred: np.ndarray):
    """Codes of both labelings and every cluster->class map sharing the most points.

    Brute force over permutations of a square table padded with empty rows/columns, which lets
    a permutation leave classes or clusters unmatched; unmatched clusters map to -1.
    """
    classes, true_codes = np.unique(y_true, return_inverse=True)
    clusters, pred_codes = np.unique(y_pred, return_inverse=True)
    size = max(classes.size, clusters.size)
    counts = np.zeros((size, size), dtype=int)
    np.add.at(counts, (true_codes, pred_codes), 1)
    totals = {
        perm: sum(counts[row, col] for row, col in enumerate(perm))
        for perm in itertools.permutations(range(size))
    }
    best = max(totals.values())
    maps = []
    for perm, total in totals.items():
        if total == best:
            cluster_to_class = np.full(clusters.size, -1)
            for row, col in enumerate(perm):
                if row < classes.size and col < clusters.size:
                    cluster_to_class[col] = row
            maps.append(cluster_to_class)
    return true_codes, pred_codes, classes.size, best, maps


@SETTINGS
@given(label_pairs(max_classes=4, max_clusters=5, max_size=25))
def test_accuracy_equals_best_assignment_by_brute_force(pair):
    y_true, y_pred = pair
    _, _, _, best, _ = _optimal_matchings(y_true, y_pred)
    assert accuracy(y_true, y_pred) == pytest.approx(best / y_true.size)


@SETTINGS
@given(label_pairs(max_classes=4, max_clusters=5, max_size=25))
def test_f1_is_sklearns_after_the_best_optimal_matching(pair):
    y_true, y_pred = pair
    true_codes, pred_codes, n_classes, _, maps = _optimal_matchings(y_true, y_pred)
    expected = max(
        f1_score(
            true_codes,
            cluster_to_class[pred_codes],
            labels=np.arange(n_classes),
            average="macro",
            zero_division=0,
        )
        for cluster_to_class in maps
    )
    assert f1(y_true, y_pred) == pytest.approx(expected)


def test_f1_does_not_depend_on_which_optimal_matching_is_found():
    # Three matchings share 2 points; F1 is highest when both singleton clusters are matched.
    y_true = [0, 1, 0, 1]
    assert f1(y_true, [0, 0, 1, 2]) == pytest.approx(f1(y_true, [2, 2, 1, 0]))
    assert f1(y_true, [0, 0, 1, 2]) == pytest.approx((2 / 3 + 2 / 3) / 2)


@SETTINGS
@given(label_pairs())
def test_nmi_and_ari_are_sklearns(pair):
    assert nmi(*pair) == pytest.approx(normalized_mutual_info_score(*pair))
    assert ari(*pair) == pytest.approx(adjusted_rand_score(*pair))


def test_more_clusters_than_classes():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [5, 5, 5, 7, 7, 9]
    # Cluster 9 stays unmatched: its point is wrong, class 1 keeps recall 2/3.
    assert accuracy(y_true, y_pred) == pytest.approx(5 / 6)
    assert f1(y_true, y_pred) == pytest.approx((1 + 2 * 2 / (3 + 2)) / 2)


def test_fewer_clusters_than_classes():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 0, 0, 0, 0, 0]
    assert accuracy(y_true, y_pred) == pytest.approx(2 / 6)
    assert f1(y_true, y_pred) == pytest.approx((2 * 2 / (2 + 6)) / 3)


def test_accepts_torch_and_lists():
    y_true = torch.tensor([0, 1, 1, 2])
    y_pred = [3, 4, 4, 3]
    assert evaluate(y_true, y_pred) == evaluate(y_true.numpy(), np.array(y_pred))


@SETTINGS
@given(graphs_with_partition())
def test_modularity_matches_networkx(case):
    graph, edge_index, labels = case
    communities = [set(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)]
    expected = nx.community.modularity(graph, communities)
    assert modularity(edge_index, labels) == pytest.approx(expected, abs=1e-12)
    assert modularity(edge_index.numpy(), labels, num_nodes=len(labels)) == pytest.approx(
        expected, abs=1e-12
    )


def test_graph_scores_take_a_data_as_evaluate_does():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    labels = [0, 0, 1, 1]
    graph = Data(edge_index=edge_index, num_nodes=4)
    assert modularity(graph, labels) == modularity(edge_index, labels)
    assert conductance(graph, labels) == conductance(edge_index, labels)
    with pytest.raises(ValueError, match="num_nodes=4 but labels has 5 entries"):
        modularity(graph, [*labels, 1])
    with pytest.raises(ValueError, match="num_nodes=4 but labels has 5 entries"):
        conductance(graph, [*labels, 1])


@SETTINGS
@given(graphs_with_partition())
def test_conductance_is_mean_of_networkx_conductances(case):
    graph, edge_index, labels = case
    total_volume = 2 * graph.number_of_edges()
    per_cluster = []
    for cluster in np.unique(labels):
        members = set(np.flatnonzero(labels == cluster).tolist())
        volume = nx.volume(graph, members)
        if 0 < volume < total_volume:
            per_cluster.append(nx.conductance(graph, members))
    result = conductance(edge_index, labels)
    if per_cluster:
        assert result == pytest.approx(np.mean(per_cluster))
        assert 0.0 <= result <= 1.0
    else:
        assert np.isnan(result)


def test_graph_scores_on_two_cliques():
    one_way = torch.tensor([[0, 0, 1, 3, 3, 4, 2], [1, 2, 2, 4, 5, 5, 3]])
    edge_index = torch.cat([one_way, one_way.flip(0)], dim=1)
    labels = [0, 0, 0, 1, 1, 1]
    # Each triangle has volume 7 of 14 and 3 internal edges of 7: Q = 2 * (3/7 - 1/4).
    assert modularity(edge_index, labels) == pytest.approx(2 * (3 / 7 - 1 / 4))
    assert conductance(edge_index, labels) == pytest.approx(1 / 7)
    assert np.isnan(conductance(edge_index, [0] * 6))
    assert modularity(edge_index, [0] * 6) == pytest.approx(0.0)

    graph = Data(edge_index=edge_index, num_nodes=6)
    scores = evaluate([1, 1, 1, 2, 2, 2], labels, graph)
    assert scores["modularity"] == pytest.approx(2 * (3 / 7 - 1 / 4))
    assert scores["conductance"] == pytest.approx(1 / 7)
    assert evaluate([1, 1, 1, 2, 2, 2], labels, edge_index) == scores


@pytest.mark.parametrize(
    ("y_true", "y_pred", "error", "message"),
    [
        ([0, 1, 1], [0, 1], ValueError, "same length, got 3 and 2"),
        ([], [], ValueError, "y_true must be non-empty"),
        ([[0, 1]], [[0, 1]], ValueError, "y_true must be 1-D"),
        ([0, 1], np.array([0.0, np.nan]), ValueError, "y_pred has NaN or infinite values"),
        ([0, 1], np.array([0j, 1j]), TypeError, "y_pred must hold integers, floats or class"),
        (np.array(["a", 1], dtype=object), [0, 1], TypeError, "y_true values cannot be sorted"),
    ],
)
def test_invalid_labels(y_true, y_pred, error, message):
    for score in EXTERNAL.values():
        with pytest.raises(error, match=message):
            score(y_true, y_pred)


def test_class_names_score_as_their_ranks():
    """``fit(y=...)`` takes class names; the scores take them too (no score depends on
    what a class is called)."""
    names = np.array(["cat", "dog", "dog", "eel", "cat", "eel"])
    predicted = [2, 0, 0, 1, 2, 0]
    ranks = np.unique(names, return_inverse=True)[1]
    assert evaluate(names, predicted) == evaluate(ranks, predicted)
    assert evaluate(names.tolist(), names) == evaluate(ranks, ranks)
    # Whole float labels (as np.loadtxt reads a label file) are class ids, as fit takes
    # them; other floats are scores, not labels.
    assert evaluate(ranks.astype(float) + 1, predicted) == evaluate(ranks, predicted)
    with pytest.raises(ValueError, match=r"y_pred holds 1 floats that are not whole "
                                         r"numbers \(first: 0\.37\)"):
        evaluate(ranks, [0.0, 1.0, 1.0, 2.0, 0.0, 0.37])


@pytest.mark.parametrize(
    ("edge_index", "kwargs", "message"),
    [
        (torch.tensor([[0, 1], [1, 2]]), {}, "both directions"),
        (torch.tensor([[0, 3], [3, 0]]), {}, r"node ids in \[0, 3\], outside \[0, 3\)"),
        (torch.zeros((2, 0), dtype=torch.long), {}, "no edges"),
        (torch.tensor([0, 1, 1, 0]), {}, r"shape \(2, E\)"),
        (torch.tensor([[0, 1], [1, 0]]), {"num_nodes": 4}, "num_nodes=4 but labels has 3"),
    ],
)
def test_invalid_graphs(edge_index, kwargs, message):
    with pytest.raises(ValueError, match=message):
        modularity(edge_index, [0, 1, 1], **kwargs)


def test_float_edge_index_is_rejected():
    with pytest.raises(TypeError, match="edge_index must hold integers"):
        conductance(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), [0, 1])


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
def test_float_label_tensors_of_any_precision_are_class_ids(dtype):
    # bfloat16 has no NumPy dtype: it had raised torch's "unsupported ScalarType".
    truth = torch.tensor([0, 0, 1, 1, 2, 2], dtype=dtype)
    assert evaluate(truth, [1, 1, 0, 0, 2, 2])["acc"] == 1.0


def test_a_list_mixing_class_names_and_numbers_is_refused():
    from graphclust.data import to_graph

    # NumPy had written the numbers as text: 1 and "1" one class, accuracy 3/4 for 1.
    y = [0, 1, "1", "a"]
    with pytest.raises(TypeError, match="y mixes strings with int values"):
        to_graph(np.zeros((4, 3)), y=y)
    with pytest.raises(TypeError, match="y_true mixes strings with int values"):
        accuracy(y, [0, 1, 2, 3])
    assert accuracy(["0", "1", "1", "a"], [0, 1, 1, 3]) == 1.0  # names alone still are


def test_matching_tables_too_large_are_refused_before_allocation():
    ids = np.arange(4097)  # 4,097 x 4,097 cells: just over the bound
    assert ids.size**2 > MAX_MATCHING_CELLS
    for score in (accuracy, f1):
        with pytest.raises(ValueError, match="4097 classes x 4097 clusters is over"):
            score(ids, ids[::-1])
    assert nmi(ids, ids[::-1]) == pytest.approx(1.0)
