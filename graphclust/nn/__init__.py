"""Encoders, their configurations and the clustering head."""

from graphclust.nn.config import EncoderConfig, MLPConfig
from graphclust.nn.graph_transformer import GraphTransformer, GraphTransformerConfig
from graphclust.nn.heads import StudentTHead
from graphclust.nn.mlp import MLP, Autoencoder
from graphclust.nn.mpnn_vn import MPNNVirtualNode, MPNNVNConfig
from graphclust.nn.residual import residual_sublayer

__all__ = [
    "MLP",
    "Autoencoder",
    "EncoderConfig",
    "GraphTransformer",
    "GraphTransformerConfig",
    "MLPConfig",
    "MPNNVNConfig",
    "MPNNVirtualNode",
    "StudentTHead",
    "residual_sublayer",
]
