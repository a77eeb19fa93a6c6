import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors

from graphclust.data.knn import knn_graph, knn_indices


def _sklearn_neighbour_sets(X: np.ndarray, k: int, metric: str) -> list[set[int]]:
    search = NearestNeighbors(n_neighbors=k + 1, metric=metric, algorithm="brute").fit(X)
    found = search.kneighbors(X, return_distance=False)
    return [set(row.tolist()) - {i} for i, row in enumerate(found)]


def _assert_no_near_ties(X: np.ndarray, k: int, metric: str) -> None:
    """Precondition of an exact comparison: a clear gap after every row's k-th neighbour."""
    X = X.astype(np.float64)
    if metric == "cosine":
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
        distance = 1 - X @ X.T
    else:
        distance = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(distance, np.inf)
    ordered = np.sort(distance, axis=1)
    assert ((ordered[:, k] - ordered[:, k - 1]) / ordered[:, k]).min() > 1e-5


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("block_size", [None, 37])
def test_matches_sklearn_without_ties(metric, dtype, block_size):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6)).astype(dtype)
    k = 5
    _assert_no_near_ties(X, k, metric)
    neighbours = knn_indices(X, k, metric, block_size=block_size).numpy()
    expected = _sklearn_neighbour_sets(X, k, metric)
    assert [set(row.tolist()) for row in neighbours] == expected


def test_neighbours_ordered_closest_first():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    neighbours = knn_indices(X, 6, "euclidean").numpy()
    distance = ((X[:, None, :] - X[None, neighbours.ravel(), :].reshape(60, 6, 4)) ** 2).sum(-1)
    assert (np.diff(distance, axis=1) >= 0).all()


def test_heat_has_euclidean_neighbours():
    X = torch.randn(80, 5, generator=torch.Generator().manual_seed(2))
    assert torch.equal(knn_indices(X, 4, "heat"), knn_indices(X, 4, "euclidean"))


def _exactly_scored_points(n: int, generator: torch.Generator) -> torch.Tensor:
    """Rows with four entries of +-1 (norm 2): cosine and euclidean scores are multiples of
    1/4 and 1, exact in float32 whatever the summation order, so every tie stays a tie."""
    X = torch.zeros(n, 12)
    for row in X:
        columns = torch.randperm(12, generator=generator)[:4]
        row[columns] = torch.randint(0, 2, (4,), generator=generator).float() * 2 - 1
    return X


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_block_size_does_not_change_result(metric):
    # Only exactly computed scores make the claim testable: with general floats, BLAS kernels
    # may round the same dot product differently for different tile shapes (seen on AMD EPYC).
    X = _exactly_scored_points(103, torch.Generator().manual_seed(3))
    # Duplicated rows add ties that must be broken the same way in every tiling.
    X[50:60] = X[0]
    reference = knn_indices(X, 8, metric, block_size=103)
    for block_size in (1, 3, 8, 9, 50):
        assert torch.equal(knn_indices(X, 8, metric, block_size=block_size), reference)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_duplicates_break_ties_by_lower_index_and_exclude_self(metric):
    X = np.array([[1.0, 0.0]] * 4 + [[0.0, 1.0]] * 3)
    neighbours = knn_indices(X, 2, metric, block_size=2).tolist()
    assert neighbours == [[1, 2], [0, 2], [0, 1], [0, 1], [5, 6], [4, 6], [4, 5]]


def test_zero_rows_under_cosine_have_similarity_zero():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 0.0], [1.0, 0.1]])
    neighbours = knn_indices(X, 2, "cosine").tolist()
    # Zero rows score 0 against everything: their neighbours are the lowest other indices.
    assert neighbours[0] == [1, 2]
    assert neighbours[3] == [0, 1]
    # Point 2 points away from 1 and 4 (similarity < 0), so the zero rows come first.
    assert neighbours[2] == [0, 3]


def test_cosine_survives_huge_values():
    X = np.array([[1e30, 0.0], [2e30, 1e28], [0.0, 3e30]], dtype=np.float32)
    assert knn_indices(X, 1, "cosine").tolist() == [[1], [0], [1]]


def test_symmetric_graph_is_canonical_union():
    X = torch.randn(90, 5, generator=torch.Generator().manual_seed(4))
    k = 4
    neighbours = knn_indices(X, k)
    edge_index = knn_graph(X, k)
    keys = edge_index[0] * 90 + edge_index[1]
    assert edge_index.dtype == torch.long
    assert bool((keys[1:] > keys[:-1]).all()), "sorted by (row, col) without duplicates"
    assert not bool((edge_index[0] == edge_index[1]).any())
    directed = {(i, j) for i in range(90) for j in neighbours[i].tolist()}
    expected = directed | {(j, i) for i, j in directed}
    assert set(map(tuple, edge_index.T.tolist())) == expected
    assert bool((torch.bincount(edge_index[0], minlength=90) >= k).all())


def test_directed_graph_has_k_edges_per_row():
    X = torch.randn(40, 3, generator=torch.Generator().manual_seed(5))
    edge_index = knn_graph(X, 3, "euclidean", symmetric=False)
    assert edge_index.shape == (2, 120)
    assert torch.equal(edge_index[0], torch.arange(40).repeat_interleave(3))
    assert torch.equal(edge_index[1].view(40, 3), knn_indices(X, 3, "euclidean").sort(1).values)


def test_symmetric_must_be_a_flag():
    # A string is truthy: symmetric="False" had returned the symmetric graph.
    X = torch.randn(8, 3, generator=torch.Generator().manual_seed(5))
    with pytest.raises(TypeError, match="symmetric must be True or False"):
        knn_graph(X, 2, symmetric="False")
    assert knn_graph(X, 2, symmetric=np.bool_(False)).shape == (2, 16)


def test_input_kinds_agree():
    X = np.random.default_rng(6).normal(size=(30, 4))
    from_numpy = knn_indices(X, 3)
    assert from_numpy.device.type == "cpu"
    assert torch.equal(knn_indices(torch.from_numpy(X), 3), from_numpy)
    assert torch.equal(knn_indices(X.tolist(), 3), from_numpy)
    assert knn_indices(np.arange(20).reshape(10, 2), 2, "euclidean").shape == (10, 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    X = torch.randn(500, 16, generator=torch.Generator().manual_seed(7))
    on_gpu = knn_indices(X.cuda(), 5)
    assert on_gpu.is_cuda
    assert torch.equal(on_gpu.cpu(), knn_indices(X, 5))
    assert torch.equal(knn_graph(X, 5, device="cuda").cpu(), knn_graph(X, 5))


@pytest.mark.parametrize("k", [0, -1, 10, 11])
def test_k_out_of_range(k):
    with pytest.raises(ValueError, match="1 <= k < n_samples = 10"):
        knn_indices(np.ones((10, 2)), k)


def test_k_must_be_integer():
    with pytest.raises(TypeError, match="k must be an integer"):
        knn_indices(np.ones((10, 2)), 2.0)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.ones(5), "must be 2-D"),
        (np.ones((2, 3, 4)), "must be 2-D"),
        (np.ones((5, 0)), "non-empty"),
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, np.inf]]), "1 NaN and 1 inf"),
    ],
)
def test_bad_feature_matrix(X, message):
    with pytest.raises(ValueError, match=message):
        knn_indices(X, 1)


def test_bad_feature_types():
    with pytest.raises(TypeError, match="dense"):
        knn_indices(sp.random(10, 4, density=0.5, format="csr"), 2)
    with pytest.raises(TypeError, match="dense"):
        knn_indices(torch.eye(4).to_sparse(), 2)
    with pytest.raises(TypeError, match="real numbers"):
        knn_indices(np.ones((4, 2), dtype=complex), 2)
    with pytest.raises(TypeError, match="real numbers"):
        knn_indices([["a", "b"], ["c", "d"]], 1)


def test_unknown_metric_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown metric 'manhattan'.*cosine, euclidean, heat"):
        knn_graph(np.ones((5, 2)), 2, "manhattan")


def test_bad_block_size():
    with pytest.raises(ValueError, match="block_size must be an integer >= 1"):
        knn_indices(np.ones((5, 2)), 2, block_size=0)
    with pytest.raises(TypeError, match="block_size must be an integer"):
        knn_indices(np.ones((5, 2)), 2, block_size=2.5)


def test_euclidean_overflow_is_reported():
    X = np.full((4, 2), 1e19, dtype=np.float32)
    with pytest.raises(ValueError, match="overflow"):
        knn_indices(X, 2, "euclidean")
    assert knn_indices(X.astype(np.float64), 2, "euclidean").shape == (4, 2)
