"""MLP encoders: growing a trained linear map into an MLP that computes the same function."""

import pytest
import torch

from graphclust.nn.mlp import grow_linear


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("hidden", [(), (6,), (16, 6), (6, 9, 7)])
def test_grown_mlp_computes_the_linear_map(activation, hidden):
    torch.manual_seed(0)
    linear = torch.nn.Linear(5, 3).double()
    x = torch.randn(40, 5, dtype=torch.float64) * 3
    mlp = grow_linear(linear, hidden, activation)
    assert mlp.dims == (5, *hidden, 3)
    torch.testing.assert_close(mlp(x), linear(x), rtol=0, atol=1e-12)


def test_extra_units_are_trainable_capacity():
    torch.manual_seed(1)
    linear = torch.nn.Linear(4, 2)
    mlp = grow_linear(linear, (10,))
    x = torch.randn(30, 4)
    mlp(x).square().sum().backward()
    # The extra units (rows 4..9) feed nothing yet, but their outgoing weights get gradients.
    assert mlp.layers[1].weight.grad[:, 4:].abs().sum() > 0


def test_grow_refuses_what_cannot_be_exact():
    linear = torch.nn.Linear(4, 3)
    with pytest.raises(ValueError, match="at least 2 \\* out_features = 6"):
        grow_linear(linear, (5,))
    with pytest.raises(ValueError, match="sigma"):
        grow_linear(linear, (8,), "tanh")


@pytest.mark.parametrize("hidden", [(), (6,)])
def test_a_linear_map_without_bias_is_grown_with_zero_bias(hidden):
    torch.manual_seed(2)
    linear = torch.nn.Linear(5, 3, bias=False).double()
    x = torch.randn(20, 5, dtype=torch.float64)
    torch.testing.assert_close(grow_linear(linear, hidden)(x), linear(x), rtol=0, atol=1e-12)


def test_grow_refuses_widths_that_are_not_integers():
    with pytest.raises(ValueError, match="hidden_dims must be positive integers"):
        grow_linear(torch.nn.Linear(4, 3), (16.5,))
