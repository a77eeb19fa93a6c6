"""Arguments of the extras refused with an error that names them."""

from __future__ import annotations

import math

import pytest

from graphclust.extras.normalization import PRepBN


@pytest.mark.parametrize("eps, error", [(math.nan, ValueError), (-1.0, ValueError),
                                        (0.0, ValueError), ("1e-5", TypeError)])
def test_prepbn_refuses_an_eps_that_is_not_positive(eps, error):
    # A NaN or negative eps had been taken, and every output was NaN.
    with pytest.raises(error, match="eps"):
        PRepBN(4, eps=eps)
