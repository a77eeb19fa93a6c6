"""Arguments of the extras refused with an error that names them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graphclust.extras.diagnostics import probe_layers
from graphclust.extras.local_learning import auxiliary_layer_indices
from graphclust.extras.matryoshka import MatryoshkaMLP
from graphclust.extras.normalization import PRepBN
from graphclust.extras.weight_sharing import RecursiveMLPConfig


@pytest.mark.parametrize("eps, error", [(math.nan, ValueError), (-1.0, ValueError),
                                        (0.0, ValueError), ("1e-5", TypeError)])
def test_prepbn_refuses_an_eps_that_is_not_positive(eps, error):
    # A NaN or negative eps had been taken, and every output was NaN.
    with pytest.raises(error, match="eps"):
        PRepBN(4, eps=eps)


def test_probe_layers_refuses_a_fractional_seed():
    # int(1.7) had seeded k-means with 1 without a word.
    representations = {"layer": torch.randn(12, 3)}
    with pytest.raises(TypeError, match="random_state"):
        probe_layers(representations, np.arange(12) % 2, random_state=1.7)


@pytest.mark.parametrize("field, value, error", [
    ("hidden_dim", 2.0, TypeError), ("hidden_dim", (4, 8), TypeError),
    ("loops", 0, ValueError), ("blocks", [2], TypeError)])
def test_recursive_mlp_config_names_a_bad_scalar(field, value, error):
    # The sequence check had answered "'float' object is not iterable" or "too many
    # values to unpack" without naming the field.
    with pytest.raises(error, match=field):
        RecursiveMLPConfig(**{field: value}).build(3, 2)


@pytest.mark.parametrize("pair, error", [((1.5, 2), TypeError), ((2, 1.5), TypeError),
                                         ((True, 2), TypeError), ((1, 2, 3), ValueError)])
def test_matryoshka_refuses_a_pair_that_is_not_two_integers(pair, error):
    # (2, 1.5) and (True, 2) had been taken; (1.5, 2) failed on "tuple indices".
    with pytest.raises(error, match="pair"):
        MatryoshkaMLP([3, 4, 4, 2], [pair])


@pytest.mark.parametrize("args, error", [((0, 6, -1), ValueError), ((0.5, 6, 2), TypeError),
                                         ((0, 6, 1.0), ValueError)])
def test_auxiliary_layer_indices_refuses_bad_arguments(args, error):
    # aux_depth=-1 had given [] (a linear head) and a fractional block real indices.
    with pytest.raises(error):
        auxiliary_layer_indices(*args)
