"""Shrunk whitening folded into a linear map (the linear start's last step)."""

import numpy as np
import pytest
import torch

from graphclust.nn.whitening import whiten_linear_


def _map_and_data(seed=0, n=500, d=6, e=4):
    torch.manual_seed(seed)
    linear = torch.nn.Linear(d, e).double()
    # Inputs with very different variances per direction, so the outputs' spectrum is uneven.
    x = torch.randn(n, d, dtype=torch.float64) * torch.tensor([5.0, 2.0, 1.0, 0.5, 0.1, 0.01],
                                                               dtype=torch.float64)[:d] + 3.0
    return linear, x


@pytest.mark.parametrize("shrinkage", [0.01, 0.3, 2.0])
def test_new_outputs_are_centred_with_the_shrunk_spectrum(shrinkage):
    linear, x = _map_and_data()
    before = linear(x).detach().numpy()
    whiten_linear_(linear, linear(x).detach(), shrinkage)
    after = linear(x).detach().numpy()

    # The same quantities written out with numpy: eigen-decomposition of the covariance.
    centred = before - before.mean(0)
    variances, directions = np.linalg.eigh(centred.T @ centred / len(before))
    ratio = variances / variances.max()
    expected = centred @ directions @ np.diag((ratio + shrinkage) ** -0.5) @ directions.T
    np.testing.assert_allclose(after, expected, atol=1e-9)
    np.testing.assert_allclose(after.mean(0), 0.0, atol=1e-9)
    new_variances = np.linalg.eigvalsh(after.T @ after / len(after))
    np.testing.assert_allclose(np.sort(new_variances),
                               np.sort(variances / (ratio + shrinkage)), rtol=1e-8)


def test_small_shrinkage_equalises_the_strong_directions_and_large_one_only_centres():
    linear, x = _map_and_data()
    outputs = linear(x).detach()
    spread = np.linalg.eigvalsh(np.cov(outputs.numpy().T))
    strong = torch.nn.Linear(6, 4).double()
    strong.load_state_dict(linear.state_dict())
    whiten_linear_(strong, outputs, 1e-12)
    variances = np.linalg.eigvalsh(np.cov(strong(x).detach().numpy().T))
    assert variances.max() / variances.min() < 1.01 < spread.max() / spread.min()

    mild = torch.nn.Linear(6, 4).double()
    mild.load_state_dict(linear.state_dict())
    matrix = whiten_linear_(mild, outputs, 1e6)
    torch.testing.assert_close(matrix * 1e3, torch.eye(4, dtype=torch.float64),
                               rtol=0, atol=1e-5)


def test_the_returned_matrix_is_what_was_applied():
    linear, x = _map_and_data(seed=3)
    weight, bias = linear.weight.detach().clone(), linear.bias.detach().clone()
    outputs = linear(x).detach()
    matrix = whiten_linear_(linear, outputs, 0.3)
    torch.testing.assert_close(matrix, matrix.T)
    torch.testing.assert_close(linear.weight.detach(), matrix @ weight)
    torch.testing.assert_close(linear.bias.detach(), matrix @ (bias - outputs.mean(0)))


def test_refusals():
    linear, x = _map_and_data()
    outputs = linear(x).detach()
    with pytest.raises(ValueError, match="shrinkage must be > 0"):
        whiten_linear_(linear, outputs, 0.0)
    # An infinite shrinkage had scaled every direction by 0: a map that outputs zeros.
    with pytest.raises(ValueError, match="shrinkage must be finite"):
        whiten_linear_(linear, outputs, float("inf"))
    with pytest.raises(TypeError, match="shrinkage must be a real number"):
        whiten_linear_(linear, outputs, True)
    with pytest.raises(ValueError, match="outputs must have shape"):
        whiten_linear_(linear, outputs[:, :3], 0.3)
    with pytest.raises(ValueError, match="outputs must have shape"):
        whiten_linear_(linear, outputs[:1], 0.3)
    with pytest.raises(ValueError, match="needs a linear map with a bias"):
        whiten_linear_(torch.nn.Linear(6, 4, bias=False), outputs, 0.3)
    with pytest.raises(ValueError, match="must be finite"):
        whiten_linear_(linear, torch.full((10, 4), float("nan"), dtype=torch.float64), 0.3)


@pytest.mark.parametrize("shrinkage", [torch.tensor(0.3), torch.tensor(0.3, dtype=torch.float64),
                                       np.float64(0.3), np.float32(0.3)])
def test_a_torch_or_numpy_scalar_shrinkage_whitens_as_its_float(shrinkage):
    """A 0-d tensor had been refused as "not a real number"."""
    plain, x = _map_and_data(seed=5)
    given, _ = _map_and_data(seed=5)
    expected = whiten_linear_(plain, plain(x).detach(), float(shrinkage))
    torch.testing.assert_close(whiten_linear_(given, given(x).detach(), shrinkage), expected)
    torch.testing.assert_close(given.weight, plain.weight)


@pytest.mark.parametrize(("shrinkage", "error", "message"), [
    (torch.tensor(True), TypeError, "shrinkage must be a real number, got bool"),
    (np.bool_(True), TypeError, "shrinkage must be a real number, got bool"),
    (torch.tensor(1j), TypeError, "shrinkage must be a real number, got complex"),
    (torch.tensor([0.3]), TypeError, r"a 0-d tensor, got a tensor of shape \(1,\)"),
    (torch.tensor(float("nan")), ValueError, "shrinkage must be finite, got nan"),
    (torch.tensor(float("inf")), ValueError, "shrinkage must be finite"),
    (torch.tensor(-1.0), ValueError, "shrinkage must be > 0, got -1.0"),
    (torch.tensor(0), ValueError, "shrinkage must be > 0, got 0"),
])
def test_a_scalar_shrinkage_out_of_its_range_is_refused(shrinkage, error, message):
    linear, x = _map_and_data()
    before = linear.weight.detach().clone()
    with pytest.raises(error, match=message):
        whiten_linear_(linear, linear(x).detach(), shrinkage)
    assert torch.equal(linear.weight, before)  # refused before anything is changed


def test_outputs_that_do_not_vary_leave_the_map_unchanged_with_a_warning():
    linear, _ = _map_and_data()
    before = {k: v.clone() for k, v in linear.state_dict().items()}
    with pytest.warns(UserWarning, match="do not vary"):
        matrix = whiten_linear_(linear, torch.ones(10, 4, dtype=torch.float64), 0.3)
    torch.testing.assert_close(matrix, torch.eye(4, dtype=torch.float64))
    for key, value in linear.state_dict().items():
        assert torch.equal(value, before[key])
