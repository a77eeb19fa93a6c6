import pytest
import torch
from torch_geometric.data import Data

from graphclust.data.synthetic import make_sbm


def _intra_fraction(data: Data) -> float:
    source, target = data.edge_index
    return float((data.y[source] == data.y[target]).float().mean())


def test_output_is_canonical():
    data = make_sbm(3000, 5, 12, avg_degree=8, random_state=0)
    assert isinstance(data, Data)
    assert data.num_nodes == 3000
    assert data.x.shape == (3000, 12) and data.x.dtype == torch.float32
    assert data.y.shape == (3000,) and data.y.dtype == torch.long
    edge_index = data.edge_index
    assert edge_index.dtype == torch.long and edge_index.shape[0] == 2
    keys = edge_index[0] * 3000 + edge_index[1]
    assert bool((keys[1:] > keys[:-1]).all()), "sorted by (source, target), no duplicates"
    assert not bool((edge_index[0] == edge_index[1]).any())
    reversed_keys = (edge_index[1] * 3000 + edge_index[0]).sort().values
    assert torch.equal(reversed_keys, keys), "every edge is stored in both directions"
    assert int(edge_index.min()) >= 0 and int(edge_index.max()) < 3000


def test_clusters_are_balanced_and_shuffled():
    data = make_sbm(1003, 4, 2, avg_degree=3, random_state=1)
    sizes = torch.bincount(data.y, minlength=4)
    assert int(sizes.sum()) == 1003 and int(sizes.max() - sizes.min()) <= 1
    assert not torch.equal(data.y, torch.arange(1003) % 4)


@pytest.mark.parametrize("homophily", [0.0, 0.3, 0.8, 1.0])
def test_homophily_and_degree_are_realised(homophily):
    data = make_sbm(20000, 6, 2, avg_degree=10, homophily=homophily, random_state=2)
    assert _intra_fraction(data) == pytest.approx(homophily, abs=0.01)
    # Repeated edges are rare at this size, so the degree is close to its target.
    assert data.edge_index.shape[1] / 20000 == pytest.approx(10, rel=0.01)


def test_single_cluster_with_full_homophily():
    data = make_sbm(100, 1, 3, avg_degree=4, homophily=1.0, random_state=3)
    assert bool((data.y == 0).all()) and data.edge_index.shape[1] > 0


def test_feature_signal_separates_clusters():
    strong = make_sbm(4000, 4, 16, avg_degree=2, feature_signal=3.0, random_state=4)
    centroids = torch.stack([strong.x[strong.y == c].mean(0) for c in range(4)])
    nearest = torch.cdist(strong.x, centroids).argmin(1)
    assert float((nearest == strong.y).float().mean()) > 0.99

    pure_noise = make_sbm(4000, 4, 16, avg_degree=2, feature_signal=0.0, random_state=4)
    centroids = torch.stack([pure_noise.x[pure_noise.y == c].mean(0) for c in range(4)])
    # Means of 1,000 unit-variance points: about 0.03 per coordinate, no cluster offset.
    assert float(centroids.abs().max()) < 0.15
    assert float(pure_noise.x.std()) == pytest.approx(1.0, abs=0.02)


def test_seed_reproducible_and_seeds_differ():
    first = make_sbm(500, 3, 4, avg_degree=6, random_state=5)
    again = make_sbm(500, 3, 4, avg_degree=6, random_state=5)
    other = make_sbm(500, 3, 4, avg_degree=6, random_state=6)
    assert torch.equal(first.x, again.x)
    assert torch.equal(first.edge_index, again.edge_index)
    assert torch.equal(first.y, again.y)
    assert not torch.equal(first.y, other.y)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_nodes": 1}, ValueError, "n_nodes must be an integer >= 2"),
        ({"n_nodes": 10.0}, TypeError, "n_nodes must be an integer"),
        ({"n_clusters": 0}, ValueError, "n_clusters must be an integer >= 1"),
        ({"n_clusters": 101}, ValueError, "exceeds n_nodes"),
        ({"n_features": 0}, ValueError, "n_features must be an integer >= 1"),
        ({"avg_degree": 0}, ValueError, r"avg_degree must be in .* = \(0, 99\]"),
        ({"avg_degree": 100}, ValueError, r"avg_degree must be in .* = \(0, 99\]"),
        ({"avg_degree": float("nan")}, ValueError, "avg_degree must be finite"),
        ({"avg_degree": "5"}, TypeError, "avg_degree must be a real number"),
        ({"homophily": 1.5}, ValueError, r"homophily must be in \[0, 1\]"),
        ({"n_clusters": 1}, ValueError, "use homophily=1.0"),
        ({"feature_signal": -1.0}, ValueError, r"feature_signal must be in \[0, 1e\+37\]"),
        # Beyond float32's range the features had come out infinite.
        ({"feature_signal": 1e39}, ValueError, r"feature_signal must be in \[0, 1e\+37\]"),
        ({"random_state": -1}, ValueError, "random_state must be an integer in \\[0, "),
        ({"random_state": True}, TypeError, "random_state must be an integer"),
    ],
)
def test_invalid_arguments(kwargs, error, message):
    arguments = {"n_nodes": 100, "n_clusters": 3, "n_features": 2, "avg_degree": 4}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        make_sbm(**arguments)


def test_a_seed_past_torchs_range_is_refused_by_name():
    # It had failed in torch with "Overflow when unpacking long long".
    with pytest.raises(ValueError, match=r"random_state must be an integer in \[0, 1844"):
        make_sbm(10, 2, 1, avg_degree=2, random_state=2**70)


def test_principal_directions_of_constant_features_say_nothing_of_a_division():
    import warnings

    from graphclust.data.principal import principal_directions

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's explained-variance ratio had warned
        assert principal_directions(torch.zeros(6, 5), 2, 0).shape == (2, 5)
