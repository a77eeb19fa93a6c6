r"""Message passing with a virtual node (MPNN + VN), as studied by Cai et al., "On the
Connection Between MPNN and Graph Transformer" (ICML 2023).

A virtual node (VN) is linked to every node of its graph. Layer :math:`l` reads the VN
state into the nodes, passes messages locally, and updates the VN from the mean of the
nodes:

.. math::

    \tilde h_i &= h_i^{(l)} + v_{g(i)}^{(l)}, \\
    h_i^{(l+1)} &= \tilde h_i + \sigma\big(\mathrm{LN}(\mathrm{MPNN}^{(l)}(\tilde h)_i)\big), \\
    v_g^{(l+1)} &= v_g^{(l)} + \mathrm{MLP}^{(l)}\Big(v_g^{(l)} +
                   \tfrac{1}{|g|}\textstyle\sum_{i \in g} h_i^{(l+1)}\Big),

with :math:`v^{(0)} = 0`, an input projection to ``hidden_channels`` and a linear output
layer. The VN aggregates with a **mean**, not a sum, so its input does not grow with the
graph (a sum over millions of nodes would swamp the node states). It is written here as a
module rather than PyG's ``VirtualNode`` transform: a transform adds the VN as an ordinary
node, which a neighbour sampler would then sample like any other neighbour.

In mini-batch training the VN averages over the nodes of the sampled subgraph; at
inference the whole graph goes through layer by layer, so embeddings do not depend on
batching. ``LayerNorm`` normalises each node's features, never across nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from graphclust._checks import check_integer
from graphclust.nn.local_conv import LOCAL_CONVS, local_conv
from graphclust.nn.mlp import carry_linear

__all__ = ["MPNNVNConfig", "MPNNVirtualNode", "graph_mean"]

# LayerNorm shift of a message-passing branch grown from a linear start (from_linear).
BRANCH_OFFSET = 0.01


def graph_mean(h: torch.Tensor, batch: torch.Tensor | None, num_graphs: int) -> torch.Tensor:
    """Mean of the rows of ``h`` per graph (``batch[i]`` = graph of row ``i``)."""
    if batch is None:
        return h.mean(0, keepdim=True)
    sums = h.new_zeros(num_graphs, h.shape[1]).index_add_(0, batch, h)
    counts = torch.bincount(batch, minlength=num_graphs).clamp_min(1).to(h.dtype)
    return sums / counts[:, None]


class MPNNVirtualNode(nn.Module):
    """MPNN + virtual node encoder (module docstring), ``forward(x, edge_index, batch)``.

    Parameters
    ----------
    in_channels, hidden_channels, out_channels : int
    num_layers : int
        Message-passing layers (hops of receptive field through edges).
    conv : {"gcn", "gin"}
        Local message-passing layer (:func:`graphclust.nn.local_conv.local_conv`).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, conv: str = "gcn") -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.num_layers = num_layers
        self.input = nn.Linear(in_channels, hidden_channels)
        self.convs = nn.ModuleList(local_conv(conv, hidden_channels) for _ in range(num_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_channels) for _ in range(num_layers))
        self.virtual_mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden_channels, hidden_channels), nn.ReLU(),
                          nn.Linear(hidden_channels, hidden_channels))
            for _ in range(num_layers - 1)  # the last layer's VN update would be unused
        )
        self.output = nn.Linear(hidden_channels, out_channels)
        self.activation = nn.ReLU()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor,
                batch: torch.Tensor | None = None) -> torch.Tensor:
        num_graphs = 1
        if batch is not None:  # max() of an empty batch raises: no rows, no graphs
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        h = self.input(x)
        virtual = h.new_zeros(num_graphs, h.shape[1])
        for layer, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            h = h + (virtual.expand_as(h) if batch is None else virtual[batch])
            h = h + self.activation(norm(conv(h, edge_index)))
            if layer < len(self.virtual_mlps):
                virtual = virtual + self.virtual_mlps[layer](
                    virtual + graph_mean(h, batch, num_graphs))
        return self.output(h)


@dataclass(frozen=True)
class MPNNVNConfig:
    """Configuration of :class:`MPNNVirtualNode` (see :mod:`graphclust.nn.config`)."""

    hidden_channels: int = 128
    num_layers: int = 2
    conv: str = "gcn"
    uses_graph: ClassVar[bool] = True

    def __post_init__(self):
        _check_architecture(self.hidden_channels, self.num_layers, self.conv)

    def build(self, in_channels: int, out_channels: int) -> MPNNVirtualNode:
        return MPNNVirtualNode(in_channels, self.hidden_channels, out_channels,
                               self.num_layers, self.conv)

    def from_linear(self, linear: nn.Linear) -> MPNNVirtualNode:
        r"""An :class:`MPNNVirtualNode` computing exactly ``linear``'s map.

        With :math:`u = Wx + b` (``e`` outputs), the input projection carries :math:`u` and
        :math:`-u` in its first :math:`2e` channels (the others keep their random weights)
        and the output is :math:`\tfrac12[I, -I]` of them. Each message-passing branch
        :math:`\sigma(\mathrm{LN}(\cdot))` starts with LayerNorm scale 0 and shift
        ``BRANCH_OFFSET`` (> 0), so it adds the same constant to every channel, which the
        output's :math:`[I, -I]` cancels; the virtual node's update MLPs start with a zero
        output layer, so the virtual node stays 0. The positive shift keeps the ReLU's
        gradient open (a zero input would give the scale no gradient), so the joint stage
        grows message passing from the linear start (as :func:`graphclust.nn.mlp.grow_linear`
        grows an MLP). Needs ``hidden_channels >= 2 e``.
        """
        model = self.build(linear.in_features, linear.out_features).to(linear.weight)
        carry_linear(linear, model.input, model.output, scale=0.5, width_name="hidden_channels")
        with torch.no_grad():
            for norm in model.norms:
                norm.weight.zero_()
                norm.bias.fill_(BRANCH_OFFSET)
            for mlp in model.virtual_mlps:
                mlp[-1].weight.zero_()
                mlp[-1].bias.zero_()
        return model


def _check_architecture(hidden_channels, num_layers, conv) -> None:
    for name, value in (("hidden_channels", hidden_channels), ("num_layers", num_layers)):
        check_integer(name, value, 1)
    if conv not in LOCAL_CONVS:
        raise ValueError(f"conv={conv!r} is not one of {LOCAL_CONVS}")
