"""Sparsity group: group sparse envelope pruning and critical initialisation vs plain SCGC*.

Run: ``python -m benchmarks.extras_ablations sparsity --seeds 5 --root ../shared/data``.

The plain reference is SCGC*'s default encoder (one hidden layer of 256, ReLU).

* ``group_sparse_50``: the same shape with half of the 256 hidden units pruned to exactly
  zero by the envelope's proximal steps (the paper's pre-defined level; other settings are
  the configuration's defaults, fixed before running). Parameter counts include the zero
  units; ``compact()`` would remove them.
* ``critical_256``: the plain shape, initialised at criticality (C_W = 2, C_b = 0 for ReLU).
* ``default_deep`` and ``critical_deep``: four hidden layers of 256, with PyTorch's default
  initialisation and at criticality. Criticality is a statement about depth, so the deep
  pair is the fair comparison; the default-initialised deep MLP is its reference.

Net2Net is covered by tests only: growing mid-training is not possible with the training
loop's optimizer, so there is no training variant to ablate.
"""

from graphclust.extras.criticality import CriticalMLPConfig
from graphclust.extras.group_sparsity import GroupSparseMLPConfig
from graphclust.nn import MLPConfig

DEEP = (256, 256, 256, 256)

VARIANTS = {
    "group_sparse_50": {"encoder": GroupSparseMLPConfig(hidden_dims=(256,), sparsity=0.5)},
    "critical_256": {"encoder": CriticalMLPConfig(hidden_dims=(256,))},
    "default_deep": {"encoder": MLPConfig(hidden_dims=DEEP)},
    "critical_deep": {"encoder": CriticalMLPConfig(hidden_dims=DEEP)},
}
