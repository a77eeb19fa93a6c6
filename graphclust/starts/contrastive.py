r"""The contrastive starts: steps of the contrastive term alone, on the encoder itself
(:class:`ContrastiveStart`) or on a linear map grown into it (:class:`LinearStart`).

Both are measured in Adam steps (a full-graph epoch is one step), because too many steps
erode an MLP's clusters (benchmarks/results/notes_defaults.md). With ``holdout`` a share of the
edges is set aside first and the length is chosen on them
(:class:`graphclust.objectives.HeldOutEdges`): a first run trains on the other edges and
is scored every ``check_interval`` steps; once the held-out loss has stayed under its first
check by the gate (:func:`start_gate`: :data:`START_MIN_FALL` of the fall still possible
down to a code of the clusters) at two checks in a row and then
risen above its minimum by :data:`START_EROSION` of its fall so far, or its rank share
climbed past its lowest where training made it (:mod:`graphclust.starts.held_out_rule`),
the length is the step of that minimum (``steps`` is the upper bound). A loss that never does so in
``steps`` of at least :data:`START_VERDICT_STEPS` (and two checks after the first) says
the edges teach the encoder nothing that carries over to edges it has not seen: the start
then keeps an untrained map (:meth:`ContrastiveStart._untaught`). :class:`LinearStart`
keeps the features' principal directions and turns off the joint stage, which would
train on the same edges (``TrainingRun.joint_stage``); :class:`ContrastiveStart` keeps
the encoder's initial weights, which only the joint stage can train.

The start is that run with the last share :data:`START_RETAKE` of the length retaken on
every edge: it resumes from the run's last check at or before
``(1 - START_RETAKE) * length`` (weights and optimizer state, kept in memory) and takes
the steps from there to the length on every edge. A length of one check is thus a start
of that length on every edge from the initial weights; rerunning every length so, as
before, cost twice the steps where the rule does not fire
(benchmarks/results/notes.md, "A cheaper start").
"""

from __future__ import annotations

import warnings
from copy import deepcopy
from dataclasses import dataclass, replace

import torch
from torch import nn

from graphclust._checks import check_flag, check_integer, check_positive_real, check_real
from graphclust._warnings import user_stacklevel
from graphclust.data.principal import principal_directions
from graphclust.nn.mlp import MLP
from graphclust.nn.sparse_rows import select_rows
from graphclust.nn.whitening import whiten_linear_
from graphclust.objectives.held_out import HeldOutEdges
from graphclust.sampling.contrastive import checked_batches, one_pass
from graphclust.starts.held_out_rule import (
    HeldOutReading,
    held_out_summary,
    kept_check,
    start_gate,
)
from graphclust.training.parts import (
    EncoderInputs,
    Rows,
    TrainingRun,
    contrastive_views,
    data_parallel,
    encode_all,
    optimizer_for,
    optimizer_step,
)

__all__ = ["LINEAR_INITS", "START_RETAKE", "ContrastiveStart", "LinearStart", "start_length"]

#: The share of the chosen length retaken on every edge (rounded up to whole checks), so
#: that the start's last steps see the edges its held-out run left out (retaking one check,
#: 10 of DBLP's 200 steps, left its NMI 0.002-0.007 lower; benchmarks/results/notes.md,
#: "A cheaper start").
START_RETAKE = 0.25
#: Where :class:`LinearStart`'s map can begin: random weights, or the features' principal
#: directions.
LINEAR_INITS = ("random", "principal")
# Fewer held-out pairs than this give a loss too noisy to tell a rise from chance.
_MIN_HELD_OUT_PAIRS = 32


def start_length(history: list[dict]) -> int | None:
    """The length of the start a fit kept, read from its ``history``: the held-out rule's
    kept check, else the last ``"pretrain"`` entry (steps, or the autoencoder's epochs),
    else 0 (no start). ``None`` where the held-out checks found that the edges teach the
    encoder nothing (the start kept an untrained map)."""
    kept = kept_check(history)
    if kept is not None and kept.get("untaught") is True:
        return None
    epochs = [kept.get("epoch")] if kept is not None else [
        entry.get("epoch") for entry in history if entry.get("phase") == "pretrain"]
    if not all(isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0
               for epoch in epochs):
        raise ValueError("history_'s start entries need whole, non-negative 'epoch' values")
    return max(epochs, default=0)


@dataclass(frozen=True)
class ContrastiveStart:
    """``steps`` Adam steps (``lr``, L2 ``weight_decay``) of the contrastive term alone
    on the encoder. ``holdout``: share of the edges that chooses the length (module
    docstring), scored every ``check_interval`` steps; ``None``: exactly ``steps``."""

    steps: int = 200
    lr: float = 1e-3
    weight_decay: float = 0.0
    holdout: float | None = 0.1
    check_interval: int = 10

    def __post_init__(self) -> None:
        # A part passed as start= skips the estimator's own table of constraints: a
        # negative holdout had held out the other 80% of the edges, a check_interval of 0
        # divided by zero once the data were read.
        check_integer("steps", self.steps, 0)
        check_positive_real("lr", self.lr)
        check_positive_real("weight_decay", self.weight_decay, allow_zero=True)
        check_integer("check_interval", self.check_interval, 1)
        if self.holdout is not None and not 0 < check_real("holdout", self.holdout) < 0.5:
            raise ValueError(f"holdout must be None or in (0, 0.5), got {self.holdout!r}")

    def check(self, config, embedding_dim: int) -> None:
        """Any encoder can be trained with the contrastive term."""

    def held_out_snapshots(self) -> int:
        """A bound on the states (the map and its optimizer's) the held-out run keeps at
        once to resume from: one a check from the best check's on (:meth:`_length`)."""
        return 0 if self.holdout is None else -(-self.steps // self.check_interval)

    def __call__(self, encoder: nn.Module, run: TrainingRun, *, config, contrastive,
                 decoder) -> nn.Module:
        if self.steps == 0:
            return encoder
        if run.edge_index.shape[1] == 0:
            # No pair to learn from: the edges teach the encoder nothing, as the held-out
            # verdict says of edges whose lessons do not carry over, with no steps run.
            run.history.append({"epoch": 0, "phase": "start-length", "kept": True,
                                "untaught": True, "edges": 0})
            run.report(held_out_summary(run.history))
            return self._untaught(*self._trained_module(encoder, run), run, config)
        held_out = self._held_out_edges(run, contrastive)
        encoder, inputs = self._trained_module(encoder, run)
        optimizer = optimizer_for(encoder, encoder, self.lr, self.weight_decay)
        first, steps = 1, self.steps
        if held_out is not None:
            length, state = self._length(encoder, optimizer, inputs, held_out, run,
                                         contrastive)
            run.report(held_out_summary(run.history))
            encoder.load_state_dict(state["encoder"])
            if length is None:
                return self._untaught(encoder, inputs, run, config)
            optimizer.load_state_dict(state["optimizer"])
            resumed = self._resume_step(length)
            first, steps = resumed + 1, length - resumed
        for step, loss in self._steps(encoder, optimizer, inputs, run.batches, run,
                                      contrastive, steps,
                                      "start on every edge"):
            run.history.append({"epoch": first + step - 1, "phase": "pretrain", "loss": loss})
        return self._finish(encoder, inputs, config)

    def _trained_module(self, encoder: nn.Module, run: TrainingRun):
        """The module the steps train, and how it reads the graph."""
        return encoder, run.inputs

    def _finish(self, trained: nn.Module, inputs: EncoderInputs, config) -> nn.Module:
        return trained

    #: What a start that the edges teach nothing does (the fit's warning says it).
    _untaught_outcome = ("the start keeps its initial weights, and the joint stage trains "
                         "them")

    def _untaught(self, module: nn.Module, inputs: EncoderInputs, run: TrainingRun,
                  config) -> nn.Module:
        """The start where the edges teach nothing: ``module`` at its initial weights (an
        encoder has no untrained map better than its initialisation, so the joint stage
        still runs)."""
        return module

    def _held_out_edges(self, run: TrainingRun, contrastive) -> HeldOutEdges | None:
        """The edges set aside to choose the length, or ``None`` (``holdout=None``, or
        too few edges to score)."""
        if self.holdout is None:
            return None
        if not hasattr(contrastive, "tau"):  # a custom term may not have one
            raise TypeError(
                f"the start's held-out edges are scored at the contrastive term's tau, which "
                f"{type(contrastive).__name__} lacks: give it a tau (its inverse "
                "temperature) or start without them (start_holdout=None, or holdout=None "
                "in the start object)")
        held_out = HeldOutEdges(run.edge_index, run.inputs.x.shape[0], float(self.holdout),
                                contrastive.tau, run.generator)
        return held_out if len(held_out) >= _MIN_HELD_OUT_PAIRS else None

    def _steps(self, encoder: nn.Module, optimizer, inputs: EncoderInputs, batches,
               run: TrainingRun, contrastive, steps: int, stage: str):
        """``steps`` steps of ``optimizer`` on the contrastive term of ``encoder`` (one a
        batch, cycling), yielding each step's number and loss; ``stage`` names the bar."""
        module = data_parallel(Rows(encoder), run.world_size)
        stream = (batch for _ in iter(int, 1) for batch in one_pass(batches, run.sampler))
        with run.progress(steps, stage) as bar:
            for step in range(1, steps + 1):
                batch = next(stream)
                arguments, num_candidates = inputs(batch)
                z = module(arguments, num_candidates)
                loss = contrastive(contrastive_views(encoder, z), batch)
                optimizer_step(encoder, optimizer, loss)
                if bar is not None:
                    bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
                    bar.update()
                yield step, loss.item()

    def _resume_step(self, length: int) -> int:
        """The held-out run's check the start resumes from: the last one at or before
        ``1 - START_RETAKE`` of ``length``."""
        return int(length * (1 - START_RETAKE)) // self.check_interval * self.check_interval

    def _length(self, encoder: nn.Module, optimizer, inputs: EncoderInputs,
                held_out: HeldOutEdges, run: TrainingRun, contrastive) -> tuple[int, dict]:
        """How many steps the start runs, chosen on held-out edges (module docstring), and
        the states to resume from (:meth:`_resume_step`): ``{"encoder": ...,
        "optimizer": ...}``. The length is ``None``, with the initial states, where the
        held-out loss never stayed under the gate (the edges teach nothing; module
        docstring).

        The checks are in ``run.history`` (phase ``"start-length"``), the chosen one
        marked ``"kept"``, the one that showed erosion with its witness (``"eroded"``:
        ``"loss"`` or ``"rank share"``).
        """
        num_nodes = inputs.x.shape[0]
        train = held_out.train_edge_index
        batches = checked_batches(run.sampler.batches(train, num_nodes, run.seed, run.rank,
                                                      run.world_size), run.sampler)
        if inputs.edge_index is not None:  # a graph encoder sees no held-out edge
            inputs = replace(inputs, edge_index=train, csr=None)
        if inputs.features_over is not None:  # nor do propagated inputs
            inputs = replace(inputs, x=inputs.features_over(train))

        def check(step: int, loss: float | None) -> dict:
            if inputs.edge_index is None:
                z = encode_all(encoder, select_rows(inputs.x, held_out.nodes), None)
            else:
                z = encode_all(encoder, inputs.x, inputs.edge_index)[held_out.nodes]
            held_loss, rank = held_out.scores(z)
            entry = {"epoch": step, "phase": "start-length", "held_out_loss": held_loss,
                     "held_out_rank": rank, **({} if loss is None else {"loss": loss})}
            run.history.append(entry)
            return entry

        def snapshot() -> dict:
            return deepcopy({"encoder": encoder.state_dict(), "optimizer": optimizer.state_dict()})

        first = best = check(0, None)
        reading = HeldOutReading(start_gate(run.n_clusters, held_out.tau,
                                            first["held_out_loss"],
                                            held_out.uninformative_loss),
                                 first["held_out_loss"], first["held_out_rank"])
        first["gate"] = reading.gate  # what the explore probes replay the rule with
        initial = snapshot()
        # The states at the checks a resume may still need: the length is at least the
        # step of the lowest loss so far, so no resume starts before that step's.
        states = {0: initial}
        for step, loss in self._steps(encoder, optimizer, inputs, batches, run, contrastive,
                                      self.steps, "start: choosing its length"):
            if step % self.check_interval and step < self.steps:
                continue
            entry = check(step, loss)
            if reading.read(step, entry["held_out_loss"], entry["held_out_rank"]):
                best["kept"], entry["eroded"] = True, reading.eroded
                return best["epoch"], states[self._resume_step(best["epoch"])]
            if reading.best_step == step:
                best = entry
            oldest = self._resume_step(best["epoch"])
            states = {at: kept for at, kept in states.items() if at >= oldest}
            if step < self.steps:
                states[step] = snapshot()
        if reading.teaches_nothing(self.steps, self.check_interval):
            first["kept"] = first["untaught"] = True
            warnings.warn(
                f"the start's held-out edges: training on the others never kept their loss "
                f"{reading.gate:.3f} nats under its start for two checks in {self.steps} "
                f"steps (the lowest was {reading.fall:.3f} under; graphclust.starts."
                "start_gate), so the edges teach the encoder nothing that carries over to "
                f"unseen edges: {self._untaught_outcome} (compare the model with SVDKMeans "
                "and DegreeKMeans)", UserWarning, stacklevel=user_stacklevel())
            return None, initial
        entry["kept"] = True
        return self.steps, states[self._resume_step(self.steps)]


@dataclass(frozen=True)
class LinearStart(ContrastiveStart):
    r"""The contrastive steps on a linear map ``features -> embedding_dim`` (reading the
    features alone), then grown into the encoder with the configuration's
    ``from_linear``, so that training starts from the map's clusters.

    A linear map cannot fit the contrastive loss beyond what the features explain as an
    MLP can (benchmarks/results/notes_defaults.md). ``whitening`` (:math:`\varepsilon`, or
    ``None``) equalises the map's strong directions before it is grown
    (:func:`graphclust.nn.whitening.whiten_linear_`). Defaults: ``lr=1e-2`` (the map
    converges in half the steps) and ``weight_decay=1e-4`` (a ridge on the map).

    ``whiten_untaught``: whether an untaught start's principal directions are equalised
    too: ``pretrain="linear"`` asks it for standardised columns only (notes_part7.md);
    a ``start=`` object keeps its own value (default ``True``).

    ``init``: where the map begins. ``"random"`` (the default): PyTorch's random weights.
    ``"principal"``: the features' top principal directions, the map of ``svd-kmeans``
    and of an untaught start (outputs beyond the features' count keep random weights),
    so that the steps begin where no training is and the held-out rule chooses how far
    from it they go. Its first check then scores the principal directions, so an
    untaught verdict means the edges teach nothing beyond them. With propagated inputs
    the directions are those of the inputs propagated over every edge, the held-out
    ones included. Measured against ``"random"`` (benchmarks/results/notes_part11.md,
    "Where the start begins"), it lifts the samples of citation graphs with few edges
    (by up to 0.095 ACC over six seeds) and costs Coauthor CS 0.029 ACC and Photo's
    3,000-node sample 0.023, so it is not the default.
    """

    lr: float = 1e-2
    weight_decay: float = 1e-4
    whitening: float | None = 0.3
    whiten_untaught: bool = True
    init: str = "random"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.whitening is not None:
            check_positive_real("whitening", self.whitening)
        check_flag("whiten_untaught", self.whiten_untaught)
        if self.init not in LINEAR_INITS:
            raise ValueError(f"LinearStart's init must be one of {', '.join(LINEAR_INITS)}, "
                             f"got {self.init!r}")

    def check(self, config, embedding_dim: int) -> None:
        """Refuse an encoder that cannot be grown from a linear map of this width."""
        if self.steps == 0:
            return
        if not hasattr(config, "from_linear"):
            raise ValueError(
                f"pretrain='linear' grows a linear start into the encoder, which "
                f"{type(config).__name__} cannot take (it has no from_linear); use "
                "pretrain='contrastive' (e.g. with pretrain_epochs=50) or 'none'")
        try:
            with torch.random.fork_rng(devices=[]):  # a dry run: widths, activation
                config.from_linear(nn.Linear(1, int(embedding_dim)))
        except ValueError as error:
            raise ValueError(
                f"pretrain='linear' (the default) cannot grow into this encoder: {error} "
                f"(embedding_dim={embedding_dim}); change the encoder as this says "
                "(e.g. lower embedding_dim), or pass pretrain='contrastive' (e.g. with "
                "pretrain_epochs=50)") from None

    def _trained_module(self, encoder: nn.Module, run: TrainingRun):
        inputs = run.inputs
        linear = MLP([inputs.x.shape[1], run.embedding_dim]).to(inputs.x.device)
        if self.init == "principal":
            _set_principal_directions(linear.layers[0], inputs.x, run.seed, zero_rest=False)
        return linear, replace(inputs, edge_index=None, csr=None, fanouts=[])

    _untaught_outcome = ("the linear start keeps the features' principal directions and "
                         "the fit runs no joint stage, which would train on the same edges")

    def _untaught(self, module: MLP, inputs: EncoderInputs, run: TrainingRun,
                  config) -> nn.Module:
        """The features' principal directions (:mod:`graphclust.data.principal`), the map
        that keeps most of the features (``svd-kmeans``' projection), in place of the
        random one; the joint stage, which would train on the same edges, is turned off."""
        run.joint_stage = False
        _set_principal_directions(module.layers[0], inputs.x, run.seed, zero_rest=True)
        return self._finish(module, inputs, config, whiten=self.whiten_untaught)

    def _finish(self, trained: MLP, inputs: EncoderInputs, config,
                whiten: bool = True) -> nn.Module:
        if whiten and self.whitening is not None:
            # Equalise the map's strong directions before k-means reads its clusters
            # (graphclust.nn.whitening; benchmarks/results/notes_defaults.md).
            whiten_linear_(trained.layers[0], encode_all(trained, inputs.x, None),
                           float(self.whitening))
        return config.from_linear(trained.layers[0])


def _set_principal_directions(layer: nn.Linear, x: torch.Tensor, seed: int,
                              zero_rest: bool) -> None:
    """``layer``'s first outputs set to the map onto the top principal directions of ``x``
    (:mod:`graphclust.data.principal`), one an output, with no bias. Outputs beyond the
    features' count get zero weights with ``zero_rest`` (a map that is not trained
    further), else keep their weights: a trained map whose extra outputs were zero for
    every node would leave them zero, since neither the contrast nor the head gives them
    a gradient."""
    directions = principal_directions(x, layer.out_features, seed)
    with torch.no_grad():
        if zero_rest:
            layer.weight.zero_()
        layer.weight[:len(directions)] = directions.to(layer.weight.dtype)
        layer.bias.zero_()
