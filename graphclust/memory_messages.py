r"""What a message-passing encoder holds beyond an MLP of its widths, for the memory estimate.

:func:`graphclust.memory.estimate_peak_memory` counts an encoder as an MLP of its widths;
the built-in message-passing encoders (:class:`graphclust.nn.MPNNVirtualNode`,
:class:`graphclust.nn.GraphTransformer`) hold more, measured by peak resident memory
(``benchmarks/results/memory_estimate.md``; :math:`H` the width, :math:`L` the layers,
:math:`s` the float size, :math:`N'` and :math:`E'` the nodes and edge entries the encoder
runs on):

* **messages** (every local layer, :mod:`graphclust.nn.local_conv`): PyG gathers each
  edge's source state, :math:`E'H` floats, and GCN weights it into a second copy before
  the sum (GIN sums the gathered states: one copy); GCN adds a self-loop a node and keeps
  its edge list and weights (:math:`16 + s` bytes an entry) for the backward pass, in every
  layer. Measured on a 20,000-node graph of 500,000 entries, :math:`H = 128`: 1,036 bytes
  an entry (:math:`2Hs` is 1,024) in the whole-graph pass;
* **attention** (Performer, :class:`graphclust.nn.attention.PerformerAttention`, with
  :math:`h` heads of :math:`m` random features, on one graph: the clusterers' case, where
  every row reads one key-value summary): the queries' and keys' random-feature logits and
  exponentials (:math:`4hm` floats a row: the features kept for the backward pass and
  their gradients; measured, 16 KB a row at the defaults' two layers, 4 heads of 64
  features and :math:`H = 64`) and the GPS layer's own tensors (Q, K, V,
  the feed-forward's hidden layer, the norms' inputs: about :math:`14H` beyond the MLP's).
  A batch of several graphs (``batch`` given) also holds a summary a row, :math:`Hm`
  floats, which is not counted.

Full batch runs the encoder with gradients on the whole graph. A mini-batch runs it on the
sampled neighbourhood of its :math:`C` candidates, at most
:math:`\min(N, C\sum_{l \le L} f^l)` nodes and :math:`f\min(N, C\sum_{l<L} f^l)` entries
(fanout :math:`f`), and every fit also encodes the whole graph without gradients, one
layer at a time (each epoch's target in mini-batches, the final embedding): the larger of
the two counts. Exact attention (``attention="full"``) is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphclust._checks import check_integer

__all__ = ["MessagePassing", "message_passing_parts", "message_passing_sizes"]

# Bytes a local layer keeps per edge entry besides its messages: GCN's edge list with
# self-loops (two int64) for its backward pass; the edge weights are counted in floats.
_EDGE_LIST_BYTES = 16
# Attention tensors per row and layer, in floats per head and feature: the queries' and
# keys' random features, kept for the backward pass, and their gradients.
_FEATURE_COPIES = 4
# Per row and GPS layer, in widths: Q, K, V and their scaled copies, the numerator and
# the merged heads, the two branches' sum, the feed-forward's hidden layer (2H, before and
# after its ReLU) and the norms' and residuals' inputs, beyond the MLP's two a layer.
_LAYER_WIDTHS = 14


@dataclass(frozen=True)
class MessagePassing:
    """The sizes of a message-passing encoder the estimate reads (module docstring).

    ``layers``: local message-passing layers; ``fanout``: neighbours sampled per hop
    around a mini-batch; ``messages``: copies of the per-edge states a layer holds (GCN
    2, GIN 1); ``heads`` and ``features``: the Performer attention's heads and random
    features per head (``features=0``: no attention counted).
    """

    layers: int
    fanout: int = 10
    messages: int = 2
    heads: int = 1
    features: int = 0

    def __post_init__(self):
        for name, least in (("layers", 1), ("fanout", 1), ("messages", 1), ("heads", 1),
                            ("features", 0)):
            check_integer(name, getattr(self, name), least)


def message_passing_sizes(config, fanout: int) -> MessagePassing | None:
    """The :class:`MessagePassing` of an encoder configuration, ``None`` for one that does
    not pass messages; a configuration without ``num_layers`` counts one layer, one
    without ``conv`` GCN's two message copies, and only Performer attention is counted."""
    if not getattr(config, "uses_graph", False):
        return None
    performer = getattr(config, "attention", None) == "performer"
    return MessagePassing(
        layers=int(getattr(config, "num_layers", 1)), fanout=int(fanout),
        messages=1 if getattr(config, "conv", "gcn") == "gin" else 2,
        heads=int(getattr(config, "heads", 1)) if performer else 1,
        features=int(getattr(config, "num_features", 64)) if performer else 0)


def message_passing_parts(passing: MessagePassing, n_nodes: int, n_edges: int, width: int,
                          per_row_activations: int, candidates: int | None,
                          s: int) -> dict[str, int]:
    """Bytes of the parts :func:`graphclust.memory.estimate_peak_memory` adds for
    ``passing``: ``width`` the widest hidden layer, ``per_row_activations`` what the MLP
    count gives a row, ``candidates`` a mini-batch's (``None``: full batch)."""
    if not isinstance(passing, MessagePassing):
        raise TypeError(f"message_passing must be a MessagePassing or None, got "
                        f"{type(passing).__name__}")
    layers, fanout = passing.layers, passing.fanout
    if candidates is None:
        rows, entries = n_nodes, n_edges
    else:  # the sampled neighbourhood's bound (module docstring)
        rows = min(n_nodes, candidates * sum(fanout**hop for hop in range(layers + 1)))
        entries = min(n_edges, fanout * min(n_nodes, candidates * sum(
            fanout**hop for hop in range(layers))))
    # With gradients: every layer's edge list and weights, one layer's messages at a time
    # (its forward or its backward); without (the whole graph): one layer of each.
    per_entry = passing.messages * width * s
    trained = (entries + rows) * (per_entry + layers * (_EDGE_LIST_BYTES + s))
    whole = (n_edges + n_nodes) * (per_entry + _EDGE_LIST_BYTES + s)
    parts = {"messages": max(trained, whole)}
    if candidates is not None:
        # The MLP count covers the candidates; the neighbourhood's other rows run too.
        parts["neighbourhood activations"] = (rows - candidates) * per_row_activations
    if passing.features:
        per_layer = _FEATURE_COPIES * passing.heads * passing.features + _LAYER_WIDTHS * width
        trained = rows * layers * per_layer * s  # every layer's, kept for the backward pass
        whole = n_nodes * per_layer * s  # one layer at a time, nothing kept
        parts["attention"] = max(trained, whole)
    return parts
