"""Save and load fitted estimators without pickle.

A model file is a zip archive with two members:

``graphclust.json``
    UTF-8 JSON: ``format`` (``"graphclust-model"``), ``format_version``, the
    ``graphclust_version`` that wrote it, the registry name of the ``model`` (a key of
    :data:`graphclust.MODELS`), its constructor ``params`` and the JSON-able fitted
    attributes (``fitted``: iteration count, training history, ...). Readable with any zip
    tool: ``unzip -p model.graphclust graphclust.json``.
``tensors.pt``
    A ``{name: tensor}`` dictionary written by :func:`torch.save` and read back with
    ``torch.load(..., weights_only=True)``, which refuses anything but tensors and plain
    containers, so loading a file never runs code stored in it.

Tuples in the parameters (``hidden_dims=(500, 500, 2000)``) are stored as
``{"__tuple__": [...]}`` and encoder configurations (``encoder=MLPConfig(...)``) as
``{"__config__": "module:Class", "fields": {...}}`` (only graphclust classes are imported
back), so that the loaded estimator has exactly the saved parameters.

A file written by another graphclust version is refused with a :class:`ValueError` (the
fitted attributes an estimator needs may differ between versions): refit, or load it with
the version named in the message.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import torch

import graphclust
from graphclust.estimators import MODELS

__all__ = ["FORMAT", "FORMAT_VERSION", "load", "save"]

#: Value of the ``format`` field that marks a graphclust model file.
FORMAT = "graphclust-model"
#: Layout version of the archive; bumped when the members or their fields change.
FORMAT_VERSION = 1

_HEADER = "graphclust.json"
_TENSORS = "tensors.pt"


def _registry_name(estimator) -> str:
    for name, cls in MODELS.items():
        if type(estimator) is cls:
            return name
    raise ValueError(
        f"{type(estimator).__name__} is not a registered model ({', '.join(MODELS)}); "
        "only estimators in graphclust.MODELS can be saved"
    )


def _encode(name: str, value):
    """JSON-able form of one parameter value; tuples are tagged to come back as tuples,
    encoder configurations (graphclust dataclasses) by import path and fields."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith("graphclust."):
            raise TypeError(f"parameter {name}: {cls.__name__} is not a graphclust "
                            "configuration, so it cannot be saved")
        return {"__config__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: _encode(f"{name}.{f.name}", getattr(value, f.name))
                           for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(name, item) for item in value]}
    if isinstance(value, list):
        return [_encode(name, item) for item in value]
    raise TypeError(
        f"parameter {name}={value!r} cannot be saved as JSON; use None, a number, a string "
        "or a tuple/list of them (for random_state: an int or None)"
    )


def _decode(value):
    if isinstance(value, dict) and set(value) == {"__tuple__"}:
        return tuple(_decode(item) for item in value["__tuple__"])
    if isinstance(value, dict) and set(value) == {"__config__", "fields"}:
        module_name, _, qualname = value["__config__"].partition(":")
        if not module_name.startswith("graphclust."):  # never import code named by a file
            raise ValueError(f"configuration class {value['__config__']!r} is not graphclust's")
        cls = getattr(importlib.import_module(module_name), qualname)
        return cls(**{key: _decode(item) for key, item in value["fields"].items()})
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def save(estimator, path: str | os.PathLike) -> None:
    """Write a fitted estimator to ``path`` (see the module docstring for the format).

    The file is written to a temporary name in the same folder and then renamed, so an
    interrupted save never leaves a half-written model under ``path``.

    Parameters
    ----------
    estimator : BaseGraphClusterer
        A fitted estimator whose class is registered in :data:`graphclust.MODELS`.
    path : str or path-like
        Destination file; its folder must exist.

    Raises
    ------
    ValueError
        The estimator is not registered or its folder does not exist.
    TypeError
        The estimator's class does not implement the persistence hooks
        (``_fitted_tensors``, ``_fitted_metadata``, ``_restore``), or a parameter (e.g. a
        ``numpy.random.RandomState`` as ``random_state``) has no JSON form.
    sklearn.exceptions.NotFittedError
        The estimator is not fitted.
    """
    from sklearn.utils.validation import check_is_fitted

    name = _registry_name(estimator)
    hooks = ("_fitted_tensors", "_fitted_metadata", "_restore")
    if not all(hasattr(estimator, hook) for hook in hooks):
        raise TypeError(
            f"{type(estimator).__name__} ({name!r}) does not support saving: it lacks "
            f"{', '.join(hook for hook in hooks if not hasattr(estimator, hook))}"
        )
    check_is_fitted(estimator, "cluster_centers_")
    params = {key: _encode(key, value)
              for key, value in estimator.get_params(deep=False).items()}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "graphclust_version": graphclust.__version__,
        "model": name,
        "params": params,
        "fitted": estimator._fitted_metadata(),
    }
    tensors = io.BytesIO()
    torch.save(estimator._fitted_tensors(), tensors)

    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"cannot save to {path}: folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_HEADER, json.dumps(header, indent=1))
            archive.writestr(_TENSORS, tensors.getvalue())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _read_header(archive: zipfile.ZipFile, path: Path) -> dict:
    if _HEADER not in archive.namelist():
        raise ValueError(f"{path} is not a graphclust model file (no {_HEADER} inside)")
    try:
        header = json.loads(archive.read(_HEADER).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path} is corrupted: unreadable {_HEADER} ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a graphclust model file (format field missing)")
    if header.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has model format version {header.get('format_version')!r}; this "
            f"graphclust ({graphclust.__version__}) reads version {FORMAT_VERSION}"
        )
    saved_by = header.get("graphclust_version")
    if saved_by != graphclust.__version__:
        raise ValueError(
            f"{path} was saved by graphclust {saved_by}, this is graphclust "
            f"{graphclust.__version__}; refit the model or load it with graphclust {saved_by}"
        )
    missing = {"model", "params", "fitted"} - set(header)
    if missing:
        raise ValueError(f"{path} is corrupted: {_HEADER} lacks {', '.join(sorted(missing))}")
    return header


def load(path: str | os.PathLike):
    """Read an estimator written by :func:`save` (or ``estimator.save``).

    The loaded estimator lives on the CPU and predicts exactly as the saved one did.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    BaseGraphClusterer
        A fitted estimator of the saved class with the saved parameters.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is not a graphclust model file, is corrupted or truncated, holds
        anything other than tensors in its tensor member, was written by another
        graphclust version or format version, or names a model that is not registered.

    Examples
    --------
    >>> from graphclust import SCGCStar, load_dataset
    >>> from graphclust.io import load
    >>> graph = load_dataset("karate")
    >>> model = SCGCStar(2, max_epochs=2, pretrain_epochs=1, random_state=0).fit(graph)
    >>> model.save("karate.graphclust")  # doctest: +SKIP
    >>> (load("karate.graphclust").predict(graph) == model.predict(graph)).all()  # doctest: +SKIP
    True
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            header = _read_header(archive, path)
            if _TENSORS not in archive.namelist():
                raise ValueError(f"{path} is corrupted: no {_TENSORS} inside")
            payload = archive.read(_TENSORS)
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not a graphclust model file (not a zip archive, or "
                         "truncated/corrupted)") from None

    name = header["model"]
    if name not in MODELS:
        raise ValueError(
            f"{path} holds model {name!r}, which this graphclust does not know "
            f"(registered: {', '.join(MODELS)})"
        )
    try:
        tensors = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for unreadable or unsafe data
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"{path} is corrupted or unsafe: its tensors cannot be read with "
            f"weights_only=True ({type(error).__name__}: {first_line})"
        ) from None
    if not isinstance(tensors, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor)
        for key, value in tensors.items()
    ):
        raise ValueError(f"{path} is corrupted: {_TENSORS} is not a name -> tensor mapping")

    try:
        params = {key: _decode(value) for key, value in header["params"].items()}
    except (ImportError, AttributeError, TypeError, ValueError) as error:
        raise ValueError(f"{path} has a parameter this graphclust cannot rebuild: {error}") \
            from None
    try:
        estimator = MODELS[name](**params)
    except TypeError as error:
        raise ValueError(f"{path} has parameters {name!r} does not take: {error}") from None
    try:
        estimator._restore(tensors, header["fitted"])
    except (KeyError, RuntimeError, TypeError, ValueError) as error:
        raise ValueError(
            f"{path} is corrupted: its tensors do not fit a {name!r} model ({error})"
        ) from None
    return estimator
