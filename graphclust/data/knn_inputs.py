"""The points a kNN search reads, checked: a dense real matrix, finite, a valid k, and
rows without a direction (all zeros), which a cosine search cannot place."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from graphclust._arrays import tensor_of
from graphclust._checks import check_integer
from graphclust._warnings import user_stacklevel

__all__ = ["check_k", "feature_tensor", "warn_of_zero_rows"]


def feature_tensor(X, device: str | torch.device | None) -> torch.Tensor:
    """Validate ``X`` and return it as a float32/float64 tensor on the target device."""
    is_sparse_tensor = isinstance(X, torch.Tensor) and X.layout != torch.strided
    if hasattr(X, "tocsr") or is_sparse_tensor:
        raise TypeError("X must be dense; convert sparse features with .toarray() / .to_dense()")
    if isinstance(X, torch.Tensor):
        features = X.detach()
    else:
        array = np.asarray(X)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"X must hold real numbers, got numpy dtype {array.dtype}")
        features = tensor_of(array)
    if features.is_complex() or not (features.is_floating_point() or _is_integer(features)):
        raise TypeError(f"X must hold real numbers, got {features.dtype}")
    if features.dim() != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features), got shape {tuple(features.shape)}"
        )
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise ValueError(f"X must be non-empty, got shape {tuple(features.shape)}")
    dtype = torch.float64 if features.dtype == torch.float64 else torch.float32
    target_device = features.device if device is None else torch.device(device)
    features = features.to(device=target_device, dtype=dtype)
    if not torch.isfinite(features).all():
        n_nan = int(torch.isnan(features).sum())
        n_inf = int(torch.isinf(features).sum())
        raise ValueError(f"X must be finite, found {n_nan} NaN and {n_inf} inf values")
    return features


def _is_integer(tensor: torch.Tensor) -> bool:
    return not tensor.is_floating_point() and not tensor.is_complex()


def check_k(k: int, n_samples: int) -> None:
    check_integer("k", k)
    if not 1 <= k < n_samples:
        raise ValueError(
            f"k must satisfy 1 <= k < n_samples = {n_samples} (a point is not its own "
            f"neighbour), got k={k}"
        )


def warn_of_zero_rows(features: torch.Tensor) -> None:
    """A row of zeros has no direction: its cosine neighbours would be arbitrary (ties,
    broken by index), so say how many there are."""
    zero = ~features.ne(0).any(dim=1)
    if bool(zero.any()):
        first = torch.nonzero(zero).flatten()[:5].tolist()
        warnings.warn(
            f"{int(zero.sum())} of {len(features)} rows are all zeros (first rows: {first}): "
            "their cosine neighbours are arbitrary; drop them, or give them features",
            UserWarning, stacklevel=user_stacklevel())
