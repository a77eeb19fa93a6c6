"""The graph-free input transforms, and the degree code that ``features="auto"`` reads as
ordinal (graphclust.data.transforms)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphclust import SCGCStar, SVDKMeans, load
from graphclust.data.synthetic import make_sbm
from graphclust.data.transforms import (
    FeatureTransform,
    in_different_units,
    is_degree_code,
    unit_spread,
)


@pytest.fixture(scope="module")
def airports():
    """A graph whose features are a one-hot code of the degree, the layout of the
    air-traffic graphs (PyG's ``OneHotDegree``)."""
    graph = make_sbm(120, 4, 8, avg_degree=6.0, random_state=0)
    degree = torch.bincount(graph.edge_index[0], minlength=graph.num_nodes)
    x = torch.nn.functional.one_hot(degree, int(degree.max()) + 1).to(torch.float32)
    return Data(x=x, edge_index=graph.edge_index, y=graph.y)


def test_tfidf_weighs_rare_columns_up_and_normalises_rows():
    x = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    out = FeatureTransform("tfidf").fit(x).transform(x)
    assert torch.allclose(out.norm(dim=1), torch.ones(3))
    assert out[0, 1] > out[0, 0]  # the column only one row has


def test_unit_spread_compares_the_columns_typical_non_zero_values():
    # Column means over non-zero entries: 2, (none), 300.
    assert unit_spread(torch.tensor([[1.0, 0, 200], [3, 0, 0], [0, 0, 400]])) == 150.0
    assert unit_spread(torch.tensor([[1.0], [2.0]])) == 1.0
    assert unit_spread(torch.zeros(3, 3)) == 1.0
    # A column faintly on in one row of 100 is 1% of the entries: it does not decide.
    x = torch.ones(100, 10)
    x[1:, 0], x[0, 0] = 0.0, 1e-4
    assert unit_spread(x) == 1.0


def _measurements(spread: float) -> torch.Tensor:
    """Dense positive columns whose typical values lie ``spread`` apart."""
    x = torch.rand(50, 3, generator=torch.Generator().manual_seed(0)) + 0.5
    return x * torch.tensor([1.0, 3.0, spread])


@pytest.mark.parametrize(("x", "kind"), [
    (_measurements(1000.0), "standardize"),  # e.g. a concentration beside a ratio
    (_measurements(3.0), "tfidf"),  # one scale: rows keep their direction
    # Sparse counts, a frequent word 60 times a document: as spread as measurements, but
    # occurrences, which the IDF weighs.
    ((torch.rand(50, 6, generator=torch.Generator().manual_seed(1)) < 0.3).float()
     * torch.tensor([1.0, 1, 1, 1, 1, 60]), "tfidf"),
    (torch.rand(50, 1, generator=torch.Generator().manual_seed(2)) + 1.0, "standardize"),
    # One column in large units among ten: the one TF-IDF's row scaling would follow.
    (torch.cat([_measurements(3.0).repeat(1, 4)[:, :10],
                _measurements(1000.0)[:, 2:]], 1), "standardize"),
    # Dense counts (words of long documents): spread, but whole numbers, which TF-IDF weighs.
    (torch.poisson(torch.tensor([2.0, 20, 300]).repeat(50, 1),
                   generator=torch.Generator().manual_seed(3)) + 1, "tfidf"),
    # Measurements beside a one-hot category: the indicators are no dense columns.
    (torch.cat([_measurements(1000.0), torch.eye(3)[torch.arange(50) % 3]], 1),
     "standardize"),
], ids=["units", "one unit", "counts", "one column", "one large column", "dense counts",
        "with categories"])
def test_auto_standardises_measurements_in_different_units(x, kind):
    assert FeatureTransform("auto").fit(x).kind_ == kind
    assert in_different_units(x) == (kind == "standardize" and x.shape[1] > 1)
    assert SVDKMeans(n_clusters=2, random_state=0).fit(x).transform_.kind_ == kind


@pytest.mark.parametrize("rows", [3, 7, 1000])
@pytest.mark.parametrize("value", [0.1, 0.3, 7.7])
def test_a_constant_column_is_kept_at_zero_whatever_its_rounding(rows, value):
    # One column of 0.1 in float32 has a std of its rounding, about 1e-8: its scale had
    # been about 1e8, so that a new row of 0.2 became 1.3e7.
    transform = FeatureTransform("auto").fit(torch.full((rows, 1), value))
    assert transform.kind_ == "standardize" and float(transform.scale_[0]) == 0.0
    assert transform.transform(torch.tensor([[0.2]])).item() == 0.0


def test_a_column_that_varies_little_about_a_large_mean_keeps_its_scale():
    # 1000 +- 0.005: a std of about 40 float32 steps of its mean, real variation (a
    # threshold growing with the rows had taken it for rounding and zeroed it).
    column = 1000 + 0.005 * torch.randn(2500, 1, generator=torch.Generator().manual_seed(0))
    transform = FeatureTransform("standardize").fit(column)
    assert float(transform.scale_[0]) == pytest.approx(1 / float(column.std(unbiased=False)))


def test_a_column_whose_spread_has_no_float32_inverse_is_refused():
    # A std of 1.8e-40 (float32's subnormal range) has the inverse inf: the column had
    # come out as +-inf, and every embedding from it as NaN.
    x = torch.rand(6, 3, generator=torch.Generator().manual_seed(0))
    x[:, 1] = torch.tensor([1e-40, 2e-40, 3e-40, 0.0, 1e-41, 5e-40])
    with pytest.raises(ValueError, match=r"feature columns \[1\] vary by a standard"):
        FeatureTransform("standardize").fit(x)
    scaled = FeatureTransform("standardize").fit(x * 1e30)
    assert bool(torch.isfinite(scaled.transform(x * 1e30)).all())


def test_ordinal_is_a_standardised_thermometer_code():
    codes = torch.tensor([0, 2, 1, 2])
    x = torch.eye(3)[codes]
    transform = FeatureTransform("ordinal").fit(x)
    thermometer = torch.tensor([[1.0, 0, 0], [1, 1, 1], [1, 1, 0], [1, 1, 1]])
    std = thermometer.std(0, unbiased=False)
    expected = torch.where(std > 0, (thermometer - thermometer.mean(0)) / std,
                           torch.zeros_like(thermometer))
    assert torch.allclose(transform.transform(x), expected)
    # Order survives: the code of 2 is nearer to 1 than to 0.
    out = transform.transform(torch.eye(3))
    assert (out[2] - out[1]).norm() < (out[2] - out[0]).norm()


def test_ordinal_refuses_negative_features():
    with pytest.raises(ValueError, match="non-negative"):
        FeatureTransform("ordinal").fit(torch.tensor([[1.0, -1.0], [0.0, 1.0]]))


def test_a_one_hot_code_of_the_degree_is_recognised(airports):
    degree = torch.bincount(airports.edge_index[0], minlength=airports.num_nodes)
    assert is_degree_code(airports.x, degree)
    assert FeatureTransform().fit(airports.x, degree).kind_ == "ordinal"
    assert FeatureTransform().fit_graph(airports).kind_ == "ordinal"  # the same degrees
    # Without the degree, or with the columns shuffled, it is a plain indicator matrix.
    assert FeatureTransform().fit(airports.x).kind_ == "tfidf"
    shuffled = airports.x[:, torch.randperm(airports.x.shape[1],
                                            generator=torch.Generator().manual_seed(0))]
    assert not is_degree_code(shuffled, degree)
    assert FeatureTransform().fit(shuffled, degree).kind_ == "tfidf"


@pytest.mark.parametrize("x", [torch.eye(4)[[0, 1, 1, 2]] * 2,  # not indicators
                               torch.tensor([[1.0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]),
                               torch.eye(4)[[0, 1, 0, 1]]],  # two columns used only
                         ids=["scaled", "two-hot row", "two columns"])
def test_other_matrices_are_not_degree_codes(x):
    assert not is_degree_code(x, torch.tensor([1, 2, 2, 3]))


def test_estimators_read_a_degree_code_as_ordinal_and_save_it(airports, tmp_path):
    tiny = {"hidden_dims": (16,), "embedding_dim": 4, "max_epochs": 2, "pretrain_epochs": 2}
    model = SCGCStar(n_clusters=4, random_state=0, **tiny).fit(airports)
    assert model.transform_.kind_ == "ordinal"
    model.save(tmp_path / "model.graphclust")
    loaded = load(tmp_path / "model.graphclust")
    assert loaded.transform_.kind_ == "ordinal"
    assert (loaded.predict(airports.x) == model.predict(airports.x)).all()
    baseline = SVDKMeans(n_clusters=4, random_state=0).fit(airports)
    assert baseline.transform_.kind_ == "ordinal"


@pytest.mark.parametrize("params", [{}, {"input_hops": 1}])
def test_a_fit_transforms_the_training_features_once(params, monkeypatch):
    """The homophily check and the encoder's input (and the held-out run's, with
    propagated inputs) share one pass of the transform over ``x``."""
    calls = []
    transform = FeatureTransform.transform
    monkeypatch.setattr(FeatureTransform, "transform",
                        lambda self, x: calls.append(x.shape) or transform(self, x))
    # Edges enough for the start's held-out run (karate has too few).
    graph = make_sbm(200, n_clusters=2, n_features=20, avg_degree=10, random_state=0)
    model = SCGCStar(n_clusters=2, random_state=0, max_epochs=2, pretrain_epochs=2, **params)
    model.fit(graph)
    assert any(entry.get("phase") == "start-length" for entry in model.history_)
    assert calls == [tuple(graph.x.shape)]


def test_the_knn_graph_of_a_plain_matrix_reads_the_transformed_features(monkeypatch):
    # A column in large units would choose every neighbour of the raw rows; the graph is
    # built where the model reads them, at fit (a new transform) and at predict (the
    # fitted one, so new rows meet the training rows' scale).
    import graphclust.estimators.base as base_module

    seen, search = [], base_module.knn_graph

    def recording(x, *args, **kwargs):
        seen.append(x.clone())
        return search(x, *args, **kwargs)

    x = _measurements(1000.0)
    monkeypatch.setattr(base_module, "knn_graph", recording)
    model = SVDKMeans(n_clusters=2, propagation_steps=1, random_state=0).fit(x.numpy())
    expected = FeatureTransform("standardize").fit(x).transform(x)
    torch.testing.assert_close(seen[0], expected)
    model.predict(x[:20].numpy())
    torch.testing.assert_close(seen[1], model.transform_.transform(x[:20]))


def test_a_plain_matrix_predicts_its_training_labels_on_the_graph_it_built():
    # One-hot rows whose column falls with the kNN graph's degree: read with that degree,
    # "auto" would take them for a degree code at fit and build predict's graph from
    # another transform than fit's.
    codes = np.concatenate([[c] * size for c, size in enumerate([2, 3, 4])])[::-1].copy()
    x = np.eye(3, dtype=np.float32)[codes]
    model = SVDKMeans(n_clusters=2, n_neighbors=5, propagation_steps=1,
                      random_state=0).fit(x)
    assert model.transform_.kind_ == "tfidf"
    np.testing.assert_array_equal(model.predict(x), model.labels_)


@pytest.mark.parametrize("kind", ["l2", "tfidf"])
@pytest.mark.parametrize("scale", [1e-38, 1e-15, 1e19, 1e30, 3e38])
def test_row_scaling_holds_at_any_scale_float32_holds(kind, scale):
    """A row's squared norm overflows in float32 from about 1e19 and falls under
    normalize's eps below about 1e-12: the rows must still come out of unit length, as
    at scale 1 (where the plain product is kept bit for bit)."""
    x = torch.rand(40, 6, generator=torch.Generator().manual_seed(0))
    x[3] = 0.0  # a zero row stays zero
    x[1:, 5] = 0.0  # a rare column: its IDF is above 1, so 3e38 times it overflows
    plain = FeatureTransform(kind).fit(x)
    expected = plain.transform(x)
    weights = plain.scale_ if kind == "tfidf" else 1.0
    assert torch.equal(expected, torch.nn.functional.normalize(x * weights, dim=1))
    scaled = FeatureTransform(kind).fit(x * scale).transform(x * scale)
    assert torch.allclose(scaled, expected, atol=1e-6)
    assert torch.equal(scaled[3], torch.zeros(6))


def test_a_row_holding_inf_is_left_as_normalize_leaves_it():
    """The input checks refuse inf before any transform; a row holding one directly is
    not rescaled (its peak is not finite), so it comes out as it did before."""
    x = torch.tensor([[float("inf"), 1.0, 2.0], [3.0, 4.0, 0.0]])
    out = FeatureTransform("l2").fit(x[1:]).transform(x)
    assert torch.equal(out.nan_to_num(-7.0),
                       torch.nn.functional.normalize(x, dim=1).nan_to_num(-7.0))


@pytest.mark.parametrize("kind", ["auto", "tfidf", "l2", "standardize", "ordinal", "none"])
def test_a_fitted_transform_refuses_another_column_count(kind):
    fitted = FeatureTransform(kind).fit(torch.rand(5, 3))
    assert fitted.n_features_in_ == 3
    # One column had broadcast to the three fitted ones without a word; under "l2" and
    # "none" (no column statistics) a matrix of any width had come back transformed.
    for columns in (1, 4):
        with pytest.raises(ValueError, match=f"fitted with 3 columns, got {columns}"):
            fitted.transform(torch.rand(2, columns))


@pytest.mark.parametrize(("kind", "known"), [("l2", None), ("none", None), ("tfidf", 3),
                                             ("standardize", 3)])
def test_a_transforms_state_keeps_its_width(kind, known):
    """state_dict carries the width; a state of a transform fitted before the width was
    recorded gives its column scale's width where it has one, else no width check."""
    state = FeatureTransform(kind).fit(torch.rand(5, 3)).state_dict()
    with pytest.raises(ValueError, match="fitted with 3 columns, got 4"):
        FeatureTransform.from_state_dict(state).transform(torch.rand(2, 4))
    older = FeatureTransform.from_state_dict({k: v for k, v in state.items()
                                              if k != "n_features_in"})
    assert older.n_features_in_ == known
    unpickled = FeatureTransform(kind).fit(torch.rand(5, 3))
    del unpickled.n_features_in_  # as unpickled from before the width was recorded
    if known is None:
        assert unpickled.transform(torch.rand(2, 4)).shape == (2, 4)
    else:
        with pytest.raises(ValueError, match="fitted with 3 columns, got 4"):
            unpickled.transform(torch.rand(2, 4))


@pytest.mark.parametrize("features", ["l2", "none"])
def test_a_loaded_estimators_transform_knows_its_width(tmp_path, features):
    """The width comes from the file's n_features_in_ (every file holds it), so files
    saved before the transform recorded one load with it too."""
    x = torch.rand(12, 3)
    model = SVDKMeans(n_clusters=2, random_state=0, features=features).fit(x)
    assert model.transform_.n_features_in_ == 3
    model.save(tmp_path / "model.graphclust")
    loaded = load(tmp_path / "model.graphclust")
    assert loaded.transform_.n_features_in_ == 3
    assert (loaded.predict(x) == model.predict(x)).all()
    with pytest.raises(ValueError, match="fitted with 3 columns, got 5"):
        loaded.transform_.transform(torch.rand(2, 5))


@pytest.mark.parametrize("kind", ["tfidf", "l2", "standardize", "ordinal", "none"])
def test_transform_refuses_a_tensor_that_is_not_2d(kind):
    # A 1-D row had come back 1-D under "standardize" and "none" but failed with an
    # IndexError under "tfidf" and "l2".
    fitted = FeatureTransform(kind).fit(torch.rand(5, 3))
    with pytest.raises(ValueError, match=r"2-D \(rows, features\) tensor, got shape \(3,\)"):
        fitted.transform(torch.rand(3))


@pytest.mark.parametrize("x, error, message", [
    (torch.tensor([[0.0, 1.0], [float("nan"), 2.0]]), ValueError, "all values finite"),
    (torch.zeros(0, 3), ValueError, "at least one row"),
    (torch.ones(3, 2, dtype=torch.int64), TypeError, "2-D floating-point tensor, got 2-D"),
    (torch.ones(3), TypeError, "2-D floating-point tensor, got 1-D"),
])
def test_fit_refuses_features_it_cannot_learn_from(x, error, message):
    # NaN had made a column's shift NaN (every later value NaN), no rows an all-NaN map.
    with pytest.raises(error, match=message):
        FeatureTransform("standardize").fit(x)


def test_fit_takes_sparse_features_and_checks_their_stored_values():
    dense = torch.tensor([[0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    for sparse in (dense.to_sparse(), dense.to_sparse_csr()):
        assert FeatureTransform("l2").fit(sparse).kind_ == "l2"
    with pytest.raises(ValueError, match="all values finite"):
        FeatureTransform("l2").fit(torch.tensor([[0.0, float("inf")]]).to_sparse_csr())


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_sparse_features_where_the_transform_reads_values_are_refused(layout):
    # They had failed inside torch (NotImplementedError, RuntimeError), "auto" (the
    # default) among them; "none" passes them through.
    dense = torch.tensor([[0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    sparse = dense.to_sparse() if layout == "coo" else dense.to_sparse_csr()
    for kind in ("auto", "tfidf", "standardize", "ordinal"):
        with pytest.raises(TypeError, match="learns column statistics from dense"):
            FeatureTransform(kind).fit(sparse)
    with pytest.raises(TypeError, match="'l2' applies to dense features"):
        FeatureTransform("l2").fit(sparse).transform(sparse)
    assert FeatureTransform("none").fit(sparse).transform(sparse) is sparse


def test_every_width_check_is_one_error_carrying_both_widths():
    """predict, transform, the graph a comparison reads and the fitted transform refuse
    another width with one ValueError subclass, whose widths the command line words in its
    own terms (it had measured the input and compared the widths a second time)."""
    from graphclust._checks import FeatureWidthError

    model = SVDKMeans(n_clusters=2, random_state=0).fit(torch.rand(12, 3))
    wide = torch.rand(12, 5)
    for call in (lambda: model.predict(wide), lambda: model.transform(wide),
                 lambda: model._graph(wide, fitted=True),
                 lambda: model.transform_.transform(wide)):
        with pytest.raises(FeatureWidthError) as caught:
            call()
        assert (caught.value.width, caught.value.expected) == (5, 3)
        assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError, match="X has 5 features, but SVDKMeans is expecting 3 "
                                         "features as input"):
        model.predict(wide)
