"""Encoders, their configurations and the clustering head."""

from graphclust.nn.config import EncoderConfig, MLPConfig
from graphclust.nn.heads import StudentTHead
from graphclust.nn.mlp import MLP, Autoencoder

__all__ = ["MLP", "Autoencoder", "EncoderConfig", "MLPConfig", "StudentTHead"]
