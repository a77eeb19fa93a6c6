"""The training loop and the pieces its stages share (see :mod:`graphclust.training.loop`)."""

from graphclust.training.loop import Schedule, Trained, train_clusterer
from graphclust.training.parts import EncoderInputs, TrainingRun, distributed_context

__all__ = ["EncoderInputs", "Schedule", "Trained", "TrainingRun", "distributed_context",
           "train_clusterer"]
