"""TrAct in half precision: the solve runs in float32, the gradient keeps the dtype."""

from __future__ import annotations

import pytest
import torch

from graphclust.extras.tract import TrActLinear, tract_weight_gradient


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("form", ["primal", "kernel"])
def test_tract_gradient_in_half_precision_matches_float32(dtype, form):
    # torch has no half-precision Cholesky: this had raised NotImplementedError.
    generator = torch.Generator().manual_seed(0)
    grad = torch.randn(6, 3, generator=generator).to(dtype)
    inputs = torch.randn(6, 4, generator=generator).to(dtype)
    result = tract_weight_gradient(grad, inputs, 0.3, form=form)
    assert result.dtype == dtype
    expected = tract_weight_gradient(grad.float(), inputs.float(), 0.3, form=form)
    torch.testing.assert_close(result.float(), expected, rtol=2e-2, atol=2e-2)


def test_tract_linear_trains_in_bfloat16():
    layer = TrActLinear(4, 3, 0.1, dtype=torch.bfloat16)
    layer(torch.randn(5, 4, dtype=torch.bfloat16)).sum().backward()
    assert layer.weight.grad.dtype == torch.bfloat16
    assert torch.isfinite(layer.weight.grad.float()).all()
