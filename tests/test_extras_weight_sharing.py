"""Weight sharing (graphclust.extras.weight_sharing): LoRA-tied loops, recursive stacks and
their schedules."""


import pytest
import torch
from torch import nn

from graphclust.extras.weight_sharing import (
    LearnableResidual,
    RecursiveMLP,
    RecursiveMLPConfig,
    RecursiveStack,
)


# ---------------------------------------------------------------- weight sharing
def _linear_block(index: int) -> nn.Module:
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 6))


def test_lora_tied_layers_share_one_base_parameter():
    torch.manual_seed(0)
    stack = RecursiveStack(_linear_block, loops=4, lora_rank=2)
    weights = [p for name, p in stack.named_parameters() if name.endswith("0.weight")
               and name.startswith("blocks")]
    assert len(weights) == 1  # one base tensor for all four positions
    base = stack.blocks[0][0].weight
    for position in range(4):
        adapter = stack.lora[position][0]
        effective = stack.effective_weights(position)["0.weight"]
        torch.testing.assert_close(effective - base, adapter.B @ adapter.A)
    strict = RecursiveStack(_linear_block, loops=3, lora_rank=0)
    for position in range(3):
        assert strict.effective_weights(position)["0.weight"] is strict.blocks[0][0].weight
    assert len({p.data_ptr() for p in strict.parameters()}) == 4  # 2 weights + 2 biases


def test_all_loops_compute_the_same_function_at_initialisation():
    torch.manual_seed(0)
    stack = RecursiveStack(_linear_block, loops=4, lora_rank=3)
    h = torch.randn(7, 6)
    outputs = [stack.apply_position(p, h) for p in range(4)]
    for output in outputs[1:]:
        torch.testing.assert_close(output, outputs[0])
    with torch.no_grad():  # once an adapter moves, its loop differs
        stack.lora[2][0].B.normal_()
    assert not torch.allclose(stack.apply_position(2, h), outputs[0])


def test_parameter_count_is_shared_plus_depth_times_adapters():
    r, loops = 3, 4
    tied = RecursiveStack(_linear_block, loops=loops, lora_rank=0)
    relaxed = RecursiveStack(_linear_block, loops=loops, lora_rank=r)
    shared = sum(p.numel() for p in tied.parameters())
    adapters = loops * (r * (6 + 5) + r * (5 + 6))
    assert sum(p.numel() for p in relaxed.parameters()) == shared + adapters

    mlp = RecursiveMLPConfig(hidden_dim=16, loops=4, lora_rank=2).build(10, 8)
    tied_mlp = RecursiveMLPConfig(hidden_dim=16, loops=4, lora_rank=0).build(10, 8)
    assert (sum(p.numel() for p in mlp.parameters())
            == sum(p.numel() for p in tied_mlp.parameters()) + 4 * 2 * (2 * (16 + 16)))


def test_gradient_reaches_shared_weights_and_every_adapter():
    torch.manual_seed(0)
    stack = RecursiveStack(_linear_block, loops=3, lora_rank=2)
    stack(torch.randn(8, 6)).pow(2).sum().backward()
    assert stack.blocks[0][0].weight.grad.abs().sum() > 0
    assert stack.blocks[0][2].weight.grad.abs().sum() > 0
    for adapters in stack.lora:
        for adapter in adapters:
            assert adapter.B.grad.abs().sum() > 0
            assert torch.count_nonzero(adapter.A.grad) == 0  # B = 0 blocks A's gradient
    with torch.no_grad():
        for adapters in stack.lora:
            for adapter in adapters:
                adapter.B.normal_()
    stack.zero_grad()
    stack(torch.randn(8, 6)).pow(2).sum().backward()
    assert all(adapter.A.grad.abs().sum() > 0 for adapters in stack.lora for adapter in adapters)


def test_schedules_and_sret_pattern():
    cycle = RecursiveStack(_linear_block, loops=2, num_blocks=2, schedule="cycle")
    sequence = RecursiveStack(_linear_block, loops=2, num_blocks=2, schedule="sequence")
    assert [cycle.block_of(p) for p in range(4)] == [0, 1, 0, 1]
    assert [sequence.block_of(p) for p in range(4)] == [0, 0, 1, 1]

    sliced = RecursiveMLPConfig(hidden_dim=16, loops=3, lora_rank=0, mode="sliced").build(10, 8)
    assert isinstance(sliced.stack.blocks[0], LearnableResidual)
    projections = list(sliced.stack.interleaved)
    assert len(projections) == 3
    assert len({id(p.sublayer.layers[0].weight) for p in projections}) == 3  # not shared
    assert sliced.stack.blocks[0].skip_scale.item() == 1.0
    assert sliced.stack.blocks[0].branch_scale.item() == 1.0
    relaxed = RecursiveMLPConfig(hidden_dim=16, loops=3).build(10, 8)
    assert relaxed.stack.interleaved is None and relaxed.stack.schedule == "cycle"


def test_recursive_stack_passes_extra_arguments_to_any_linear_block():
    class Scaled(nn.Module):  # stands for a message-passing block taking the edges
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)

        def forward(self, h, scale):
            return h + scale * self.linear(h)

    torch.manual_seed(0)
    stack = RecursiveStack(lambda index: Scaled(), loops=2, lora_rank=1)
    h = torch.randn(5, 4)
    assert stack(h, 0.0).equal(h)
    assert not torch.allclose(stack(h, 1.0), h)


def test_weight_sharing_bad_input():
    with pytest.raises(ValueError, match="loops"):
        RecursiveStack(_linear_block, loops=0)
    with pytest.raises(ValueError, match="lora_rank"):
        RecursiveStack(_linear_block, loops=2, lora_rank=-1)
    with pytest.raises(ValueError, match="schedule"):
        RecursiveStack(_linear_block, loops=2, schedule="zigzag")
    with pytest.raises(ValueError, match="needs nn.Linear"):
        RecursiveStack(lambda index: nn.LayerNorm(4), loops=2, lora_rank=2)
    # Shared blocks hold the same tensors at any depth: a model file's loops=10**12 had
    # loaded, and its first prediction applied 10**12 positions.
    with pytest.raises(ValueError, match=r"num_blocks \* loops = 2050 positions, more than 1024"):
        RecursiveStack(_linear_block, loops=1025, num_blocks=2)
    with pytest.raises(IndexError, match="outside the depth"):
        RecursiveStack(_linear_block, loops=2).effective_weights(2)
    with pytest.raises(ValueError, match="mode"):
        RecursiveMLPConfig(mode="ring").build(4, 2)
    with pytest.raises(TypeError, match="lora_rank must be an integer, got float"):
        RecursiveMLPConfig(lora_rank=1.5).build(4, 2)
    with pytest.raises(ValueError, match="hidden_dim"):
        RecursiveMLPConfig(hidden_dim=0).build(4, 2)
    with pytest.raises(ValueError, match="activation"):
        RecursiveMLPConfig(activation="swish").build(4, 2)
    assert isinstance(RecursiveMLPConfig().build(4, 2), RecursiveMLP)
