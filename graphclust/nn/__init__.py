"""Encoders and heads."""

from graphclust.nn.heads import StudentTHead
from graphclust.nn.mlp import MLP, Autoencoder

__all__ = ["MLP", "Autoencoder", "StudentTHead"]
