"""The objectives against their formulas written out densely (not taken from any code)."""

import numpy as np
import pytest
import torch

from graphclust.nn.heads import StudentTHead, student_t_assignment
from graphclust.objectives import (
    kl_clustering_loss,
    neighbor_contrastive_loss,
    positive_weights,
    target_distribution,
)


def _small_graph():
    # A path 0-1-2-3, a triangle 4-5-6 and an isolated node 7.
    edges = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (4, 6)]
    both = edges + [(j, i) for i, j in edges]
    return torch.tensor(both).T, 8


def _dense_weights(edge_index, n, order, influence):
    a = np.zeros((n, n))
    a[edge_index[0].numpy(), edge_index[1].numpy()] = 1.0
    a_tilde = a + np.eye(n)
    a_hat = a_tilde / a_tilde.sum(1, keepdims=True)
    powers = [np.linalg.matrix_power(a_hat, level) for level in range(1, order + 1)]
    return sum(powers) if influence else powers[-1]


def _dense_loss(z, w, tau):
    h = z / np.linalg.norm(z, axis=1, keepdims=True)
    s = h @ h.T
    np.fill_diagonal(s, 0.0)
    numerator = (w * np.exp(tau * s)).sum(1)
    denominator = np.exp(tau * s).sum(1)
    return -np.mean(np.log(numerator / denominator))


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("kind", ["power", "influence"])
def test_positive_weights_match_dense_powers(order, kind):
    edge_index, n = _small_graph()
    w = positive_weights(edge_index, n, order, kind).to_dense().numpy()
    expected = _dense_weights(edge_index, n, order, kind == "influence")
    np.testing.assert_allclose(w, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(w.sum(1), order if kind == "influence" else 1.0, rtol=1e-5)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("kind", ["power", "influence"])
@pytest.mark.parametrize("tau", [0.25, 1.0, 4.0])
def test_full_batch_loss_equals_dense_formula(order, kind, tau):
    edge_index, n = _small_graph()
    generator = torch.Generator().manual_seed(order * 10 + int(tau * 4))
    z = torch.randn(n, 5, generator=generator, dtype=torch.float64)
    w = positive_weights(edge_index, n, order, kind)
    row, col = w.indices()
    loss = neighbor_contrastive_loss(z, z, row, col, w.values(), tau)
    expected = _dense_loss(z.numpy(), _dense_weights(edge_index, n, order, kind == "influence"),
                           tau)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_loss_is_stable_for_large_tau():
    edge_index, n = _small_graph()
    z = torch.randn(n, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    w = positive_weights(edge_index, n, 2, "influence")
    row, col = w.indices()
    loss = neighbor_contrastive_loss(z, z, row, col, w.values(), 500.0)
    expected = _dense_loss(z.numpy().astype(np.longdouble),
                           _dense_weights(edge_index, n, 2, True), 500.0)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf")])
def test_loss_refuses_an_inverse_temperature_that_is_not_positive(tau):
    edge_index, n = _small_graph()
    w = positive_weights(edge_index, n, 2, "influence")
    row, col = w.indices()
    with pytest.raises(ValueError, match="tau must be finite and > 0"):  # inf: a NaN loss
        neighbor_contrastive_loss(torch.randn(n, 4), torch.randn(n, 4), row, col,
                                  w.values(), tau)


def _drop_anchor_zero(row, col, weight):
    keep = row != 0
    return row[keep], col[keep], weight[keep]


def _zero_weight_of_anchor_zero(row, col, weight):
    return row, col, torch.where(row == 0, 0.0, weight)


@pytest.mark.parametrize("damage, message", [
    (_drop_anchor_zero, r"1 anchor\(s\) have no positive .* row 0"),
    (_zero_weight_of_anchor_zero, r"1 anchor\(s\) have no positive .* row 0"),
    (lambda r, c, w: (r, c, torch.where(r == 1, float("nan"), w)), "must be >= 0 and not NaN"),
    (lambda r, c, w: (r, c, -w), "must be >= 0 and not NaN"),
    (lambda r, c, w: (r.clone().index_fill_(0, torch.tensor([0]), 99), c, w),
     r"positive_anchor must index rows 0\.\.7, got values from 0 to 99"),
    (lambda r, c, w: (r, c - 1, w), r"positive_candidate must index rows 0\.\.7, .* -1"),
    (lambda r, c, w: (r, c[:-1], w), "flat tensors of one length"),
])
def test_loss_refuses_positives_it_cannot_score(damage, message):
    """An anchor without a positive would score log 0 = an infinite loss; a row index past
    the anchors would be dropped without a word."""
    edge_index, n = _small_graph()
    w = positive_weights(edge_index, n, 1, "power")
    row, col, weight = damage(*w.indices(), w.values())
    z = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=message):
        neighbor_contrastive_loss(z, z, row, col, weight, 1.0)


@pytest.mark.parametrize("anchors, self_candidate, chunk_size, message", [
    # A short self_candidate had left the last anchors' own similarities in the loss.
    (8, torch.arange(7), 512, "self_candidate must give each of the 8 anchors its row"),
    (8, torch.full((8,), 8), 512, "self_candidate must give each of the 8 anchors its row"),
    (9, None, 512, "there are 9 anchors and 8 candidates"),
    (0, None, 512, "at least one anchor"),  # had been a ZeroDivisionError
    (8, None, 0, "chunk_size must be an integer >= 1"),
])
def test_loss_refuses_anchors_it_cannot_place_among_the_candidates(anchors, self_candidate,
                                                                   chunk_size, message):
    edge_index, n = _small_graph()
    w = positive_weights(edge_index, n, 1, "power")
    row, col = w.indices()
    keep = row < anchors
    with pytest.raises(ValueError, match=message):
        neighbor_contrastive_loss(torch.randn(anchors, 4), torch.randn(n, 4), row[keep],
                                  col[keep], w.values()[keep], 1.0,
                                  self_candidate=self_candidate, chunk_size=chunk_size)


def test_minibatch_form_matches_rows_of_the_full_loss():
    """Anchors = a subset, candidates = all nodes: the mean over those rows of the full loss."""
    edge_index, n = _small_graph()
    z = torch.randn(n, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    w = _dense_weights(edge_index, n, 2, True)
    anchors = torch.tensor([5, 0, 7])
    sub = w[anchors.numpy()]
    rows, cols = np.nonzero(sub)
    loss = neighbor_contrastive_loss(
        z[anchors], z, torch.tensor(rows), torch.tensor(cols), torch.tensor(sub[rows, cols]),
        1.5, self_candidate=anchors,
    )
    h = (z / z.norm(dim=1, keepdim=True)).numpy()
    s = h @ h.T
    np.fill_diagonal(s, 0.0)
    per_row = -np.log((w * np.exp(1.5 * s)).sum(1) / np.exp(1.5 * s).sum(1))
    assert loss.item() == pytest.approx(per_row[anchors.numpy()].mean(), rel=1e-6)


def test_loss_gradient_matches_finite_differences():
    edge_index, n = _small_graph()
    w = positive_weights(edge_index, n, 2, "power")
    row, col = w.indices()
    values = w.values().double()
    z = torch.randn(n, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64,
                    requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda t: neighbor_contrastive_loss(t, t, row, col, values, 2.0), (z,)
    )


def test_student_t_and_target_and_kl_match_formulas():
    generator = torch.Generator().manual_seed(3)
    z = torch.randn(6, 2, generator=generator, dtype=torch.float64)
    centers = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    head = StudentTHead(3, 2).double()
    head.reset_parameters(centers)
    q = head(z).detach().numpy()
    kernel = 1.0 / (1.0 + ((z.numpy()[:, None] - centers.numpy()[None]) ** 2).sum(-1))
    np.testing.assert_allclose(q, kernel / kernel.sum(1, keepdims=True), rtol=1e-10)
    p = target_distribution(torch.tensor(q)).numpy()
    weight = q**2 / q.sum(0)
    np.testing.assert_allclose(p, weight / weight.sum(1, keepdims=True), rtol=1e-10)
    kl = kl_clustering_loss(torch.tensor(p), torch.tensor(q)).item()
    assert kl == pytest.approx(np.mean((p * np.log(p / q)).sum(1)), rel=1e-10)


@pytest.mark.parametrize("make, message", [
    (lambda: StudentTHead(0, 4), "n_clusters must be an integer >= 1"),
    (lambda: StudentTHead(3, 4, degrees_of_freedom=0.0), "degrees_of_freedom must be > 0"),
    (lambda: student_t_assignment(torch.zeros(2, 4), torch.ones(3, 4), -1.0),
     "degrees_of_freedom must be finite and > 0"),
    (lambda: student_t_assignment(torch.zeros(2, 4), torch.ones(3, 4), float("inf")),
     "degrees_of_freedom must be finite and > 0"),  # it had given an all-NaN Q
    # A (1, K) target had broadcast over every row of Q.
    (lambda: kl_clustering_loss(torch.full((1, 3), 1 / 3), torch.full((4, 3), 1 / 3)),
     r"p and q must have one shape, got \(1, 3\) and \(4, 3\)"),
    (lambda: target_distribution(torch.full((4, 3), 1 / 3), size_prior=torch.ones(2)),
     r"size_prior must have one entry per cluster, shape \(3,\), got \(2,\)"),
    (lambda: target_distribution(torch.full((4, 3), 1 / 3),
                                 size_prior=torch.tensor([1.0, -1.0, 1.0])),
     "size_prior must be positive"),
    # copy_ would broadcast the one row into every centre.
    (lambda: StudentTHead(3, 4).reset_parameters(torch.ones(1, 4)),
     r"centers must have shape \(3, 4\), got \(1, 4\)"),
])
def test_the_student_t_head_refuses_what_would_make_nan_or_one_centre(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_target_with_size_prior_matches_formula():
    q = torch.softmax(torch.randn(8, 3, generator=torch.Generator().manual_seed(4),
                                  dtype=torch.float64), dim=1)
    prior = torch.tensor([5.0, 2.0, 1.0], dtype=torch.float64)
    p = target_distribution(q, size_prior=prior).numpy()
    qn = q.numpy()
    weight = qn**2 * prior.numpy() / qn.sum(0)
    np.testing.assert_allclose(p, weight / weight.sum(1, keepdims=True), rtol=1e-10)
    # Only the prior's proportions matter, and a uniform prior is DEC's own target.
    np.testing.assert_allclose(target_distribution(q, size_prior=3 * prior).numpy(), p,
                               rtol=1e-10)
    np.testing.assert_allclose(target_distribution(q, size_prior=torch.ones(3)).numpy(),
                               target_distribution(q).numpy(), rtol=1e-10)
    # With the prior equal to the current sizes the target sharpens without moving sizes:
    # it is q^2 row-normalised.
    same = target_distribution(q, size_prior=q.sum(0)).numpy()
    np.testing.assert_allclose(same, qn**2 / (qn**2).sum(1, keepdims=True), rtol=1e-10)


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-1, ValueError),
                                            (1.5, TypeError), (2.0, TypeError)])
def test_positive_weights_reject_bad_order(bad, error):
    edge_index, n = _small_graph()
    with pytest.raises(error, match="order"):
        positive_weights(edge_index, n, bad)


@pytest.mark.parametrize("order", [1, 2])
def test_positive_weights_refuse_node_ids_past_the_graph(order):
    # torch's sparse product read such ids past its buffers: a crash at order 2, a matrix
    # with a row that does not exist at order 1.
    with pytest.raises(ValueError, match=r"node ids in \[0, 5\], outside \[0, 3\)"):
        positive_weights(torch.tensor([[0, 5], [5, 0]]), 3, order)


def test_full_graph_batches_refuse_node_ids_past_the_graph():
    from graphclust.sampling import FullGraphSampler

    edges = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # node 3 of 3
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        next(iter(FullGraphSampler(order=2).batches(edges, 3, 0)))


def test_positive_weights_reject_unknown_kind():
    edge_index, n = _small_graph()
    with pytest.raises(ValueError, match="unknown positive kind"):
        positive_weights(edge_index, n, 1, "sum")
