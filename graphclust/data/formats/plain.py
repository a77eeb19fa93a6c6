"""Reader for a user's own graph in plain files: a feature matrix, and optionally an edge
list and labels, each a ``.npy`` array or a text file.

* features: ``(N, d)`` numbers; text: one row a line, numbers separated by commas
  (``.csv``), tabs (``.tsv``) or whitespace (any other name);
* edges: one edge a row, two node rows (0-based): ``(E, 2)`` integers, or "i j" a line
  (the SDCN layout's graph files);
* labels: one a row, integers or class names.

``.npy`` files are read without unpickling (an object array is refused) and mapped
before they are copied, so a header that claims more than the file holds is an error,
not an allocation of that size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["read_plain_files"]

_DELIMITERS = {".csv": ",", ".tsv": "\t"}


def _npy(path: Path) -> np.ndarray:
    try:
        mapped = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path}: not a readable .npy array of numbers ({error})") from None
    if not isinstance(mapped, np.ndarray) or mapped.dtype.kind not in "biuf":
        raise ValueError(f"{path}: the array holds {getattr(mapped, 'dtype', type(mapped))}, "
                         "not numbers")
    return np.array(mapped)


def _text(path: Path, dtype, ndmin: int) -> np.ndarray:
    try:
        return np.loadtxt(path, dtype=dtype, ndmin=ndmin, encoding="utf-8",
                          delimiter=_DELIMITERS.get(path.suffix.lower()))
    except (ValueError, UnicodeDecodeError) as error:
        detail = " ".join(str(error).split()).split("; use `usecols`")[0].rstrip(".")
        raise ValueError(f"{path}: {detail}; expected {'one value' if ndmin == 1 else 'rows'} "
                         "of numbers a line, without a header line") from None


def _read(path: str | Path, dtype, ndmin: int) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    if path.suffix.lower() == ".npy":
        return _npy(path)
    if path.stat().st_size == 0:
        return np.empty((0, 2) if ndmin == 2 else (0,), dtype=dtype)
    return _text(path, dtype, ndmin)


def read_plain_files(features: str | Path, edges: str | Path | None = None,
                     labels: str | Path | None = None):
    """The arrays of a user's graph files.

    Returns
    -------
    tuple
        ``(X, edge_index, y)``: ``X`` float32 ``(N, d)``; ``edge_index`` int64 ``(2, E)``
        or ``None`` without an edge file; ``y`` ``(N,)`` (integers or class names) or
        ``None``. Sizes and node indices are checked by :func:`graphclust.data.to_graph`.

    Raises
    ------
    FileNotFoundError
        A file is missing.
    ValueError
        A file is not a readable array of the expected shape (the message names it).
    """
    x = _read(features, np.float32, 2)
    if x.ndim != 2:
        raise ValueError(f"{features}: features must be a matrix (nodes x features), got "
                         f"shape {x.shape}")
    edge_index = None
    if edges is not None:
        pairs = _read(edges, np.int64, 2)
        if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.dtype.kind not in "iu":
            raise ValueError(f"{edges}: an edge list needs two integer node rows a line, "
                             f"got shape {pairs.shape} of {pairs.dtype}")
        edge_index = np.ascontiguousarray(pairs.T, dtype=np.int64)
    y = None
    if labels is not None:
        y = _read(labels, str, 1) if Path(labels).suffix.lower() != ".npy" \
            else _read(labels, np.int64, 1)
        if y.ndim != 1:
            raise ValueError(f"{labels}: labels must be one a row, got shape {y.shape}")
    return x, edge_index, y
