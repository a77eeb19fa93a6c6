"""graphclust: self-supervised contrastive graph clustering."""

__version__ = "0.1.0"
