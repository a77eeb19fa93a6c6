"""fit is all or nothing: an exception or Ctrl-C inside it leaves the estimator as it was
(issue 17, item 4)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import graphclust.estimators.kmeans_baseline as baseline_module
import graphclust.training.loop as loop_module
from graphclust import SCGCStar, SVDKMeans, load_dataset
from graphclust.io import load

_TINY = {"hidden_dims": (16,), "embedding_dim": 4, "max_epochs": 3, "pretrain_epochs": 1}


@pytest.fixture(scope="module")
def karate():
    return load_dataset("karate")


@pytest.fixture()
def other_data():
    return np.random.default_rng(0).random((40, 6)).astype(np.float32)


def _fail_on_call(monkeypatch, owner, name, error, after: int = 1):
    """Make ``owner.name`` raise ``error`` from its ``after``-th call on."""
    real = getattr(owner, name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) >= after:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)
    return calls


def _fitted_state(estimator) -> dict:
    return {key: value for key, value in vars(estimator).items() if key.endswith("_")}


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()],
                         ids=["exception", "ctrl-c"])
def test_interrupted_refit_keeps_the_previous_model(karate, other_data, monkeypatch, error,
                                                    tmp_path):
    model = SCGCStar(2, random_state=0, **_TINY).fit(karate)
    before = _fitted_state(model)
    predicted = model.predict(karate)
    calls = _fail_on_call(monkeypatch, loop_module, "optimizer_step", error, after=2)
    model.set_params(n_clusters=3)
    with pytest.raises(type(error)):
        model.fit(other_data)  # other data: 6 features instead of 34
    assert len(calls) == 2  # it failed in the middle of training
    after = _fitted_state(model)
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before)
    assert model.n_features_in_ == 34
    np.testing.assert_array_equal(model.predict(karate), predicted)
    # The parameters were changed by the caller: save refuses the mismatch instead of
    # writing a file that load would refuse.
    with pytest.raises(ValueError, match=r"does not match its parameters.*refit first"):
        model.save(tmp_path / "m.gc")
    model.set_params(n_clusters=2)
    model.save(tmp_path / "m.gc")
    np.testing.assert_array_equal(load(tmp_path / "m.gc").predict(karate), predicted)


def test_interrupted_first_fit_leaves_an_unfitted_estimator(other_data, monkeypatch):
    model = SVDKMeans(2, n_components=3, random_state=0)
    _fail_on_call(monkeypatch, baseline_module, "kmeans", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        model.fit(other_data)
    assert _fitted_state(model) == {}
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


def test_failed_validation_leaves_the_previous_model(karate):
    model = SVDKMeans(2, n_components=3, random_state=0).fit(karate)
    before = _fitted_state(model)
    model.set_params(n_clusters=100)  # more clusters than nodes
    with pytest.raises(ValueError, match="larger than the number of nodes"):
        model.fit(karate)
    assert _fitted_state(model) == before


def test_refit_replaces_every_fitted_attribute(karate, other_data):
    model = SVDKMeans(2, n_components=3, random_state=0).fit(karate)
    model.stale_ = "from an earlier fit"
    model.fit(other_data)
    assert not hasattr(model, "stale_")
    assert model.n_features_in_ == 6 and model.labels_.shape == (40,)
    assert model.get_params()["n_components"] == 3  # parameters untouched


def test_a_diverging_fit_stops_with_a_clear_error_and_keeps_the_previous_model(karate):
    """An Adam rate large enough to overflow the weights: the first loss that is not
    finite stops the fit (it used to finish with NaN embeddings, every node in one
    cluster), and the estimator keeps its previous fit."""
    from graphclust import SCGC

    model = SCGC(2, random_state=0, max_epochs=20).fit(karate)
    before = _fitted_state(model)
    model.set_params(lr=1e4)
    with pytest.raises(FloatingPointError, match="not finite.*Lower the learning rate"):
        model.fit(karate)
    after = _fitted_state(model)
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before)


def test_a_diverging_start_stops_the_fit_too(karate):
    """The check is in the optimizer step that every stage takes: an autoencoder start at
    an absurd rate stops there, before any joint-stage epoch."""
    from graphclust import SCGC

    with pytest.raises(FloatingPointError, match="not finite"):
        SCGC(2, random_state=0, pretrain="autoencoder", pretrain_lr=1e8, pretrain_epochs=20,
             max_epochs=20).fit(karate)


def test_kmeans_refuses_points_that_are_not_finite():
    import torch

    from graphclust.kmeans import kmeans

    points = torch.rand(10, 3)
    points[4, 1] = float("inf")
    with pytest.raises(ValueError, match="not finite"):
        kmeans(points, 2)


@pytest.mark.parametrize("shape, arguments, message", [
    ((20,), {}, r"an \(N, D\) tensor of points, got shape \(20,\)"),
    ((20, 3), {"n_init": 0}, "n_init must be an integer >= 1, got 0"),
    ((20, 3), {"max_iter": 0}, "max_iter must be an integer >= 1"),
    ((20, 3), {"max_samples": 1}, "max_samples must be an integer >= 2"),
    ((20, 3), {"chunk_size": 0}, "chunk_size must be an integer >= 1"),
    ((20, 3), {"tol": -1.0}, "tol must be >= 0"),
])
def test_kmeans_refuses_settings_it_cannot_run_with(shape, arguments, message):
    # n_init=0 had ended in "cannot unpack NoneType", max_samples=0 in torch's random_.
    import torch

    from graphclust.kmeans import kmeans

    with pytest.raises(ValueError, match=message):
        kmeans(torch.rand(*shape), 2, **arguments)
    kmeans(torch.rand(20, 3), 2, chunk_size=np.int64(8))  # a numpy count is a count


@pytest.mark.parametrize("offset", [0.0, 1e4, 3e4])
def test_kmeans_does_not_depend_on_an_offset_common_to_all_points(offset):
    # Two blobs 4 apart: at an offset of 1e4 the float32 expansion of the distances had
    # merged them (ACC 0.76) and reported an inertia below the optimum's.
    import torch

    from graphclust.kmeans import kmeans

    generator = torch.Generator().manual_seed(0)
    points = torch.randn(400, 2, generator=generator)
    points[200:, 0] += 4.0
    shifted = kmeans(points + offset, 2, generator=torch.Generator().manual_seed(1))
    plain = kmeans(points, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(shifted.labels, plain.labels)
    assert shifted.inertia == pytest.approx(plain.inertia, rel=1e-3)
    torch.testing.assert_close(shifted.centers - offset, plain.centers, atol=0.05, rtol=0)


@pytest.mark.parametrize("offset", [1e4, 3e4])
def test_predict_agrees_with_the_fit_whatever_an_offset_common_to_all_points(offset):
    # predict's Student-t distances used the same float32 expansion: at 1e4 it had
    # disagreed with the fit's own k-means labels on 86 of 200 points.
    import torch

    from graphclust import SVDKMeans

    generator = torch.Generator().manual_seed(0)
    points = torch.randn(200, 2, generator=generator)
    points[100:, 0] += 4.0
    shifted = points.numpy() + offset
    model = SVDKMeans(2, features="none", normalize=False, propagation_steps=0,
                      random_state=0).fit(shifted)
    np.testing.assert_array_equal(model.predict(shifted), model.labels_)


@pytest.mark.parametrize("n_clusters, error", [(True, TypeError), (2.5, TypeError)])
def test_kmeans_refuses_a_cluster_count_that_is_not_an_integer(n_clusters, error):
    # True had given one cluster; 2.5 a message about 'float' from deep inside.
    import torch

    from graphclust.kmeans import kmeans

    with pytest.raises(error, match="n_clusters must be an integer, got"):
        kmeans(torch.rand(20, 3), n_clusters)


def test_empty_clusters_warning_names_a_merge_and_the_users_line():
    """Four blobs of five points on a 10-nearest-neighbour graph: every node links across
    blobs and training merges clusters. The warning says that this can be the cause (it
    blamed the rows alone) and points at the caller, also through fit_predict."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning

    points, _ = make_blobs(n_samples=20, centers=4, n_features=8, cluster_std=0.5,
                           random_state=0)
    with pytest.warns(ConvergenceWarning, match="or because training merged clusters") \
            as caught:
        SCGCStar(n_clusters=4, random_state=0).fit_predict(points)
    assert {record.filename for record in caught
            if issubclass(record.category, ConvergenceWarning)} == {__file__}


@pytest.mark.parametrize(("model", "name", "value"), [
    (SVDKMeans(2, propagation_steps=2, random_state=0), "propagation_steps", 0),
    (SVDKMeans(2, random_state=0), "normalize", False),
    (SCGCStar(2, random_state=0, **_TINY), "input_hops", 1),
    (SCGCStar(2, random_state=0, **_TINY), "normalize_embedding", False),
    (SVDKMeans(2, propagation_steps=1, random_state=0), "n_neighbors", 3),
], ids=["svd-steps", "svd-normalize", "scgc-star-hops", "scgc-star-normalize", "knn"])
def test_a_parameter_inference_reads_changed_after_fit_is_refused(karate, tmp_path, model,
                                                                   name, value):
    # predict had read the changed value: other labels without a word (SVDKMeans), or a
    # torch shape error (input_hops); save had paired it with the old fit's tensors.
    data = karate if name != "n_neighbors" else karate.x.numpy()  # a kNN graph at predict
    model = model.fit(data)
    fitted_with = model.get_params()[name]
    predicted = model.predict(data)
    model.set_params(**{name: value})
    message = f"has {name}={value!r} \\(fitted with {fitted_with!r}\\): inference reads it"
    for call in (model.predict, model.transform, model.predict_proba):
        with pytest.raises(ValueError, match=message):
            call(data)
    with pytest.raises(ValueError, match=message):
        model.save(tmp_path / "m.gc")
    model.set_params(**{name: fitted_with, "n_jobs": 1, "verbose": True})  # these: free
    np.testing.assert_array_equal(model.predict(data), predicted)
    model.save(tmp_path / "m.gc")
    loaded = load(tmp_path / "m.gc")
    np.testing.assert_array_equal(loaded.predict(data), predicted)
    loaded.set_params(**{name: value})
    with pytest.raises(ValueError, match=message):
        loaded.predict(data)


def test_n_neighbors_is_free_where_predict_builds_no_knn_graph(karate):
    # A model fitted on given edges, or one that reads no edges, builds no kNN graph at
    # predict: n_neighbors changes nothing there, and had been refused as read.
    rows = karate.x.numpy()
    for model, data in ((SCGCStar(2, random_state=0, **_TINY), karate),
                        (SVDKMeans(2, random_state=0), rows)):
        predicted = model.fit(data).predict(data)
        model.set_params(n_neighbors=3)
        np.testing.assert_array_equal(model.predict(data), predicted)


def test_grow_estimator_refuses_a_model_whose_parameters_changed_since_the_fit(karate):
    from graphclust.extras.net2net import grow_estimator

    model = SCGCStar(2, random_state=0, **_TINY).fit(karate)
    model.set_params(normalize_embedding=False)
    # The copy had answered for parameters nobody fitted, and saved them.
    with pytest.raises(ValueError, match="has normalize_embedding=False"):
        grow_estimator(model, (32,))


def test_labels_too_many_to_score_are_refused_before_training():
    """graph.y scores history_'s epochs with ACC and F1, whose table is classes x clusters:
    node ids as y are refused before any training, not at the first epoch's scores."""
    import torch
    from torch_geometric.data import Data

    n = 4100
    ring = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
    graph = Data(x=torch.randn(n, 4), edge_index=torch.cat([ring, ring.flip(0)], 1),
                 y=torch.arange(n))
    estimator = SCGCStar(n_clusters=4097, **_TINY)
    with pytest.raises(ValueError, match="graph.y scores history_'s epochs, and accuracy"):
        estimator.fit(graph)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)
