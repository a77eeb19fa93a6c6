"""Save and load fitted estimators without pickle.

A model file is a zip archive with two members:

``graphclust.json``
    UTF-8 JSON: ``format`` (``"graphclust-model"``), ``format_version``, the
    ``graphclust_version`` that wrote it, the registry name of the ``model`` (a key of
    :data:`graphclust.MODELS`), its constructor ``params`` and the JSON-able fitted
    attributes (``fitted``: iteration count, training history, ...). Readable with any zip
    tool: ``unzip -p model.graphclust graphclust.json``.
``tensors.safetensors``
    The fitted tensors by name in the `safetensors <https://huggingface.co/docs/safetensors>`_
    format: a JSON header of names, dtypes, shapes and offsets, checked against the
    member's size, then raw little-endian data. No pickle is involved.

Parameters are plain JSON; encoder configurations are stored by name and fields and built
back only from an explicit list of graphclust's configuration classes
(:mod:`graphclust.io_params`), so loading a file never imports or runs code it names.
Nothing in a file sizes memory unchecked: every member's declared and inflated size is
limited by ``max_bytes`` (:mod:`graphclust.io_checks`), the JSON header's by a sixteenth of
it (:data:`HEADER_SHARE`), and every tensor is compared with the dtype and shape the saved
parameters imply and must be finite, or loading fails with a :class:`ValueError` naming
the file, the member and the tensor.

Files of format version 1 (graphclust 0.1.0 before this format; tensors written by
``torch.save``) are refused with a message saying to refit: reading them needs torch's
unpickler, which is exactly what this format avoids. A file written by another graphclust
version is refused too (the fitted attributes an estimator needs may differ between
versions): refit, or load it with the version named in the message.
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

import graphclust
from graphclust import registry
from graphclust._checks import check_integer
from graphclust.estimators.checks import check_fitted_metadata
from graphclust.io_checks import check_tensors, read_member
from graphclust.io_params import decode_param, encode_param
from graphclust.threads import effective_n_jobs

__all__ = ["FORMAT", "FORMAT_VERSION", "HEADER_SHARE", "MAX_BYTES", "load", "save"]

#: Value of the ``format`` field that marks a graphclust model file.
FORMAT = "graphclust-model"
#: Layout version of the archive; bumped when the members or their fields change.
FORMAT_VERSION = 2
#: Default limit on any one member's size when loading (1 GiB); pass ``max_bytes`` to
#: :func:`load` for a larger model (e.g. the embedding of millions of nodes).
MAX_BYTES = 1 << 30

#: The header member may take ``max_bytes // HEADER_SHARE`` bytes (64 MiB by default; at
#: least 1 MiB, at most ``max_bytes``). Parsed, JSON takes up to 25 times its size (each
#: ``{},`` of ``[{}, {}, ...]`` is a 72-byte dict): a 93 kB file whose header inflated to
#: 30 MB of them had taken 770 MB to read, and a 1 GiB header would take 26 GiB. A real
#: header holds the parameters, the training history and the feature names (about 20
#: bytes a name: 64 MiB is three million of them).
HEADER_SHARE = 16

_HEADER = "graphclust.json"
_TENSORS = "tensors.safetensors"


def _registry_name(estimator) -> str:
    for name, cls in registry.MODELS.items():
        if type(estimator) is cls:
            return name
    raise ValueError(
        f"{type(estimator).__name__} is not a registered model "
        f"({', '.join(registry.MODELS)}); "
        "only estimators in graphclust.MODELS can be saved"
    )


def _create_private(folder: Path, name: str) -> Path:
    """A new empty file in ``folder`` with the permissions the umask gives (mkstemp would
    give 0600 whatever the umask)."""
    for _ in range(100):
        candidate = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"could not create a temporary file in {folder}")


def save(estimator, path: str | os.PathLike) -> None:
    """Write a fitted estimator to ``path`` (see the module docstring for the format).

    The file is written to a temporary name in the same folder and then renamed, so an
    interrupted save never leaves a half-written model under ``path``. It gets the
    permissions of any new file (``0666`` less the umask).

    Parameters
    ----------
    estimator : BaseGraphClusterer
        A fitted estimator whose class is registered in :data:`graphclust.MODELS`.
    path : str or path-like
        Destination file; its folder must exist.

    Raises
    ------
    ValueError
        The estimator is not registered, its folder does not exist, or its fitted tensors
        do not match its parameters (changed after fit) or are not finite.
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
    params = {key: encode_param(key, value)
              for key, value in estimator.get_params(deep=False).items()}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "graphclust_version": graphclust.__version__,
        "model": name,
        "params": params,
        "fitted": estimator._fitted_metadata(),
    }
    fitted = estimator._fitted_tensors()
    try:  # what load will check, so that a file save writes always loads
        with torch.device("meta"):
            spec = estimator._tensor_spec(header["fitted"])
        check_tensors(fitted, spec)
    except ValueError as error:
        raise ValueError(
            f"cannot save this {type(estimator).__name__}: its fitted state does not match "
            f"its parameters ({error}); if parameters were changed after fit, refit first"
        ) from None
    # safetensors refuses views sharing memory: every tensor gets its own storage.
    tensors = save_safetensors({key: value.contiguous().clone()
                                for key, value in fitted.items()})

    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(f"cannot save to {path}: folder {path.parent} does not exist")
    temporary = _create_private(path.parent, path.name)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_HEADER, json.dumps(header, indent=1))
            archive.writestr(_TENSORS, tensors)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _read_header(archive: zipfile.ZipFile, path: Path, max_bytes: int) -> dict:
    if _HEADER not in archive.namelist():
        raise ValueError(f"{path} is not a graphclust model file (no {_HEADER} inside)")
    limit = min(max_bytes, max(max_bytes // HEADER_SHARE, 1 << 20))
    # Named only where the header has a limit of its own: under 1 MiB it is max_bytes.
    note = f" (a header's: 1/{HEADER_SHARE} of max_bytes, at least 1 MiB)" \
        if limit < max_bytes else ""
    raw = read_member(archive, _HEADER, str(path), limit, note=note)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # ValueError: bad UTF-8 or JSON, or an
        # integer past Python's 4,300-digit limit on reading one
        raise ValueError(f"{path} is corrupted: member {_HEADER} is not UTF-8 JSON "
                         f"({type(error).__name__}: {error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a graphclust model file (format field missing)")
    if header.get("format_version") == 1:
        raise ValueError(
            f"{path} has model format version 1, whose tensors were written with torch.save; "
            "this graphclust no longer reads it because that needs torch's unpickler. "
            "Refit the model and save it again"
        )
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
    if not isinstance(header["params"], dict) or not isinstance(header["fitted"], dict):
        raise ValueError(f"{path} is corrupted: params and fitted in {_HEADER} must be objects")
    return header


def load(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES):
    """Read an estimator written by :func:`save` (or ``estimator.save``).

    The loaded estimator lives on the CPU and predicts exactly as the saved one did.
    Loading runs no code named by the file and allocates at most about twice
    ``max_bytes`` per member (see the module docstring): the JSON header, which Python
    holds in up to 25 times its bytes, may take a sixteenth of ``max_bytes``.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    max_bytes : int, default=MAX_BYTES (1 GiB)
        Largest size of one archive member, declared or inflated; the header member's
        is a sixteenth of it (at least 1 MiB).

    Returns
    -------
    BaseGraphClusterer
        A fitted estimator of the saved class with the saved parameters.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        ``path`` is not a graphclust model file, is corrupted or truncated, has a member
        over ``max_bytes``, names a class outside graphclust's configurations, holds a
        tensor of another dtype or shape than its parameters imply or a non-finite one,
        was written by another graphclust version or format version, or names a model
        that is not registered. The message names the file and the member.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from graphclust import SCGCStar, load_dataset
    >>> from graphclust.io import load
    >>> graph = load_dataset("karate")
    >>> model = SCGCStar(2, max_epochs=2, pretrain_epochs=1, random_state=0).fit(graph)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "karate.graphclust"
    ...     model.save(path)
    ...     same = (load(path).predict(graph) == model.predict(graph)).all()
    >>> bool(same)
    True
    """
    path = Path(path)
    check_integer("max_bytes", max_bytes, 1)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a model file (the file that "
                                "model.save, graphclust.io.save or --save wrote)")
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) != len(set(names)):
                raise ValueError(f"{path} is corrupted: a member appears twice")
            header = _read_header(archive, path, max_bytes)
            payload = read_member(archive, _TENSORS, str(path), max_bytes)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, NotImplementedError) as error:
        # NotImplementedError: a damaged header naming a zip feature zipfile lacks.
        if isinstance(error, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise ValueError(f"{path} is not a graphclust model file (not a zip archive, or "
                         "truncated/corrupted)") from None

    name = header["model"]
    if not isinstance(name, str) or name not in registry.MODELS:
        raise ValueError(
            f"{path} holds model {name!r}, which this graphclust does not know "
            f"(registered: {', '.join(registry.MODELS)})"
        )
    try:
        # safetensors checks the header's shapes and offsets against the member's size.
        tensors = load_safetensors(payload)
    except (SafetensorError, ValueError, TypeError, RuntimeError) as error:
        raise ValueError(f"{path} is corrupted: member {_TENSORS} is not a safetensors file "
                         f"({type(error).__name__}: {error})") from None
    try:
        params = {key: decode_param(key, value) for key, value in header["params"].items()}
    except ValueError as error:
        raise ValueError(f"{path}: member {_HEADER}: {error}") from None
    try:
        estimator = registry.MODELS[name](**params)
    except TypeError as error:
        raise ValueError(f"{path} has parameters {name!r} does not take: {error}") from None
    try:
        # The header's own checks first, so that an error names the member it is in:
        # the parameters' table, the thread count (checked here, not at the first
        # predict) and the fitted attributes.
        estimator._validate_params()
        effective_n_jobs(estimator.n_jobs)
        check_fitted_metadata(header["fitted"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: member {_HEADER}: {error}") from None
    try:
        estimator._restore(tensors, header["fitted"])
    except (KeyError, RuntimeError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: member {_TENSORS} does not fit a {name!r} model with the "
                         f"saved parameters: {error}") from None
    return estimator
