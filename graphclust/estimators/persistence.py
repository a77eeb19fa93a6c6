"""Saving and restoring a fitted estimator: the hooks :mod:`graphclust.io` calls.

:class:`PersistedFit` turns a fitted estimator into named tensors and JSON metadata
(:meth:`~PersistedFit._fitted_tensors`, :meth:`~PersistedFit._fitted_metadata`) and
rebuilds one from them (:meth:`~PersistedFit._restore`) after checking every tensor's
dtype and shape against what the parameters imply (:meth:`~PersistedFit._tensor_spec`):
nothing read from a file sizes memory or runs code. Estimators add their own tensors
(``_model_tensors``, ``_restore_model``) and extend the spec and the metadata;
:class:`PersistedNetworks` does so for the contrastive clusterers' networks.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils._param_validation import validate_parameter_constraints
from torch import nn

from graphclust.data.transforms import SCALED_KINDS, SHIFTED_KINDS, FeatureTransform
from graphclust.estimators.params import at_least
from graphclust.io_checks import TensorSpec, check_tensors, tensors_at_most
from graphclust.nn.heads import StudentTHead
from graphclust.starts import start_length

__all__ = ["PersistedFit", "PersistedNetworks"]


class PersistedFit:
    """The persistence half of :class:`graphclust.estimators.base.BaseGraphClusterer`,
    and the parameters a fit's answers depend on after it."""

    #: Parameters inference reads beside the fitted attributes: changed by ``set_params``
    #: after a fit, they would change ``predict``'s answer without a refit (and a saved
    #: file would pair them with tensors fitted under others).
    _read_at_inference: tuple[str, ...] = ()

    def _rebuilds_knn_graph(self) -> bool:
        """Whether ``predict`` builds a kNN graph of its rows: inference reads edges, and
        fit built such a graph (the counterpart of ``_needs_given_graph``)."""
        return self._uses_graph() and bool(getattr(self, "knn_graph_", False))

    def _inference_params(self) -> dict:
        """The current values of :attr:`_read_at_inference`, and ``n_neighbors`` where
        ``predict`` builds a kNN graph of its rows (:meth:`_rebuilds_knn_graph`)."""
        names = self._read_at_inference
        if self._rebuilds_knn_graph():
            names = (*names, "n_neighbors")
        return {name: getattr(self, name) for name in names}

    def _check_inference_params(self) -> None:
        """Refuse to predict or save with a parameter inference reads changed since fit."""
        fitted = getattr(self, "_inference_params_", None)  # absent: fitted before it
        if fitted is None:
            return
        changed = [f"{name}={value!r} (fitted with {fitted[name]!r})"
                   for name, value in self._inference_params().items()
                   if name in fitted and not value == fitted[name]]
        if changed:
            raise ValueError(
                f"{type(self).__name__} has {', '.join(changed)}: inference reads it, so "
                "set it back, or fit again")

    def _model_tensors(self) -> dict[str, torch.Tensor]:
        """Model-specific fitted tensors by name (subclasses)."""
        raise NotImplementedError

    def _restore_model(self, tensors: dict[str, torch.Tensor]) -> None:
        """Rebuild the model-specific fitted parts from :meth:`_model_tensors`."""
        raise NotImplementedError

    def _fitted_tensors(self) -> dict[str, torch.Tensor]:
        """Every fitted tensor by name (see :mod:`graphclust.io`)."""
        tensors = dict(self._model_tensors())
        for key, value in self.transform_.state_dict().items():
            if isinstance(value, torch.Tensor):
                tensors[f"transform.{key}"] = value
        for name in ("labels_", "embedding_", "cluster_centers_"):
            tensors[name] = torch.as_tensor(getattr(self, name))
        return {k: v.detach().cpu() for k, v in tensors.items()}

    def _fitted_metadata(self) -> dict:
        """JSON-serialisable fitted attributes."""
        self._check_inference_params()
        names = getattr(self, "feature_names_in_", None)
        return {"n_features_in_": self.n_features_in_, "n_iter_": self.n_iter_,
                "knn_graph_": self.knn_graph_,
                "knn_rows": getattr(self, "_knn_rows_", "raw"),
                "history_": self.history_, "transform_kind": self.transform_.kind_,
                "fit_time_": self.fit_time_,
                "feature_names_in_": None if names is None else names.tolist()}

    def _tensor_spec(self, metadata: dict) -> TensorSpec:
        """Dtype and shape of every saved tensor, implied by the parameters and
        ``metadata`` (subclasses add their own); see :func:`graphclust.io_checks.check_tensors`.
        """
        spec = {"labels_": (("n",), torch.int64), "embedding_": (("n", "d"), torch.float32),
                "cluster_centers_": ((self.n_clusters, "d"), torch.float32)}
        width = (self.n_features_in_,)
        if metadata["transform_kind"] in SCALED_KINDS:
            spec["transform.scale"] = (width, torch.float32)
        if metadata["transform_kind"] in SHIFTED_KINDS:
            spec["transform.shift"] = (width, torch.float32)
        return spec

    def _restore(self, tensors: dict[str, torch.Tensor], metadata: dict) -> None:
        """Rebuild a fitted estimator from :meth:`_fitted_tensors` and the metadata.

        Called on a new estimator by :func:`graphclust.io.load`, which has checked the
        parameters and the metadata (``check_fitted_metadata``) on their own; every
        tensor is checked against them here before anything is built from them.
        """
        labels = tensors.get("labels_")
        num_nodes = labels.shape[0] if labels is not None and labels.dim() == 1 else 2**62
        self.n_features_in_ = metadata["n_features_in_"]
        # On the meta device building the expected modules allocates nothing, whatever
        # sizes the file's parameters ask for; the real build comes after the check.
        # Every parameter and persistent buffer is one of the file's tensors. The check
        # registers them twice where the start grows the encoder from its linear map
        # (LinearStart.check builds both), plus a non-persistent buffer a group-sparse
        # layer: twice the file's count and a margin covers the configurations saved.
        with torch.device("meta"), tensors_at_most(2 * len(tensors) + 16):
            self._check_params(num_nodes)
            spec = self._tensor_spec(metadata)
        check_tensors(tensors, spec)
        if bool(((labels < 0) | (labels >= self.n_clusters)).any()):
            raise ValueError(f"tensor labels_ holds values outside 0..{self.n_clusters - 1}")
        self.n_iter_ = metadata["n_iter_"]
        self.knn_graph_ = metadata["knn_graph_"]
        self._knn_rows_ = metadata.get("knn_rows") or "raw"  # absent: saved before it
        self.history_ = list(metadata["history_"])
        self.fit_time_ = float(metadata["fit_time_"])
        self._inference_params_ = self._inference_params()  # the file's parameters
        if metadata.get("feature_names_in_") is not None:
            self.feature_names_in_ = np.asarray(metadata["feature_names_in_"], dtype=object)
        self.device_ = torch.device("cpu")
        # The transform was fitted on the fit's features: its width is n_features_in_,
        # a field every file holds (checked above), so no file needs one of its own.
        self.transform_ = FeatureTransform.from_state_dict(
            {"kind": metadata["transform_kind"], "shift": tensors.get("transform.shift"),
             "scale": tensors.get("transform.scale"),
             "n_features_in": self.n_features_in_}
        )
        self.labels_ = tensors["labels_"].numpy()
        self.embedding_ = tensors["embedding_"].numpy()
        self.cluster_centers_ = tensors["cluster_centers_"].numpy()
        self._restore_model(tensors)

    def save(self, path) -> None:
        """Write the fitted estimator to ``path`` (see :func:`graphclust.io.save`)."""
        from graphclust.io import save

        save(self, path)


class PersistedNetworks(PersistedFit):
    """The saved parts of a contrastive clusterer: its encoder, Student-t head and (with
    reconstruction) decoder as named tensors, and ``batch_size_``. Rebuilt from the
    estimator's own parameters (``_build_encoder``, ``_decoder``, ``_objective_part``),
    so a file's tensors must fit networks its parameters describe."""

    def _model_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {f"encoder.{k}": v for k, v in self.encoder_.state_dict().items()}
        tensors.update({f"head.{k}": v for k, v in self.head_.state_dict().items()})
        if self.decoder_ is not None:
            tensors.update({f"decoder.{k}": v for k, v in self.decoder_.state_dict().items()})
        return tensors

    def _fresh_modules(self) -> dict[str, nn.Module]:
        """New encoder, head and (with reconstruction) decoder, by name prefix, as a saved
        model's tensors describe them."""
        modules = {"encoder": self._build_encoder(),
                   "head": StudentTHead(self.n_clusters, int(self.embedding_dim))}
        if self._objective_part().reconstruction is not None:
            modules["decoder"] = self._decoder()
        return modules

    def _tensor_spec(self, metadata: dict):
        spec = super()._tensor_spec(metadata)
        dim = int(self.embedding_dim)
        spec["embedding_"] = (("n", dim), torch.float32)
        spec["cluster_centers_"] = ((self.n_clusters, dim), torch.float32)
        for prefix, module in self._fresh_modules().items():
            spec.update({f"{prefix}.{key}": (tuple(value.shape), value.dtype)
                         for key, value in module.state_dict().items()})
        return spec

    def _fitted_metadata(self) -> dict:
        return {**super()._fitted_metadata(), "batch_size_": self.batch_size_}

    def _restore(self, tensors: dict[str, torch.Tensor], metadata: dict) -> None:
        recorded = isinstance(metadata, dict) and "batch_size_" in metadata
        if recorded:
            validate_parameter_constraints(
                {"batch_size_": [at_least(1), None]}, {"batch_size_": metadata["batch_size_"]},
                caller_name="the model file's fitted attributes")
        super()._restore(tensors, metadata)
        self.start_length_ = start_length(self.history_)
        if recorded:
            self.batch_size_ = metadata["batch_size_"]
        else:  # saved before batch_size_ was recorded, when batch_size was an int or None
            fitted_batch = self.batch_size if isinstance(self.batch_size, int) else None
            self.batch_size_ = fitted_batch if fitted_batch is not None and \
                fitted_batch < len(self.labels_) else None

    def _restore_model(self, tensors: dict[str, torch.Tensor]) -> None:
        modules = self._fresh_modules()
        for prefix, module in modules.items():
            module.load_state_dict({key[len(prefix) + 1:]: value for key, value in
                                    tensors.items() if key.startswith(f"{prefix}.")})
        self.encoder_, self.head_ = modules["encoder"], modules["head"]
        self.decoder_ = modules.get("decoder")
