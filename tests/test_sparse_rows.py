"""Sparse CSR feature rows (graphclust.nn.sparse_rows): the row helpers, the rule, and fits
that give the dense path's embeddings."""

import numpy as np
import pytest
import torch

from graphclust import SCGC, MPNNVNClusterer, SCGCStar
from graphclust.data import make_sbm
from graphclust.estimators import contrastive as contrastive_estimator
from graphclust.extras.mup import MuPMLP
from graphclust.nn import MLP, sparse_rows

# The tests convert with torch's own to_sparse_csr, which says CSR support is in beta.
pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")

FAST = {"max_epochs": 6, "pretrain_epochs": 10, "hidden_dims": (32,), "embedding_dim": 8,
        "tol": 0.0}


def _sparse_features(n_rows: int, n_columns: int, density: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n_rows, n_columns, generator=generator)
    x[torch.rand(n_rows, n_columns, generator=generator) >= density] = 0.0
    return x


@pytest.fixture(scope="module")
def sparse_sbm():
    """An SBM whose features are non-negative and 5% non-zero (TF-IDF keeps them so)."""
    graph = make_sbm(240, 3, 120, avg_degree=8, homophily=0.9, feature_signal=2.0,
                     random_state=0)
    keep = _sparse_features(240, 120, 0.05, seed=1) > 0
    graph.x = torch.where(keep, graph.x.relu() + 0.1, torch.zeros(()))
    return graph


@pytest.fixture
def layouts(monkeypatch):
    """The layouts the estimators' calls of sparse_rows_if_faster returned."""
    seen = []

    def recording(encoder, x):
        result = sparse_rows.sparse_rows_if_faster(encoder, x)
        seen.append(result.layout)
        return result

    monkeypatch.setattr(contrastive_estimator, "sparse_rows_if_faster", recording)
    return seen


def test_select_rows_equals_dense_indexing():
    x = _sparse_features(30, 12, 0.2, seed=0)
    x[[3, 7]] = 0.0  # empty rows
    csr = x.to_sparse_csr()
    for index in ([5, 3, 3, 29, 0, 7], [], list(range(30))[::-1]):
        index = torch.tensor(index, dtype=torch.long)
        selected = sparse_rows.select_rows(csr, index)
        assert sparse_rows.is_sparse_rows(selected)
        torch.testing.assert_close(selected.to_dense(), x[index], rtol=0, atol=0)
        torch.testing.assert_close(sparse_rows.dense_rows(csr, index), x[index])
    torch.testing.assert_close(sparse_rows.dense_rows(csr), x)
    chunks = sparse_rows.row_chunks(csr, 7)
    assert [len(chunk.crow_indices()) - 1 for chunk in chunks] == [7, 7, 7, 7, 2]
    torch.testing.assert_close(torch.cat([chunk.to_dense() for chunk in chunks]), x)


def test_rule_reads_the_share_of_non_zeros(monkeypatch):
    sparse, dense = _sparse_features(50, 40, 0.02, seed=0), _sparse_features(50, 40, 0.5, 0)
    assert sparse_rows.faster_as_sparse_rows(sparse)
    assert not sparse_rows.faster_as_sparse_rows(dense)
    monkeypatch.setattr(sparse_rows, "SPARSE_ROWS_DENSITY", 0.0)  # forced off
    assert not sparse_rows.faster_as_sparse_rows(sparse)


def test_only_a_plain_mlp_takes_sparse_rows():
    x = _sparse_features(50, 40, 0.02, seed=0)
    mlp = MLP([40, 16, 4])
    assert sparse_rows.is_sparse_rows(sparse_rows.sparse_rows_if_faster(mlp, x))
    replaced = MLP([40, 16, 4])
    replaced.layers[0] = torch.nn.Sequential(torch.nn.Linear(40, 16))
    for encoder in (MuPMLP([40, 16, 4], base_width=16), replaced, torch.nn.Linear(40, 4)):
        assert sparse_rows.sparse_rows_if_faster(encoder, x) is x


def test_mlp_on_csr_rows_matches_dense_with_gradients():
    x = _sparse_features(64, 40, 0.05, seed=0)
    torch.manual_seed(0)
    mlp = MLP([40, 16, 4])
    grads = []
    for rows in (x, x.to_sparse_csr()):
        mlp.zero_grad()
        out = mlp(rows)
        out.square().sum().backward()
        grads.append((out.detach(), [p.grad.clone() for p in mlp.parameters()]))
    torch.testing.assert_close(grads[0][0], grads[1][0])
    for dense_grad, sparse_grad in zip(grads[0][1], grads[1][1], strict=True):
        torch.testing.assert_close(dense_grad, sparse_grad)


@pytest.mark.parametrize("with_bias", [True, False])
def test_sparse_rows_linear_matches_torch_with_gradients(with_bias):
    x = _sparse_features(50, 30, 0.1, seed=1)
    torch.manual_seed(1)
    weight = torch.randn(7, 30, requires_grad=True)
    bias = torch.randn(7, requires_grad=True) if with_bias else None
    results = []
    for rows, linear in ((x, torch.nn.functional.linear),
                         (x.to_sparse_csr(), sparse_rows.sparse_rows_linear)):
        out = linear(rows, weight, bias)
        out.square().sum().backward()
        results.append([out.detach(), weight.grad.clone(),
                        None if bias is None else bias.grad.clone()])
        weight.grad = None
        if bias is not None:
            bias.grad = None
    for dense, sparse in zip(*results, strict=True):
        if dense is None:
            assert sparse is None
        else:
            torch.testing.assert_close(dense, sparse)


def test_sparse_rows_linear_supports_double_backward():
    """Under create_graph (a gradient penalty) the weight's gradient is differentiable:
    the penalty's gradient equals torch's on dense rows."""
    x = _sparse_features(12, 6, 0.4, seed=4).double()
    torch.manual_seed(4)
    weight = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    results = []
    for rows, linear in ((x, torch.nn.functional.linear),
                         (x.to_sparse_csr(), sparse_rows.sparse_rows_linear)):
        out = linear(rows, weight, None).tanh().sum()
        (first,) = torch.autograd.grad(out, weight, create_graph=True)
        (penalty,) = torch.autograd.grad(first.square().sum(), weight)
        results.append(penalty)
    torch.testing.assert_close(*results)


class _ScaledLinear(torch.nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


def _patch_forward(layer, calls):
    """Set ``forward`` on the instance (as adapter tools do); returns what removes it."""
    plain = layer.forward
    layer.forward = lambda x: calls.append("forward") or 2 * plain(x)
    return lambda: delattr(layer, "forward")


def _hook(kind):
    """A function that sets hook ``kind`` on a layer, recording into ``calls``, and returns
    what removes it."""
    def set_hook(layer, calls):
        record = lambda *args: calls.append(kind)  # noqa: E731
        if kind == "forward pre-hook":
            return layer.register_forward_pre_hook(record).remove
        if kind == "forward hook":
            return layer.register_forward_hook(record).remove
        if kind == "backward hook":
            return layer.register_full_backward_hook(record).remove
        return torch.nn.modules.module.register_module_forward_hook(record).remove
    return set_hook


@pytest.mark.parametrize("change", [
    _hook("forward pre-hook"), _hook("forward hook"), _hook("backward hook"),
    _hook("global forward hook"), _patch_forward], ids=[
    "forward-pre-hook", "forward-hook", "backward-hook", "global-forward-hook",
    "patched-forward"])
def test_mlp_on_csr_rows_calls_a_hooked_or_patched_first_layer(change):
    """A first layer that runs more than F.linear when called (hooks, a forward set on the
    instance) is called as a module on CSR rows, as on dense rows."""
    torch.manual_seed(0)
    x = _sparse_features(5, 10, 0.3, seed=5)
    results = []
    for rows in (x, x.to_sparse_csr()):
        calls = []
        torch.manual_seed(1)
        mlp = MLP([10, 8, 3])
        remove = change(mlp.layers[0], calls)
        try:
            mlp(rows).sum().backward()
        finally:
            remove()
        results.append((calls, mlp.layers[0].weight.grad))
    (dense_calls, dense_grad), (sparse_calls, sparse_grad) = results
    assert sparse_calls == dense_calls and dense_calls
    torch.testing.assert_close(sparse_grad, dense_grad)


def test_mlp_on_csr_rows_calls_a_linear_subclass_as_a_module():
    torch.manual_seed(0)
    mlp = MLP([10, 8, 3])
    x = _sparse_features(5, 10, 0.3, seed=5)
    scaled = _ScaledLinear(10, 8)
    scaled.load_state_dict(mlp.layers[0].state_dict())
    mlp.layers[0] = scaled
    torch.testing.assert_close(mlp(x.to_sparse_csr()), mlp(x))


def test_sparse_rows_linear_with_a_frozen_weight_trains_the_bias_only():
    x = _sparse_features(20, 10, 0.2, seed=2)
    weight = torch.randn(4, 10)
    bias = torch.zeros(4, requires_grad=True)
    sparse_rows.sparse_rows_linear(x.to_sparse_csr(), weight, bias).sum().backward()
    assert weight.grad is None
    torch.testing.assert_close(bias.grad, torch.full((4,), 20.0))


def test_sparse_rows_linear_leaves_other_inputs_to_torch(monkeypatch):
    """Dense rows, CSR rows that need a gradient themselves and CSR rows of another dtype
    than the weight go to torch's linear; only the rest take the SciPy backward."""
    called = []
    monkeypatch.setattr(sparse_rows._SparseRowsLinear, "apply",
                        lambda *a: called.append(a) or torch.nn.functional.linear(*a))
    weight = torch.randn(3, 5)
    dense = torch.rand(4, 5)
    torch.testing.assert_close(sparse_rows.sparse_rows_linear(dense, weight, None),
                               dense @ weight.t())
    wide = dense.double().to_sparse_csr()
    with pytest.raises(RuntimeError):  # torch's own message for mixed dtypes
        sparse_rows.sparse_rows_linear(wide, weight, None)
    trained = dense.to_sparse_csr().requires_grad_()
    sparse_rows.sparse_rows_linear(trained, weight, None)
    assert called == []
    sparse_rows.sparse_rows_linear(dense.to_sparse_csr(), weight, None)
    assert len(called) == 1


def _fit_both(monkeypatch, model, graph, **params):
    """With the rule forced off, then forced on: the fitted estimator, its predict and its
    transform of the first 50 nodes' features."""
    fitted = []
    for threshold in (0.0, 1.0):
        monkeypatch.setattr(sparse_rows, "SPARSE_ROWS_DENSITY", threshold)
        estimator = model(n_clusters=3, random_state=0, **{**FAST, **params}).fit(graph)
        new_x = graph.x[:50]
        fitted.append((estimator, estimator.predict(new_x), estimator.transform(new_x)))
    return fitted


@pytest.mark.parametrize("model", [SCGCStar, SCGC])
@pytest.mark.parametrize("batch_size", [None, 64])
def test_fit_on_csr_rows_matches_dense(monkeypatch, layouts, sparse_sbm, model, batch_size):
    (dense, dense_predicted, dense_embedded), (sparse, predicted, embedded) = _fit_both(
        monkeypatch, model, sparse_sbm, batch_size=batch_size)
    # fit, predict and transform each convert their features once
    assert layouts == [torch.strided] * 3 + [torch.sparse_csr] * 3
    assert (dense.batch_size_ is None) == (batch_size is None)
    assert any(entry["phase"] == "start-length" for entry in sparse.history_)  # held out
    np.testing.assert_allclose(sparse.embedding_, dense.embedding_, atol=1e-4)
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    if model is SCGC:
        dense_loss = [e["reconstruction"] for e in dense.history_ if e["phase"] == "train"]
        sparse_loss = [e["reconstruction"] for e in sparse.history_ if e["phase"] == "train"]
        np.testing.assert_allclose(sparse_loss, dense_loss, rtol=1e-4)
    np.testing.assert_array_equal(predicted, dense_predicted)
    np.testing.assert_allclose(embedded, dense_embedded, atol=1e-4)


def test_autoencoder_start_on_csr_rows(monkeypatch, layouts, sparse_sbm):
    (dense, *_), (sparse, *_) = _fit_both(monkeypatch, SCGC, sparse_sbm,
                                          pretrain="autoencoder", pretrain_epochs=2)
    assert layouts[3] == torch.sparse_csr
    np.testing.assert_allclose(sparse.embedding_, dense.embedding_, atol=1e-4)


def test_graph_models_keep_dense_rows(monkeypatch, layouts, sparse_sbm):
    params = {"max_epochs": 3, "pretrain_epochs": 5, "hidden_channels": 32,
              "embedding_dim": 8}
    dense, forced = [], []
    for threshold, fitted in ((0.0, dense), (1.0, forced)):
        monkeypatch.setattr(sparse_rows, "SPARSE_ROWS_DENSITY", threshold)
        fitted.append(MPNNVNClusterer(n_clusters=3, random_state=0, **params).fit(sparse_sbm))
    assert layouts == [torch.strided, torch.strided]
    np.testing.assert_array_equal(forced[0].embedding_, dense[0].embedding_)


def test_select_rows_of_csr_reads_negative_indices_and_masks_as_dense_indexing():
    dense = torch.arange(12.0).reshape(4, 3)
    dense[1] = 0.0
    csr = dense.to_sparse_csr()
    for index in (torch.tensor([-2]), torch.tensor([-1, 0, -4]),
                  torch.tensor([True, False, True, True])):
        # -2 had read the last row, -1 raised from deep in torch, a mask an IndexError.
        torch.testing.assert_close(sparse_rows.select_rows(csr, index).to_dense(),
                                   dense[index])
