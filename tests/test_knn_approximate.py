import sys

import numpy as np
import pytest
import torch

from graphclust.data import knn, knn_approximate
from graphclust.data.knn import knn_graph, knn_indices
from graphclust.data.knn_approximate import drop_self, has_ann, recall_at_k

needs_ann = pytest.mark.skipif(not has_ann(), reason="needs the [ann] extra (faiss-cpu)")


def _clustered_points(n=3000, d=16, seed=0):
    """Points around 20 centres: the kind of data a kNN graph is built for."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d)) * 3
    return (centres[rng.integers(20, size=n)] + rng.normal(size=(n, d))).astype(np.float32)


@needs_ann
@pytest.mark.parametrize("metric", ["cosine", "euclidean", "heat"])
def test_approximate_recall_against_exact(metric):
    X = _clustered_points()
    exact = knn_indices(X, 10, metric, method="exact")
    approximate = knn_indices(X, 10, metric, method="approximate")
    assert approximate.shape == (3000, 10) and approximate.dtype == torch.long
    assert recall_at_k(approximate, exact) >= 0.95
    assert not (approximate == torch.arange(3000).unsqueeze(1)).any()  # never itself


@needs_ann
def test_approximate_is_deterministic_with_one_thread():
    X = _clustered_points(n=1500)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        first = knn_indices(X, 5, method="approximate")
        second = knn_indices(X, 5, method="approximate")
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(first, second)


@needs_ann
def test_approximate_graph_is_symmetric_and_loop_free():
    X = _clustered_points(n=800)
    edge_index = knn_graph(X, 6, method="approximate")
    pairs = set(map(tuple, edge_index.T.tolist()))
    assert all((j, i) in pairs for i, j in pairs)
    assert all(i != j for i, j in pairs)
    assert torch.bincount(edge_index[0], minlength=800).min() >= 6


@needs_ann
def test_auto_goes_approximate_above_the_threshold(monkeypatch):
    X = _clustered_points(n=500)
    calls = []
    original = knn.approximate_knn_indices
    monkeypatch.setattr(knn, "approximate_knn_indices",
                        lambda *args: calls.append(args) or original(*args))
    monkeypatch.setattr(knn, "APPROXIMATE_ABOVE", 499)
    knn_indices(X, 5)
    assert len(calls) == 1
    monkeypatch.setattr(knn, "APPROXIMATE_ABOVE", 500)
    knn_indices(X, 5)
    assert len(calls) == 1  # 500 points are not above 500: exact


def test_auto_without_the_extra_warns_and_stays_exact(monkeypatch):
    X = _clustered_points(n=300)
    monkeypatch.setattr(knn, "has_ann", lambda: False)
    monkeypatch.setattr(knn, "APPROXIMATE_ABOVE", 100)
    with pytest.warns(UserWarning, match=r"graphclust\[ann\]"):
        found = knn_indices(X, 4)
    assert torch.equal(found, knn_indices(X, 4, method="exact"))


def test_approximate_without_the_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)  # makes `import faiss` fail
    with pytest.raises(ImportError, match=r"graphclust\[ann\]"):
        knn_indices(_clustered_points(n=50), 3, method="approximate")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown method 'fast'"):
        knn_indices(_clustered_points(n=50), 3, method="fast")


def test_recall_at_k_counts_shared_neighbours():
    exact = torch.tensor([[1, 2, 3], [0, 2, 3]])
    assert recall_at_k(torch.tensor([[3, 2, 1], [0, 4, 5]]), exact) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="shapes differ"):
        recall_at_k(exact[:, :2], exact)


def test_drop_self_removes_the_query_or_the_farthest():
    found = np.array([[0, 5, 6], [7, 1, 8], [4, 3, 9]])
    assert drop_self(found, 2).tolist() == [[5, 6], [7, 8], [4, 3]]


def test_has_ann_does_not_import_faiss(monkeypatch):
    monkeypatch.delitem(sys.modules, "faiss", raising=False)
    knn_approximate.has_ann()
    assert "faiss" not in sys.modules
