r"""Weight sharing across depth: recursive blocks with depth-wise LoRA or SReT's recursion.

A recursive network applies the same block several times instead of stacking distinct
ones, so depth costs compute but few parameters. Two published recipes:

* **Relaxed Recursive Transformers** (Bae et al., ICLR 2025): one block of :math:`K`
  layers looped :math:`L` times in a cycle (:math:`f_1..f_K, f_1..f_K, \dots`). Strict
  tying is relaxed by a depth-wise low-rank adapter on every linear map: at depth position
  :math:`p` a weight is :math:`W_p = W + B_p A_p` with :math:`A_p \in \mathbb R^{r\times
  d_{in}}`, :math:`B_p \in \mathbb R^{d_{out}\times r}`, and :math:`B_p = 0` at
  initialisation, so every loop starts as the same function (the paper initialises from a
  pretrained model by an SVD of the differences; from scratch there is no difference to
  recover). Rank 0 is the strict Recursive Transformer.
* **Sliced Recursive Transformer** (SReT; Shen et al., ECCV 2022): each shared block is
  applied several times *in a row* (:math:`f_1 f_1 f_2 f_2 \dots`), a small *non-shared*
  non-linear projection (LayerNorm, a two-layer MLP of the model width, learnable scalar
  coefficients on its skip and branch) follows every application, so consecutive
  applications of the same weights are not the same map, and the residual connections of
  the shared block carry learnable scalars too
  (:math:`h \leftarrow c_1 h + c_2 f(\mathrm{LN}(h))`, both starting at 1). Its "slicing"
  splits the tokens into groups and restricts self-attention of the recursive
  applications to each group to cut their quadratic cost; it acts on token mixing only.
  An MLP encoder mixes no rows (each node is its own group already), so in
  :class:`RecursiveMLP` the sliced mode is SReT's sharing pattern exactly and the slicing
  is vacuous; a graph transformer reusing :class:`RecursiveStack` would slice inside its
  attention block.

:class:`RecursiveStack` holds the looping logic for any block whose weights live in
``nn.Linear`` modules (attention, message passing or feed-forward sublayers), so a graph
transformer can loop its own blocks; :class:`RecursiveMLPConfig` applies it to a residual
MLP encoder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from torch.func import functional_call

from graphclust._checks import check_integer
from graphclust.nn.mlp import MLP
from graphclust.nn.residual import residual_sublayer

__all__ = [
    "MAX_DEPTH",
    "RECURSIVE_MODES",
    "SCHEDULES",
    "LearnableResidual",
    "LowRankDelta",
    "RecursiveMLP",
    "RecursiveMLPConfig",
    "RecursiveStack",
]

#: Order of the shared blocks along depth: ``"cycle"`` loops the whole block sequence
#: (Relaxed Recursive Transformers), ``"sequence"`` repeats each block before the next (SReT).
SCHEDULES = ("cycle", "sequence")

#: Most positions a stack applies. Shared blocks hold the same tensors at any depth, so
#: a model file's ``loops`` would otherwise size each prediction's work unchecked.
MAX_DEPTH = 1024
#: Sharing patterns of :class:`RecursiveMLP`: Relaxed Recursive Transformers or SReT.
RECURSIVE_MODES = ("relaxed", "sliced")


class LowRankDelta(nn.Module):
    """A rank-``r`` weight update :math:`B A` (LoRA) for an ``in -> out`` linear map.

    :math:`A` starts like an ``nn.Linear`` weight (Kaiming-uniform), :math:`B` at zero, so
    the update is zero until training moves :math:`B`.
    """

    def __init__(self, in_features: int, out_features: int, rank: int) -> None:
        super().__init__()
        self.A = nn.Parameter(torch.empty(rank, in_features))
        self.B = nn.Parameter(torch.zeros(out_features, rank))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))

    def forward(self) -> torch.Tensor:
        return self.B @ self.A


class RecursiveStack(nn.Module):
    """``num_blocks`` shared blocks applied ``loops`` times each, with depth-wise LoRA.

    The stack has ``depth = num_blocks * loops`` positions. Position :math:`p` applies
    shared block ``p % num_blocks`` (``schedule="cycle"``) or ``p // loops``
    (``schedule="sequence"``); with ``lora_rank = r > 0`` every ``nn.Linear`` weight
    :math:`W` of that block is replaced, at that position only, by
    :math:`W + B_p A_p` (:class:`LowRankDelta`, one per position and linear map). Biases,
    norms and other parameters stay tied. The block runs through
    :func:`torch.func.functional_call` with the adapted weights, so the base weights are
    single parameters (one storage) that receive the gradients of every position.

    Parameters
    ----------
    block_factory : callable
        ``block_factory(index) -> nn.Module`` builds shared block ``index`` (from 0); the
        block is called as ``block(h, *args)`` and must return a tensor shaped like ``h``.
    loops : int
        Applications of each shared block.
    lora_rank : int
        Rank of the depth-wise adapters; 0 ties the layers strictly.
    num_blocks : int
        Distinct shared blocks.
    schedule : {"cycle", "sequence"}
        Order of the blocks along depth (see :data:`SCHEDULES`).
    interleave : callable, optional
        ``interleave(position) -> nn.Module``: a non-shared module applied to the output of
        every position (SReT's projections), called as ``module(h)``.

    Notes
    -----
    Parameters: the shared blocks, plus ``depth * r * (d_in + d_out)`` per ``nn.Linear`` of
    a block, plus the interleaved modules. Memory and compute of the forward pass are
    those of a ``depth``-deep stack; the adapted weights :math:`W + B_p A_p` are
    materialised per position (:math:`O(d_{out} d_{in} r)`, independent of the rows).
    Weights a block keeps outside ``nn.Linear`` (e.g. ``nn.MultiheadAttention``'s packed
    projection) are tied but get no adapter.
    """

    def __init__(self, block_factory: Callable[[int], nn.Module], loops: int,
                 lora_rank: int = 0, num_blocks: int = 1, schedule: str = "cycle",
                 interleave: Callable[[int], nn.Module] | None = None) -> None:
        super().__init__()
        for name, value, minimum in (("loops", loops, 1), ("num_blocks", num_blocks, 1),
                                     ("lora_rank", lora_rank, 0)):
            check_integer(name, value, minimum)
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule={schedule!r} is not one of {SCHEDULES}")
        self.loops = loops
        self.lora_rank = lora_rank
        self.schedule = schedule
        self.blocks = nn.ModuleList(block_factory(index) for index in range(num_blocks))
        self.depth = num_blocks * loops
        if self.depth > MAX_DEPTH:  # shared weights: a file's loops cost no tensors
            raise ValueError(f"num_blocks * loops = {self.depth} positions, more than "
                             f"{MAX_DEPTH}: every forward pass applies each of them")
        self._linear_names = [
            [name for name, module in block.named_modules() if isinstance(module, nn.Linear)]
            for block in self.blocks
        ]
        if lora_rank > 0 and not any(self._linear_names):
            raise ValueError("lora_rank > 0 needs nn.Linear layers in the shared blocks")
        self.lora = None
        if lora_rank > 0:
            self.lora = nn.ModuleList(
                nn.ModuleList(
                    LowRankDelta(linear.in_features, linear.out_features, lora_rank)
                    for linear in self._linears(self.block_of(p))
                )
                for p in range(self.depth)
            )
        self.interleaved = None
        if interleave is not None:
            self.interleaved = nn.ModuleList(interleave(p) for p in range(self.depth))

    def block_of(self, position: int) -> int:
        """The shared block applied at ``position`` (computed, not tabulated: a table of
        ``depth`` entries would let a model file's ``loops`` size memory at load)."""
        if self.schedule == "cycle":
            return position % len(self.blocks)
        return position // self.loops

    def _linears(self, block_index: int) -> list[nn.Linear]:
        block = self.blocks[block_index]
        return [block.get_submodule(name) for name in self._linear_names[block_index]]

    def effective_weights(self, position: int) -> dict[str, torch.Tensor]:
        """``{"<linear>.weight": W + B_p A_p}`` of the block at ``position``.

        Without adapters the values are the shared ``nn.Parameter`` objects themselves.
        """
        if not 0 <= position < self.depth:
            raise IndexError(f"position {position} is outside the depth {self.depth}")
        block_index = self.block_of(position)
        linears = self._linears(block_index)
        names = self._linear_names[block_index]
        if self.lora is None:
            return {f"{name}.weight": linear.weight
                    for name, linear in zip(names, linears, strict=True)}
        return {f"{name}.weight": linear.weight + delta()
                for name, linear, delta in zip(names, linears, self.lora[position], strict=True)}

    def apply_position(self, position: int, h: torch.Tensor, *args) -> torch.Tensor:
        """The shared block of ``position`` with that position's weights, on ``h``."""
        block = self.blocks[self.block_of(position)]
        if self.lora is None:
            return block(h, *args)
        return functional_call(block, self.effective_weights(position), (h, *args))

    def forward(self, h: torch.Tensor, *args) -> torch.Tensor:
        for position in range(self.depth):
            h = self.apply_position(position, h, *args)
            if self.interleaved is not None:
                h = self.interleaved[position](h)
        return h


class LearnableResidual(nn.Module):
    """SReT's residual sublayer :math:`c_1 h + c_2 f(\\mathrm{LN}(h))`, :math:`c_1 = c_2 = 1`
    at the start (a pre-norm residual whose skip and branch are scaled by learned scalars).

    Follows the interface of :func:`graphclust.nn.residual.residual_sublayer` placements.
    """

    def __init__(self, sublayer: nn.Module, channels: int, layer_index: int = 1) -> None:
        super().__init__()
        self.sublayer = sublayer
        self.norm = nn.LayerNorm(channels)
        self.skip_scale = nn.Parameter(torch.ones(()))
        self.branch_scale = nn.Parameter(torch.ones(()))

    def forward(self, h: torch.Tensor, *args) -> torch.Tensor:
        return self.skip_scale * h + self.branch_scale * self.sublayer(self.norm(h), *args)


class RecursiveMLP(nn.Module):
    """Residual MLP encoder whose hidden block is looped by a :class:`RecursiveStack`.

    :math:`h = W_{in} x` (a linear input map, like a token embedding), then the stack of
    residual feed-forward blocks (:math:`\\mathrm{FFN} = ` :class:`graphclust.nn.MLP`
    ``hidden - hidden - hidden``, built into a residual sublayer by
    :func:`graphclust.nn.residual.residual_sublayer`), then
    :math:`z = W_{out}\\,\\mathrm{LN}(h)`:

    * ``mode="relaxed"``: pre-norm blocks :math:`h + \\mathrm{FFN}(\\mathrm{LN}(h))` in a
      cycle, with depth-wise LoRA of rank ``lora_rank``;
    * ``mode="sliced"``: SReT's :class:`LearnableResidual` blocks, each repeated ``loops``
      times in a row, a non-shared ``LearnableResidual`` FFN after every application.

    Parameters
    ----------
    in_channels, hidden_dim, out_channels : int
        Input, residual-stream and embedding widths.
    loops, lora_rank, blocks :
        ``loops``, ``lora_rank`` and ``num_blocks`` of :class:`RecursiveStack`.
    mode : {"relaxed", "sliced"}
        Sharing pattern (:data:`RECURSIVE_MODES`).
    activation : str
        Non-linearity of the feed-forward blocks.
    """

    def __init__(self, in_channels: int, hidden_dim: int, out_channels: int, loops: int,
                 lora_rank: int = 0, mode: str = "relaxed", blocks: int = 1,
                 activation: str = "relu") -> None:
        super().__init__()
        if mode not in RECURSIVE_MODES:
            raise ValueError(f"mode={mode!r} is not one of {RECURSIVE_MODES}")
        placement = "pre" if mode == "relaxed" else LearnableResidual

        def shared_block(index: int) -> nn.Module:
            return residual_sublayer(placement, MLP([hidden_dim] * 3, activation),
                                     hidden_dim, index + 1)

        def projection(position: int) -> nn.Module:
            return LearnableResidual(MLP([hidden_dim] * 3, activation), hidden_dim)

        self.input = nn.Linear(in_channels, hidden_dim)
        self.stack = RecursiveStack(shared_block, loops, lora_rank, blocks,
                                    "cycle" if mode == "relaxed" else "sequence",
                                    projection if mode == "sliced" else None)
        self.norm = nn.LayerNorm(hidden_dim)
        self.output = nn.Linear(hidden_dim, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.norm(self.stack(self.input(x))))


@dataclass(frozen=True)
class RecursiveMLPConfig:
    """A :class:`RecursiveMLP` encoder.

    Parameters
    ----------
    hidden_dim : int
        Width of the residual stream and of the shared feed-forward block.
    loops : int
        Applications of each shared block (virtual depth ``blocks * loops``).
    lora_rank : int
        Rank of the depth-wise LoRA adapters (0: strictly tied).
    mode : {"relaxed", "sliced"}
        Relaxed Recursive Transformer's pattern or SReT's (see the module docstring).
    blocks : int
        Distinct shared blocks.
    activation : str
        Non-linearity of the feed-forward blocks.
    """

    hidden_dim: int = 256
    loops: int = 4
    lora_rank: int = 8
    mode: str = "relaxed"
    blocks: int = 1
    activation: str = "relu"
    uses_graph: ClassVar[bool] = False

    def build(self, in_channels: int, out_channels: int) -> RecursiveMLP:
        # Scalars: the sequence check had taken [2] and failed on 2.0 ("not iterable").
        hidden_dim = check_integer("hidden_dim", self.hidden_dim, 1)
        loops = check_integer("loops", self.loops, 1)
        blocks = check_integer("blocks", self.blocks, 1)
        check_integer("lora_rank", self.lora_rank, 0)
        return RecursiveMLP(in_channels, hidden_dim, out_channels, loops, self.lora_rank,
                            self.mode, blocks, self.activation)
