"""SCGC and SCGC*: MLP encoders trained with neighbour-contrastive losses (Kulatilleke et
al., "SCGC: Self-Supervised Contrastive Graph Clustering", 2022).

* :class:`SCGC` keeps SDCN's autoencoder: loss :math:`\\beta\\,\\mathrm{KL}(P\\|Q) +
  \\alpha\\,\\mathcal L_{NC}(W = \\hat A^r) + \\mathrm{MSE}(\\hat x, x)`, :math:`x` the
  encoder's input (the transformed features, or their propagated copies with
  ``propagation_steps`` or ``input_hops``).
* :class:`SCGCStar` keeps only the encoder and uses the influence-augmented positives:
  :math:`\\beta\\,\\mathrm{KL}(P\\|Q) + \\alpha\\,\\mathcal L_{IAC}(W = \\sum_{l\\le r}\\hat A^l)`.

Both predict without a graph: the encoder is an MLP over node features.
"""

from __future__ import annotations

import inspect

from graphclust.estimators.contrastive import PRETRAIN_MODES, ContrastiveClusterer
from graphclust.estimators.params import Param, at_least
from graphclust.nn.config import MLPConfig, check_positive_ints

__all__ = ["SCGC", "SCGCStar", "PRETRAIN_MODES"]


class _SCGCBase(ContrastiveClusterer):
    r"""Shared training of SCGC and SCGC*; subclasses fix the positives and the decoder.

    Training (:func:`graphclust.training.train_clusterer`) runs in
    three stages: a start of the encoder (``pretrain``), k-means on the embeddings to place
    the Student-t centres, then joint training of
    :math:`\beta\,\mathrm{KL}(P\|Q) + \alpha\,\mathcal L_{NC}` (+ reconstruction for
    SCGC) until the label-free stopping rule fires or ``max_epochs`` is reached; no joint
    epoch where the linear start's held-out edges show the edges teach nothing
    (``start_holdout``).

    Parameters
    ----------
    n_clusters : int
        Number of clusters, at least 2 and at most the number of nodes.
    alpha, beta : float
        Weights of the contrastive and the KL clustering terms in the joint stage.
    tau : float
        Inverse temperature multiplying cosine similarities in the contrastive loss.
    order : int
        :math:`r`, hops of the positives (:math:`\hat A^r` or :math:`\sum_{l\le r}\hat A^l`).
    lr : float
        Adam learning rate of the joint stage, per epoch: in mini-batches each of an
        epoch's k steps takes ``lr / k``, so that an epoch moves the model as far as a
        full-batch epoch (the stopping rule and ``max_epochs`` count epochs).
    pretrain_lr : float or "auto"
        Adam learning rate of the start; ``"auto"``: 1e-2 for the linear start, 1e-3 for
        the others (an MLP's contrastive start erodes faster at higher rates).
    pretrain_weight_decay : float or "auto"
        L2 penalty (Adam's ``weight_decay``) of the start; ``"auto"``: 1e-4 for the linear
        start (a ridge on the map, worth a little on Cora), 0 for the others.
    start_whitening : float or None
        Shrinkage :math:`\varepsilon` of the whitening folded into the linear start's map
        before it is grown and clustered (:func:`graphclust.nn.whitening.whiten_linear_`:
        centred outputs, variance :math:`\lambda_i` rescaled by
        :math:`(\lambda_i/\lambda_1 + \varepsilon)^{-1/2}`); ``None`` leaves the map as
        trained. Only the linear start uses it.
    start_holdout : float or None
        Share of the edges set aside to choose the length of a contrastive start
        (``"linear"``, ``"contrastive"``): a first run trains on the other edges and stops
        once the contrastive loss of the held-out edges clearly rises; the start is that
        run up to the step of that loss's minimum, its last quarter retaken on every edge
        (:mod:`graphclust.objectives.held_out`, :data:`graphclust.starts.START_RETAKE`;
        ``pretrain_epochs`` is the upper bound).
        ``None``: exactly ``pretrain_epochs`` steps, no held-out run. Default 0.1: a wide
        map of sparse features can fit the training edges beyond the classes, and the
        held-out edges tell when it starts to (random 1,500- and 4,000-node subgraphs of
        Cora and Coauthor CS: SCGC* 0.53 and 0.46 ACC without the rule, 0.70 and 0.76 with
        it, ``benchmarks/results/subgraphs/``); where the start does not erode, the rule
        keeps its length, at the cost of a quarter more steps
        (``benchmarks/results/notes.md``, "A cheaper start"). Where the held-out loss
        never falls by a fifth of the fall still possible at the first check, down to a
        code of the clusters (:func:`graphclust.starts.start_gate`; the air-traffic
        graphs), the edges teach the encoder nothing: the linear start keeps the
        features' principal
        directions, the fit skips the joint stage and warns (UAT, EAT, BAT: 0.524,
        0.542, 0.753 -> 0.572, 0.558, 0.779 ACC; ``benchmarks/results/notes_part4.md``).
    max_epochs : int
        Upper bound on joint-stage epochs.
    pretrain : {"linear", "contrastive", "autoencoder", "none"}
        How the encoder is started. ``"linear"`` (default): ``pretrain_epochs`` steps of the
        contrastive loss alone on a linear map ``features -> embedding_dim``, then grown
        into the encoder so that it computes that map (the MLP exactly,
        :func:`graphclust.nn.mlp.grow_linear`; needs every hidden width
        ``>= 2 * embedding_dim`` and an encoder configuration with ``from_linear``).
        ``"contrastive"``: the same loss on the encoder itself (an MLP's clusters erode
        after some 50-100 steps, so keep ``pretrain_epochs`` small). ``"autoencoder"``:
        SDCN's recipe (batches of 256, MSE). ``"none"``: random weights.
    pretrain_epochs : int
        Length of the start. For the contrastive starts it counts optimizer steps: full-batch
        epochs, or seed batches in mini-batch training (the start is measured in Adam steps,
        which do not shrink with the batch). For the autoencoder start it counts epochs;
        0 means no start (random weights, as ``pretrain="none"``).
    hidden_dims : int or sequence of int
        Hidden widths of the MLP encoder (the decoder mirrors them).
    embedding_dim : int
        Output width of the encoder.
    encoder : EncoderConfig or None
        ``None``: the MLP ``features - hidden_dims - embedding_dim``. Otherwise any encoder
        configuration (:class:`graphclust.nn.config.EncoderConfig`, e.g. a variant from
        :mod:`graphclust.extras`), built with ``embedding_dim`` outputs; ``hidden_dims``
        then only shapes a decoder (SCGC's, or an autoencoder start's) and must otherwise
        stay at its default (``ValueError``). A message-passing encoder makes ``predict``
        need the graph.
    start : start object or None
        ``None``: the start ``pretrain`` and its parameters describe. Otherwise any start
        part (:mod:`graphclust.starts`: ``LinearStart``, ``ContrastiveStart``,
        ``AutoencoderStart``, ``NoStart``, or your own with ``check`` and ``__call__``);
        it replaces ``pretrain``, ``pretrain_epochs``, ``pretrain_lr``,
        ``pretrain_weight_decay``, ``start_whitening`` and ``start_holdout``, which must
        then stay at their defaults (``ValueError``).
    objective : objective object or None
        ``None``: :class:`graphclust.objectives.ClusteringObjective` with ``alpha``,
        ``beta``, ``tau``, ``size_prior`` (and SCGC's reconstruction term). Otherwise any
        objective part; it replaces those four parameters (``ValueError`` unless they
        stay at their defaults). An objective with a ``reconstruction`` term makes the
        estimator train a decoder.
    sampler : sampler object or None
        ``None``: :class:`graphclust.sampling.FullGraphSampler` (full batch) or
        :class:`graphclust.sampling.RandomWalkSampler` from ``batch_size``,
        ``num_walks``, ``order``, ``exclude_isolated`` and ``fanout``, with this
        estimator's positives. Otherwise any sampler part; it replaces those five
        parameters (``ValueError`` unless they stay at their defaults).
    features : {"auto", "tfidf", "l2", "standardize", "ordinal", "none"}
        Graph-free input transform (:class:`graphclust.data.transforms.FeatureTransform`);
        ``"auto"`` reads a one-hot code of the degree as ordinal, other non-negative
        features as TF-IDF, signed ones and columns in different units
        (:data:`graphclust.data.transforms.UNIT_SPREAD`) standardised.
    propagation_steps : int
        :math:`t`: the encoder reads :math:`S^t T(X)`, the transformed features smoothed
        over the graph as ``svd-kmeans`` smooths them, with
        :math:`S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`
        (:func:`graphclust.data.propagation.propagate`; at most
        :data:`~graphclust.data.propagation.MAX_PROPAGATION_STEPS`, 256, as for
        ``input_hops``). 0 (default): the features alone; above 0, ``predict`` needs the
        graph. With 2 (``benchmarks/results/
        input_propagated.md``, 3 seeds): Amazon Photo 0.771 -> 0.784 ACC, digits 0.843 ->
        0.883, the weak-feature SBM 0.29 -> 0.999, but DBLP 0.811 -> 0.733, Cora 0.772 ->
        0.645 and the air-traffic graphs lose 0.05-0.32. Not the default: no label-free
        rule yet says when to use it (``benchmarks/results/notes.md``).
    input_hops : int
        :math:`h`: the encoder reads :math:`[T(X), S\,T(X), \dots, S^h T(X)]`, the
        transformed features beside their propagated copies, with
        :math:`S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`
        (:func:`graphclust.data.propagation.stack_hops`, SIGN's inputs). 0 (default):
        the features alone, and ``predict`` needs no graph; above 0, ``predict`` needs
        the graph, as for a message-passing encoder. For graphs whose edges carry the
        clusters and whose features do not (``benchmarks/results/input_hops.md``):
        on ``make_sbm`` with weak features SCGC* reaches ACC 0.29 with 0 and 0.999
        with 2. Not the default: with 2, DBLP, Cora and Amazon Photo lose 0.1-0.2 ACC, and
        the air-traffic graphs lose too. The start's held-out run reads inputs propagated
        over its training edges only, so no held-out edge reaches it.
    n_neighbors : int
        Neighbours of the cosine kNN graph built when ``fit`` gets a plain matrix.
    knn_method : {"auto", "exact", "approximate"}
        Search of that kNN graph (:func:`graphclust.data.knn_graph`): ``"auto"`` is exact
        up to 100,000 rows and on CUDA, approximate above (with the ``ann`` extra).
    batch_size : "auto", int or None
        ``None``: full graph with exact positives. An int: seed batches of that size
        with random-walk positives (``num_walks`` walks per seed); memory then grows
        linearly with the graph, and an epoch is at most 32 batches (a sample of a
        larger graph: :data:`graphclust.sampling.contrastive.EPOCH_BATCHES`). ``"auto"``
        (default): full batch for graphs of fewer than 2,048 nodes (if it fits the
        device's available memory), else batches of 1,024, halved until they fit
        (:func:`graphclust.memory.choose_batch_size`; a message-passing ``encoder``
        keeps full batch while its quadratic loss is cheap).
        Measured on DBLP, Cora, digits and Amazon Photo: batches of 1,024 reach full
        batch's ACC within the seeds' spread, in 0.21 (Photo) to 1.26 (Cora) of its
        time (``benchmarks/results/batch_modes.md``). Whatever the setting, ``fit`` first
        compares the estimated peak memory with the available memory and raises
        :class:`graphclust.memory.TrainingMemoryError` (a ``MemoryError`` saying what to
        change) instead of running out of memory. ``batch_size_`` records the choice.
    num_walks : int
        Walks per seed node estimating its positives in mini-batch training.
    fanout : int
        Neighbours sampled per hop around a mini-batch for a message-passing ``encoder``
        (unused by feature-only encoders).
    exclude_isolated : bool
        Leave nodes without edges out of the contrastive average (their only positive
        is themselves, so their term is pure repulsion); they are still clustered and
        still serve as negatives.
    normalize_embedding : bool
        Cluster the L2-normalised embeddings (the contrastive loss only sees directions).
    size_prior : {"start", "uniform"}
        Cluster sizes the self-training target pulls towards
        (:func:`graphclust.objectives.target_distribution`): the soft sizes found at the
        k-means start (default), or equal sizes (DEC's original target).
    tol, check_interval : float, int
        Stop once fewer than ``tol`` of the nodes changed cluster over the last
        ``check_interval`` epochs (DEC's rule over a window). ``tol=0`` runs all epochs.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    random_state : int, RandomState or None
        Seeds weights, batches, walks and k-means. Same seed, same labels.
    verbose : bool
        Show a progress bar over epochs (on stderr; written to a file or a CI log it
        redraws every 30 s and keeps its last state, :mod:`graphclust._progress`).
    n_jobs : int or None
        CPU threads for ``fit`` and inference, with scikit-learn's meaning: ``None`` is 1,
        ``-1`` every core. The caller's thread settings are restored afterwards
        (:func:`graphclust.threads.limit_threads`). One thread is the default because it
        holds whatever the OpenMP wait policy, which a library cannot set: with the
        runtime's default policy, idle threads spin and two threads were several times
        slower than one on a shared machine. With ``OMP_WAIT_POLICY=PASSIVE`` in the
        environment before torch is imported (the ``graphclust`` command sets it),
        ``n_jobs=-1`` was the fastest (``benchmarks/results/threads.md``).

    Attributes
    ----------
    labels_ : ndarray of shape (n_nodes,)
        Cluster of each training node (argmax of :math:`Q` of the final model).
    cluster_centers_ : ndarray of shape (n_clusters, embedding_dim)
    embedding_ : ndarray of shape (n_nodes, embedding_dim)
        What the head clusters (normalised when ``normalize_embedding``).
    history_ : list of dict
        One entry per epoch of each stage: losses, fraction of changed labels, and
        ACC/NMI/ARI/F1 when labels were given to ``fit`` (never used for training), of
        the labels a joint-stage epoch started from
        (:class:`graphclust.training.loop.Schedule`; ``labels_`` are read after the last
        epoch); the
        start's held-out checks (phase ``"start-length"``: ``held_out_loss``, and
        ``held_out_rank``, the held-out partners' mean rank share, a score that does not
        depend on ``tau``; the chosen one ``kept``, the first with the ``gate`` the rule
        read them with, the one that showed erosion with its witness, ``eroded``:
        ``"loss"`` or ``"rank share"``; :mod:`graphclust.starts.held_out_rule`).
    n_iter_ : int
        Joint-stage epochs run (0 where the start found the edges teach nothing).
    start_length_ : int or None
        Steps the kept start trained (epochs for ``pretrain="autoencoder"``; 0 without a
        start). ``None`` where its held-out edges showed that the edges teach the encoder
        nothing, or the graph has no edges (its one ``"start-length"`` entry then has
        ``edges`` 0 and no loss): the model is then the features' principal directions
        (``pretrain="linear"``; whitened where the transform standardised the columns,
        ``LinearStart.whiten_untaught``), or the encoder's initial weights trained by the joint
        stage (``pretrain="contrastive"``), and the fit warned.
    batch_size_ : int or None
        The batch size trained with: ``None`` for full batch, else seeds per batch (what
        ``batch_size="auto"`` resolved to, the int given, or a given ``sampler``'s
        ``batch_size``; ``None`` for a sampler without one, whose memory is then estimated
        as full batch's). An int ``batch_size`` of N or more trains full batch and records
        ``None``; in a ``torch.distributed`` job an int or ``"auto"`` records at most one
        process's share of the N nodes. A given sampler's batch holds at most every node
        once, so its size of N or more trains on one batch of all N seeds.
    n_features_in_ : int
    fit_time_ : float
        Seconds spent in ``fit`` after input validation.

    Notes
    -----
    The defaults were chosen on DBLP and Cora (see ``benchmarks/results/``) and are the
    same for every graph. They differ from the paper's per-data-set settings: the
    paper's small :math:`\tau` leaves the contrastive loss nearly flat on raw features,
    and its autoencoder start needs a pretrained file that is not distributed.
    """

    _positive_kind = "power"
    _reconstruction = False

    _parameters = {**ContrastiveClusterer._parameters,
                   "hidden_dims": Param((256,), [at_least(1), "array-like"])}

    def _replaced_parameters(self) -> dict[str, tuple[str, ...]]:
        replaced = super()._replaced_parameters()
        if not self._needs_decoder():  # then hidden_dims only shapes the default encoder
            replaced["encoder"] = ("hidden_dims",)
        return replaced

    def _default_encoder(self) -> MLPConfig:
        return MLPConfig(hidden_dims=check_positive_ints("hidden_dims", self.hidden_dims))


def _with_shared_docs(cls: type) -> type:
    """Give ``cls`` the parameters, attributes and notes the two models share after its
    own summary, so that ``help(SCGCStar)`` and an IDE's hover list them (a class's
    docstring is not inherited)."""
    if cls.__doc__ is not None and _SCGCBase.__doc__ is not None:  # None under -OO
        shared = inspect.cleandoc(_SCGCBase.__doc__).split("\n", 1)[1]
        cls.__doc__ = f"{inspect.cleandoc(cls.__doc__)}\n{shared}"
    return cls


@_with_shared_docs
class SCGC(_SCGCBase):
    """SCGC: autoencoder + neighbour-contrastive loss with :math:`W = \\hat A^r`."""

    _positive_kind = "power"
    _reconstruction = True


@_with_shared_docs
class SCGCStar(_SCGCBase):
    """SCGC*: encoder only + influence-augmented contrastive loss,
    :math:`W = \\sum_{l \\le r} \\hat A^l`."""

    _positive_kind = "influence"
    _reconstruction = False
