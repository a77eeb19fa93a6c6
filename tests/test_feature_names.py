"""Column names of a table passed to fit: recorded, checked at predict, saved with the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris

from graphclust import SCGCStar, SVDKMeans
from graphclust.estimators.checks import check_fitted_metadata
from graphclust.io import load

pd = pytest.importorskip("pandas")

_TINY = {"hidden_dims": (8,), "embedding_dim": 4, "max_epochs": 2, "pretrain_epochs": 1}


@pytest.fixture(scope="module")
def iris_frame():
    return load_iris(as_frame=True).data


@pytest.mark.parametrize("model", [SVDKMeans(3, random_state=0),
                                   SCGCStar(3, random_state=0, **_TINY)],
                         ids=["svd-kmeans", "scgc-star"])
def test_columns_in_another_order_are_refused_not_silently_mixed(iris_frame, model):
    """Reordered columns would feed each to another column's weights (95 of 150 iris
    labels changed): scikit-learn's rule, a ValueError."""
    model.fit(iris_frame)
    assert model.feature_names_in_.tolist() == list(iris_frame.columns)
    np.testing.assert_array_equal(model.predict(iris_frame), model.labels_)
    with pytest.raises(ValueError, match="column names differ.*first at column 0"):
        model.predict(iris_frame[iris_frame.columns[::-1]])
    with pytest.warns(UserWarning, match="does not have valid feature names") as caught:
        np.testing.assert_array_equal(model.predict(iris_frame.to_numpy()), model.labels_)
    assert {record.filename for record in caught} == {__file__}


def test_a_graph_given_to_a_model_fitted_on_names_warns(iris_frame):
    """A Data has no column names to check: as for an array, a warning says so."""
    from graphclust.data import knn_graph
    from graphclust.data.inputs import to_graph

    model = SVDKMeans(3, random_state=0).fit(iris_frame)
    x = iris_frame.to_numpy()
    graph = to_graph(x, knn_graph(torch.as_tensor(x, dtype=torch.float32), 5))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        model.predict(graph)


def test_a_model_fitted_without_names_warns_when_given_some(iris_frame):
    model = SVDKMeans(3, random_state=0).fit(iris_frame.to_numpy())
    assert not hasattr(model, "feature_names_in_")
    with pytest.warns(UserWarning, match="has feature names, but SVDKMeans was fitted without"):
        model.predict(iris_frame)


def test_names_are_saved_with_the_model(iris_frame, tmp_path):
    model = SVDKMeans(3, random_state=0).fit(iris_frame)
    model.save(tmp_path / "m.gc")
    loaded = load(tmp_path / "m.gc")
    assert loaded.feature_names_in_.tolist() == list(iris_frame.columns)
    with pytest.raises(ValueError, match="column names differ"):
        loaded.predict(iris_frame.iloc[:, [1, 0, 2, 3]])


def test_file_names_must_be_one_string_a_feature():
    metadata = {"n_features_in_": 2, "n_iter_": 1, "fit_time_": 0.1, "knn_graph_": False,
                "knn_rows": "transformed", "history_": [], "transform_kind": "l2"}
    check_fitted_metadata({**metadata, "feature_names_in_": ["a", "b"]})
    for names in (["a"], ["a", 3]):
        with pytest.raises(ValueError, match="feature_names_in_ must be n_features_in_ strings"):
            check_fitted_metadata({**metadata, "feature_names_in_": names})


def test_mixed_column_names_are_refused(iris_frame):
    frame = iris_frame.copy()
    frame.columns = ["a", "b", 3, 4]
    with pytest.raises(TypeError, match="column names must all be strings or none"):
        SVDKMeans(3).fit(frame)


def test_transform_output_is_named_for_set_output(iris_frame):
    model = SVDKMeans(3, random_state=0).fit(iris_frame)
    names = model.get_feature_names_out()
    assert names.tolist() == [f"svdkmeans{index}" for index in range(model.embedding_.shape[1])]
    embedded = model.set_output(transform="pandas").transform(iris_frame)
    assert list(embedded.columns) == names.tolist()
