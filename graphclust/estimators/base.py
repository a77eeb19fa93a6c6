"""Shared scikit-learn machinery for graphclust's clustering estimators.

An estimator composes the package's parts and knows none of their insides:

* the graph: :func:`graphclust.data.to_graph` (or a kNN graph for a plain matrix);
* the input transform: :class:`graphclust.data.transforms.FeatureTransform`;
* the encoder (subclasses build it), started by a pre-training stage;
* the objective: neighbour-contrastive / IAC loss and DEC's Student-t/KL clustering;
* the start of the centres: :func:`graphclust.kmeans.kmeans` on the embeddings;
* a label-free stopping rule (DEC's, over a window): stop when fewer than ``tol`` of the
  nodes changed cluster over the last ``check_interval`` epochs.

Labels passed to ``fit`` are never used for training or stopping: they only fill the
per-epoch metrics in ``history_`` (for curves and the optimistic "paper protocol").
"""

from __future__ import annotations

import time
import warnings
from contextlib import nullcontext
from numbers import Integral

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted
from torch_geometric.data import Data

from graphclust._progress import progress_bar
from graphclust.data.inputs import GraphInputWarning, to_graph
from graphclust.data.knn import METHODS as KNN_METHODS
from graphclust.data.knn import knn_graph
from graphclust.data.knn_inputs import warn_of_zero_rows
from graphclust.data.transforms import FeatureTransform
from graphclust.estimators.checks import (
    as_matrix,
    feature_names,
    resolve_device,
    user_stacklevel,
)
from graphclust.estimators.inference import GRAPHS, InferenceInputs
from graphclust.estimators.params import Param, at_least, is_default, with_parameters
from graphclust.estimators.persistence import PersistedFit
from graphclust.metrics import check_matching_size, evaluate
from graphclust.nn.heads import student_t_assignment
from graphclust.threads import limit_threads
from graphclust.training.parts import agreed_minimum, distributed_context

# resolve_device stays importable from here: the benchmark runner imports it so.
__all__ = ["BaseGraphClusterer", "resolve_device"]


def _is_fitted_name(name: str) -> bool:
    """scikit-learn's convention (as in ``check_is_fitted``): fitted attributes end in _."""
    return name.endswith("_") and not name.startswith("__")


def _without_fitted(attributes: dict) -> dict:
    return {key: value for key, value in attributes.items() if not _is_fitted_name(key)}


class BaseGraphClusterer(PersistedFit, InferenceInputs, ClusterMixin,
                         ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class: graph input, validation, seeding, the stopping rule and inference.

    Subclasses implement :meth:`_fit_graph` (train on a validated graph, return the fitted
    encoder and head) and :meth:`_embed` (encoder outputs for a feature matrix).
    """

    #: Why a fit can leave clusters empty, said in the fit's warning (a model that reads
    #: something else than features and training says its own).
    _few_clusters_cause = (
        "the embeddings have fewer distinct groups than clusters, because the features do "
        "(constant, all-zero or repeated rows) or because training merged clusters (edges "
        "that link nodes across clusters, e.g. a kNN graph with more n_neighbors than a "
        "cluster has nodes, or too high a learning rate)")

    #: name -> Param: the parameters every estimator has (subclasses extend the table).
    _parameters = {
        "n_clusters": Param(8, [at_least(2)]),
        "n_neighbors": Param(10, [at_least(1)]),
        "knn_method": Param("auto", [StrOptions(set(KNN_METHODS))]),
        "device": Param("auto", [str, torch.device]),
        "random_state": Param(None, ["random_state"]),
        "verbose": Param(False, ["verbose"]),
        "n_jobs": Param(None, [Integral, None]),
    }

    def _replaced_parameters(self) -> dict[str, tuple[str, ...]]:
        return {}  # part parameter -> the flat parameters a part object given there replaces

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_parameters" in vars(cls):
            with_parameters(cls)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_params(self, num_nodes: int) -> None:
        """The constraints table, then what depends on the data or on several parameters."""
        self._validate_params()
        if self.n_clusters > num_nodes:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of nodes ({num_nodes})"
            )
        for part, names in self._replaced_parameters().items():
            if getattr(self, part) is None:
                continue
            changed = [name for name in names if not is_default(
                getattr(self, name), type(self)._parameters[name].default)]
            if changed:
                raise ValueError(
                    f"{part}= replaces {', '.join(changed)}, which would be ignored: leave "
                    f"{'it' if len(changed) == 1 else 'them'} at the default or set "
                    f"{'it' if len(changed) == 1 else 'them'} in the {part} object")

    # ------------------------------------------------------------------ input
    def _graph(self, X, y=None, adjacency=None, fitted: bool = False) -> Data:
        """A validated graph; a plain feature matrix gets a kNN graph where fit reads one.
        ``fitted``: the graph this fitted model read from the same input (its kNN graph
        built again through ``transform_``); the input's warnings are not repeated."""
        if isinstance(X, GRAPHS) and (adjacency is not None or y is not None):
            raise ValueError("pass y and adjacency inside the Data object, not beside it")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            graph = to_graph(X) if isinstance(X, GRAPHS) \
                else to_graph(as_matrix(X), adjacency, y)
        for warning in [] if fitted else caught:  # at the user's fit(...) call, not here
            warnings.warn(warning.message, warning.category, stacklevel=user_stacklevel())
        if graph.num_nodes < 2:
            raise ValueError(f"need at least 2 nodes to cluster, got n_samples={graph.num_nodes}")
        if fitted:
            self._check_feature_width(graph.x.shape[1])
        # Given edges, or a model that reads none at fit (a kNN graph nothing reads: no search)
        if isinstance(X, GRAPHS) or adjacency is not None or not self._reads_edges_at_fit():
            return graph
        if fitted:
            return self._with_knn_graph(graph, fitted=True)
        self._validate_params()  # n_neighbors and knn_method, before the kNN graph uses them
        return self._with_knn_graph(graph)

    def _with_knn_graph(self, graph: Data, fitted: bool = False) -> Data:
        """``graph`` with the kNN graph of its rows as the model reads them: after
        ``transform_`` (at fit, fitted here on these rows from the ``features`` parameter,
        and kept for the model), so that a column in large units does not choose every
        neighbour (benchmarks/results/notes_part5.md). Models fitted before graphclust
        recorded ``_knn_rows_`` (saved or pickled) built it on the raw rows."""
        rows = graph.x
        if not fitted:
            self.transform_ = FeatureTransform(getattr(self, "features", "none")).fit(rows)
        if not fitted or getattr(self, "_knn_rows_", "raw") == "transformed":
            rows = self.transform_.transform(rows)
        k = min(self.n_neighbors, graph.num_nodes - 1)
        if not fitted:  # said once, at fit
            warn_of_zero_rows(rows)
            if k < self.n_neighbors:
                warnings.warn(f"n_neighbors={self.n_neighbors} but X has {graph.num_nodes} "
                              f"rows: the kNN graph joins every row to the other {k}",
                              GraphInputWarning, stacklevel=user_stacklevel())
        graph.edge_index = knn_graph(rows, k=k, metric="cosine", method=self.knn_method)
        graph.knn_graph = True
        return graph

    def _uses_graph(self) -> bool:
        """Whether inference reads the edges (message passing or propagated features:
        transductive)."""
        return False

    def _reads_edges_at_fit(self) -> bool:
        """Whether ``fit`` reads edges; where not, a plain matrix gets no kNN graph."""
        return True

    #: Whether ``fit`` trains one model across the processes of a torch.distributed job.
    _trains_across_processes = False

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, adjacency=None):
        """Cluster the nodes of a graph.

        Parameters
        ----------
        X : torch_geometric.data.Data or array-like of shape (n_nodes, n_features)
            The graph, or its node features (numpy, torch or scipy sparse).
        y : array-like of shape (n_nodes,), optional
            Ground-truth labels. Never used for training or stopping; when given,
            ``history_`` records ACC/NMI/ARI/F1 per epoch. A ``Data``'s own ``y`` is
            used the same way.
        adjacency : optional
            Edges when ``X`` is a feature matrix (scipy/dense matrix, ``(2, E)`` edge
            index or networkx graph). Without it a cosine kNN graph with
            ``n_neighbors`` neighbours is built, so plain tabular data works too.

        Returns
        -------
        self
        """
        # All or nothing: a copy without fitted attributes trains, and its fitted attributes
        # replace ours in one assignment at the end, so an exception or Ctrl-C during fit
        # leaves the previous fit (or an unfitted estimator) exactly as it was.
        work = type(self).__new__(type(self))
        work.__dict__ = _without_fitted(vars(self))
        with limit_threads(self.n_jobs):  # validates n_jobs before any work
            work._fit(X, y, adjacency)
        self.__dict__ = {**_without_fitted(vars(self)),
                         **{key: value for key, value in vars(work).items()
                            if _is_fitted_name(key)}}
        return self

    def _fit(self, X, y, adjacency) -> None:
        """The work of :meth:`fit`, on an estimator that nobody else sees yet."""
        names = feature_names(X)  # refuses mixed names before any work
        graph = self._graph(X, y, adjacency)
        self._check_params(graph.num_nodes)
        if names is not None:  # as scikit-learn: predict then checks its columns' names
            self.feature_names_in_ = names
        self.device_ = resolve_device(self.device)
        self.n_features_in_ = int(graph.x.shape[1])
        self.knn_graph_, self._knn_rows_ = bool(getattr(graph, "knn_graph", False)), "transformed"
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if self._trains_across_processes:
            # One seed for every process of a torch.distributed job: with their own
            # (random_state=None) they would hold out other edges and stop at other
            # epochs. Only models that train across processes ask: a collective call in a
            # baseline that one process fits alone would wait forever.
            seed = agreed_minimum(seed, self.device_)
        # Labels only score the epochs in history_; converted once, not every epoch.
        labels = graph.y.cpu().numpy() if getattr(graph, "y", None) is not None else None
        if labels is not None:
            try:  # before training: the first epoch's scores had raised it
                check_matching_size(np.unique(labels).size, self.n_clusters)
            except ValueError as error:
                raise ValueError(f"graph.y scores history_'s epochs, and {error}; leave y "
                                 "out of the graph to train without the scores") from None
        devices = [self.device_] if self.device_.type == "cuda" else []
        start = time.perf_counter()
        with torch.random.fork_rng(devices=devices):
            # The generators that fork_rng restores, and no other: torch.manual_seed would
            # also reseed every GPU, the caller's included, on a CPU fit.
            torch.random.default_generator.manual_seed(seed)
            if devices:
                with torch.cuda.device(self.device_):
                    torch.cuda.manual_seed(seed)
            self._fit_graph(graph.to(self.device_), seed, labels)
        self.fit_time_ = time.perf_counter() - start
        self._inference_params_ = self._inference_params()
        found = len(np.unique(self.labels_))
        if found < self.n_clusters:  # as scikit-learn's KMeans, never silently
            warnings.warn(
                f"only {found} of n_clusters={self.n_clusters} clusters are non-empty: "
                f"{self._few_clusters_cause}", ConvergenceWarning,
                stacklevel=user_stacklevel())

    def _fit_graph(self, graph: Data, seed: int, labels: np.ndarray | None) -> None:
        raise NotImplementedError

    def _fit_transform_features(self, graph: Data) -> torch.Tensor:
        """Fit ``transform_`` (parameter ``features``) on the graph's features and return
        them transformed; the degree lets ``"auto"`` recognise a degree code. A kNN graph
        built from these features keeps the transform that built it
        (:meth:`_with_knn_graph`): its degrees say nothing of the features."""
        if not getattr(graph, "knn_graph", False):
            self.transform_ = FeatureTransform(self.features).fit_graph(graph)
        return self.transform_.transform(graph.x)

    def _record(self, entry: dict, predicted: torch.Tensor, labels) -> dict:
        """Append one epoch to ``history_``; metrics only when labels were given."""
        if labels is not None:
            entry.update(evaluate(labels, predicted.cpu().numpy()))
        self.history_.append(entry)
        return entry

    def _speaks(self) -> bool:
        """Whether this process writes ``verbose`` output: in a distributed job only rank 0
        does, so that a ``torchrun`` fit reports once, not once per process."""
        return bool(self.verbose) and distributed_context()[0] == 0

    def _report(self, message: str) -> None:
        """One line about the fit when ``verbose`` (written above any progress bar)."""
        if self._speaks():
            from tqdm.auto import tqdm

            tqdm.write(message)

    def _progress(self, total: int, description: str):
        if not self._speaks():
            return nullcontext(None)
        return progress_bar(total=total, desc=description, leave=False)

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def _soft_assignments(self, X, adjacency=None) -> tuple[torch.Tensor, torch.Tensor]:
        check_is_fitted(self, "cluster_centers_")
        self._check_inference_params()
        with limit_threads(self.n_jobs):
            return self._assign(X, adjacency)

    def _assign(self, X, adjacency) -> tuple[torch.Tensor, torch.Tensor]:
        x, edge_index = self._inference_graph(X, adjacency)
        z = self._embed(x.to(self.device_),
                        None if edge_index is None else edge_index.to(self.device_))
        centers = torch.as_tensor(self.cluster_centers_, device=z.device)
        return z, student_t_assignment(z, centers)

    def _embed(self, x: torch.Tensor, edge_index: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, X, adjacency=None) -> np.ndarray:
        """Cluster index of each node (argmax of the Student-t assignment).

        ``X`` as in :meth:`fit`; ``adjacency`` is read only by models that read the graph
        at inference (message passing, propagated features, degrees). Such a model fitted
        on a given graph needs the nodes' graph (a ``Data`` or ``adjacency``); one fitted
        on a kNN graph it built of a plain matrix (``knn_graph_``) builds it again of
        ``X``'s rows and refuses a given graph, whose edges would be read in its place
        (:mod:`graphclust.estimators.inference`).
        """
        return self._soft_assignments(X, adjacency)[1].argmax(1).cpu().numpy()

    def predict_proba(self, X, adjacency=None) -> np.ndarray:
        """Student-t soft assignments :math:`Q`, shape ``(n, n_clusters)``."""
        return self._soft_assignments(X, adjacency)[1].cpu().numpy()

    def transform(self, X, adjacency=None) -> np.ndarray:
        """The embeddings the head clusters, shape ``(n, embedding_dim)``: the encoder's
        output, on the unit sphere where ``normalize_embedding`` (the default) asks it."""
        return self._soft_assignments(X, adjacency)[0].cpu().numpy()

    @property
    def _n_features_out(self) -> int:
        """Columns of :meth:`transform`, which ``get_feature_names_out`` names
        (``scgcstar0``, ``scgcstar1``, ...)."""
        return self.embedding_.shape[1]

    def fit_transform(self, X, y=None, adjacency=None) -> np.ndarray:
        return self.fit(X, y, adjacency=adjacency).embedding_

    def fit_predict(self, X, y=None, adjacency=None) -> np.ndarray:
        return self.fit(X, y, adjacency=adjacency).labels_
