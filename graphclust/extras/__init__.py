"""Optional extras: ideas from the broader deep-learning literature applied to our encoders.

Nothing in the core package imports this package. Each extra is switched on by passing one
of its encoder configurations as ``encoder=`` to an estimator (or a part of one, e.g. a
norm placement or an attention factory, to a configuration); the README lists them with
their papers, and ``benchmarks/extras_ablations.py`` measures each against the plain model
(``benchmarks/results/extras/``).
"""

from graphclust.extras.activations import (
    ACTIVATION_TYPES,
    ACTIVATIONS,
    SquaredReLU,
    TopK,
    activation_sparsity,
    resolve_topk,
    squared_relu,
    topk_activations,
)
from graphclust.extras.criticality import (
    CRITICAL_INIT,
    CriticalMLPConfig,
    critical_init_,
)
from graphclust.extras.diagnostics import (
    binned_entropy,
    binned_mutual_information,
    estimator_representations,
    information_plane,
    layer_representations,
    probe_layers,
    weight_statistics,
)
from graphclust.extras.fusion import (
    DepthFusion,
)
from graphclust.extras.graph_attention import (
    ConvolvedQKVAttention,
    MixtureOfDepthsAttention,
    NeighbourMix,
    SimplifiedLinearAttention,
    TokenMergingAttention,
    merge_groups,
    neighbour_mean,
    route_top_capacity,
)
from graphclust.extras.group_sparsity import (
    GroupSparseMLP,
    GroupSparseMLPConfig,
    envelope_prox_factors,
    group_sparse_envelope,
)
from graphclust.extras.local_learning import (
    LocalLearningMLP,
    LocalLearningMLPConfig,
    auxiliary_layer_indices,
)
from graphclust.extras.matryoshka import (
    MatryoshkaMLP,
    MatryoshkaMLPConfig,
    prefix_kmeans,
    truncate_embedding,
)
from graphclust.extras.mup import (
    MuPMLP,
    MuPMLPConfig,
)
from graphclust.extras.net2net import (
    deepen,
    grow_estimator,
    widen,
)
from graphclust.extras.normalization import (
    NORM_PLACEMENTS,
    PeriNormResidual,
    PRepBN,
    PRepBNResidual,
    ScaledPreNormResidual,
    advance_norm_schedules,
    norm_placement,
)
from graphclust.extras.projection_head import (
    ProjectedEncoder,
    ProjectionHeadConfig,
)
from graphclust.extras.residual_mlp import (
    FeedForward,
    ResidualMLP,
    ResidualMLPConfig,
)
from graphclust.extras.tract import (
    TRACT_FORMS,
    TrActLinear,
    TrActMLPConfig,
    tract_weight_gradient,
)
from graphclust.extras.transformer_config import (
    MOD_SCHEDULES,
    ConvolvedQKV,
    ExtraGraphTransformer,
    ExtraGraphTransformerConfig,
    MixtureOfDepths,
    SLABAttention,
    TokenMerging,
)
from graphclust.extras.weight_sharing import (
    RECURSIVE_MODES,
    SCHEDULES,
    LearnableResidual,
    LowRankDelta,
    RecursiveMLP,
    RecursiveMLPConfig,
    RecursiveStack,
)

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_TYPES",
    "CRITICAL_INIT",
    "ConvolvedQKV",
    "ConvolvedQKVAttention",
    "CriticalMLPConfig",
    "DepthFusion",
    "ExtraGraphTransformer",
    "ExtraGraphTransformerConfig",
    "FeedForward",
    "GroupSparseMLP",
    "GroupSparseMLPConfig",
    "LearnableResidual",
    "LocalLearningMLP",
    "LocalLearningMLPConfig",
    "LowRankDelta",
    "MOD_SCHEDULES",
    "MatryoshkaMLP",
    "MatryoshkaMLPConfig",
    "MixtureOfDepths",
    "MixtureOfDepthsAttention",
    "MuPMLP",
    "MuPMLPConfig",
    "NORM_PLACEMENTS",
    "NeighbourMix",
    "PRepBN",
    "PRepBNResidual",
    "PeriNormResidual",
    "ProjectedEncoder",
    "ProjectionHeadConfig",
    "RECURSIVE_MODES",
    "RecursiveMLP",
    "RecursiveMLPConfig",
    "RecursiveStack",
    "ResidualMLP",
    "ResidualMLPConfig",
    "SCHEDULES",
    "SLABAttention",
    "ScaledPreNormResidual",
    "SimplifiedLinearAttention",
    "SquaredReLU",
    "TRACT_FORMS",
    "TokenMerging",
    "TokenMergingAttention",
    "TopK",
    "TrActLinear",
    "TrActMLPConfig",
    "activation_sparsity",
    "advance_norm_schedules",
    "auxiliary_layer_indices",
    "binned_entropy",
    "binned_mutual_information",
    "critical_init_",
    "deepen",
    "envelope_prox_factors",
    "estimator_representations",
    "group_sparse_envelope",
    "grow_estimator",
    "information_plane",
    "layer_representations",
    "merge_groups",
    "neighbour_mean",
    "norm_placement",
    "prefix_kmeans",
    "probe_layers",
    "resolve_topk",
    "route_top_capacity",
    "squared_relu",
    "topk_activations",
    "tract_weight_gradient",
    "truncate_embedding",
    "weight_statistics",
    "widen",
]
