"""The features' principal directions (graphclust.data.principal)."""

from __future__ import annotations

import pytest
import torch

from graphclust.data.principal import principal_directions


def test_dense_and_csr_rows_give_the_same_orthonormal_directions():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(200, 30, generator=generator) * (torch.rand(200, 30, generator=generator)
                                                    < 0.2)
    dense = principal_directions(x, 5, seed=0)
    sparse = principal_directions(x.to_sparse_csr(), 5, seed=0)
    assert dense.shape == (5, 30) and dense.dtype == torch.float32
    torch.testing.assert_close(dense @ dense.T, torch.eye(5), atol=1e-5, rtol=0)
    # The same directions up to sign.
    torch.testing.assert_close((dense * sparse).sum(1).abs(), torch.ones(5), atol=1e-4,
                               rtol=0)


def test_the_first_direction_is_the_strongest():
    # Rows along (1, 1, 0) with a little noise elsewhere.
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(500, 1, generator=generator) * torch.tensor([[1.0, 1.0, 0.0]]) \
        + 0.01 * torch.randn(500, 3, generator=generator)
    first = principal_directions(x, 2, seed=0)[0]
    assert abs(float(first @ torch.tensor([1.0, 1.0, 0.0]))) / 2 ** 0.5 == pytest.approx(
        1.0, abs=1e-3)


def test_every_direction_when_asked_for_as_many_as_the_features():
    # An orthonormal basis whose leading rows are TruncatedSVD's, signs included; fewer
    # rows than features give as many directions as rows.
    x = torch.randn(300, 6, generator=torch.Generator().manual_seed(2)) * torch.tensor(
        [5.0, 4.0, 3.0, 2.0, 1.0, 0.5]) + 1.0
    every = principal_directions(x, 10, seed=0)
    assert every.shape == (6, 6)
    torch.testing.assert_close(every @ every.T, torch.eye(6), atol=1e-5, rtol=0)
    torch.testing.assert_close(every[:5], principal_directions(x, 5, seed=0), atol=1e-4,
                               rtol=0)
    assert principal_directions(torch.rand(3, 8), 32, seed=0).shape == (3, 8)


def test_one_feature_is_its_own_direction():
    # TruncatedSVD refuses a single feature; svd-kmeans and the untaught start need it.
    x = torch.rand(50, 1) - 2.0
    torch.testing.assert_close(principal_directions(x, 32, seed=0), torch.ones(1, 1))
