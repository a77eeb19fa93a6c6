"""Net2Net refuses networks whose growth it cannot carry over faithfully."""

from __future__ import annotations

import pytest
import torch

from graphclust.extras.local_learning import LocalLearningMLP
from graphclust.extras.matryoshka import MatryoshkaMLP
from graphclust.extras.mup import MuPMLP
from graphclust.extras.net2net import deepen, widen
from graphclust.extras.tract import TrActMLPConfig


@pytest.mark.parametrize("grow", [lambda m: widen(m, 0, 8), lambda m: deepen(m, 0)])
@pytest.mark.parametrize("make", [
    lambda: LocalLearningMLP([3, 4, 4, 2]),  # auxiliary heads read the old widths
    lambda: MatryoshkaMLP([3, 4, 4, 2], [(1, 2), (2, 2)]),  # pairs index hidden layers
    lambda: TrActMLPConfig(hidden_dims=(4, 4)).build(3, 2),  # a TrAct first layer
])
def test_net2net_refuses_networks_it_cannot_grow_faithfully(make, grow):
    with pytest.raises(TypeError, match="plain nn.Linear layers"):
        grow(make())


def test_net2net_still_grows_subclasses_that_only_change_the_initialisation():
    torch.manual_seed(0)
    mlp, x = MuPMLP([3, 4, 4, 2], base_width=4), torch.randn(5, 3)
    grown = deepen(widen(mlp, 1, 9), 0)
    assert type(grown) is MuPMLP and grown.dims == (3, 4, 4, 9, 2)
    torch.testing.assert_close(grown(x), mlp(x))
