"""Reader for a user's own graph in plain files: a feature matrix, and optionally an edge
list and labels, each a ``.npy`` array or a text file.

* features: ``(N, d)`` numbers; text: one row a line, numbers separated by commas
  (``.csv``), tabs (``.tsv``) or whitespace (any other name);
* edges: one edge a row, two node rows (0-based): ``(E, 2)`` integers, or "i j" a line
  (the SDCN layout's graph files);
* labels: one a row, numbers (NaN refused) or class names.

Text is read as it is (no decompression), a byte-order mark dropped. In an edge file "#"
starts a comment (SNAP's edge lists open with such lines); feature and label files have
none: a spreadsheet writes a missing cell as "#N/A", and a row skipped as a comment would
give every later node the next one's features, and a class name may hold "#".

``.npy`` files are read without unpickling (an object array is refused) and mapped
before they are copied, so a header that claims more than the file holds is an error,
not an allocation of that size.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

__all__ = ["loadtxt_detail", "read_plain_files"]

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


def loadtxt_detail(error: Exception) -> str:
    """``np.loadtxt``'s error on one line, without its advice on ``usecols`` (ours says
    what the file should hold)."""
    return " ".join(str(error).split()).split("; use `usecols`")[0].rstrip(".")


def _uncommented(line: str, delimiter: str | None) -> str:
    """``line`` without its comment ("#" to the end) and the delimiter before it."""
    kept, sharp, _ = line.partition("#")
    return kept.rstrip().rstrip(delimiter or "").rstrip() if sharp else line


def _text(path: Path, dtype, ndmin: int, empty: np.ndarray | None,
          comments: bool) -> np.ndarray:
    """``np.loadtxt`` on the opened file of numbers: read as it is (numpy would decompress
    a ``.gz`` name, so a small file could take any memory), a byte-order mark dropped,
    with ``comments`` "#" starting one; a file without numbers is as an empty one
    (``empty``)."""
    delimiter = _DELIMITERS.get(path.suffix.lower())
    try:
        with open(path, encoding="utf-8-sig") as handle, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "loadtxt: input contained no data")
            lines = (_uncommented(line, delimiter) for line in handle) if comments \
                else handle
            values = np.loadtxt(lines, dtype=dtype, ndmin=ndmin, comments=None,
                                delimiter=delimiter)
    except (ValueError, UnicodeDecodeError) as error:
        expected = "one value" if ndmin == 1 else "rows"
        raise ValueError(f"{path}: {loadtxt_detail(error)}; expected {expected} of numbers "
                         "a line, without a header line") from None
    if values.size == 0:
        if empty is None:
            raise ValueError(f"{path}: the file holds no numbers")
        return empty
    return values


def _existing(path: str | Path) -> Path:
    """``path``, refused where no file is there."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    return path


def _read(path: str | Path, dtype, ndmin: int, empty: np.ndarray | None = None,
          comments: bool = False) -> np.ndarray:
    """The array of ``path``; an empty text file gives ``empty`` (``None``: refused);
    ``comments``: a text file's "#" starts a comment."""
    path = _existing(path)
    if path.suffix.lower() == ".npy":
        return _npy(path)
    if path.stat().st_size == 0:
        if empty is None:
            raise ValueError(f"{path}: the file is empty")
        return empty
    return _text(path, dtype, ndmin, empty, comments)


def _labels(path: str | Path) -> np.ndarray:
    """Labels, one a line: numbers where every line is one (so that NaN is refused as a
    label, not taken for a class named "nan"), else class names, each its whole line
    (a name may hold spaces). A blank line before the last label is refused: its node
    would have no label, and skipping it would give every later node the next one's."""
    path = _existing(path)
    if path.suffix.lower() == ".npy":
        return _npy(path)
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason})") from None
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError(f"{path}: the file is empty")
    if "" in lines:
        raise ValueError(f"{path}: line {lines.index('') + 1} is blank; every node needs a "
                         "label, one a line")
    delimiter = _DELIMITERS.get(path.suffix.lower())
    fields = [line.split(delimiter) for line in lines]
    # Columns ("id label", "0,2") read as one name a line would make every node a class.
    if (delimiter is not None and any(len(row) > 1 for row in fields)) or (
            delimiter is None and all(len(row) > 1 and all(map(_is_number, row))
                                      for row in fields)):
        line = next(number for number, row in enumerate(fields, 1) if len(row) > 1)
        raise ValueError(f"{path}: line {line} holds several columns; a labels file holds "
                         "one label a line (a class name may hold spaces, not the file's "
                         "delimiter)")
    try:
        return np.array(lines, dtype=np.float64)
    except ValueError:
        # Python strings, not numpy's: a str array gives every label the longest one's
        # width, and 60 kB of one-letter names beside one 20,000-letter name took 1.6 GB.
        return np.array(lines, dtype=object)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_plain_files(features: str | Path, edges: str | Path | None = None,
                     labels: str | Path | None = None):
    """The arrays of a user's graph files.

    Returns
    -------
    tuple
        ``(X, edge_index, y)``: ``X`` ``(N, d)``, float64 from text (the estimators and
        :func:`graphclust.data.to_graph` cast it to float32, and name a value beyond
        float32's range, which a float32 parse would have made inf), a ``.npy`` file's
        own numbers otherwise; ``edge_index`` int64 ``(2, E)``
        (an empty text file: no edges) or ``None`` without an edge file; ``y`` numbers
        (text where every line is one) or class names (an object array of ``str``), or
        ``None``. Sizes, node indices and labels (NaN, length) are checked by
        :func:`graphclust.data.to_graph` and :func:`graphclust.data.inputs.label_codes`.

    Raises
    ------
    FileNotFoundError
        A file is missing.
    ValueError
        A file is not a readable array of the expected shape (the message names it).
    TypeError
        An edge ``.npy`` file holds other than integers (floats, bool).
    """
    x = _read(features, np.float64, 2)
    if x.ndim != 2:
        raise ValueError(f"{features}: features must be a matrix (nodes x features), got "
                         f"shape {x.shape}" + ("; save x.reshape(-1, 1) for a single "
                                               "feature" if x.ndim == 1 else ""))
    edge_index = None
    if edges is not None:
        pairs = _read(edges, np.int64, 2, empty=np.empty((0, 2), dtype=np.int64),
                      comments=True)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(f"{edges}: an edge list needs two integer node rows a line, "
                             f"got shape {pairs.shape} of {pairs.dtype}")
        if pairs.dtype.kind not in "iu":  # a .npy file's own dtype (text is read as int64)
            raise TypeError(f"{edges}: an edge list must hold integer node rows, got dtype "
                            f"{pairs.dtype}; save it with .astype(np.int64)")
        if pairs.size and pairs.max() >= len(x):
            one_based = pairs.min() == 1 and pairs.max() == len(x)
            raise ValueError(
                f"{edges}: node row {pairs.max()} is not a row of the features ({len(x)} "
                "rows, counted from 0)" + ("; this file's nodes run from 1 to N: subtract "
                                           "1 from every entry" if one_based else ""))
        edge_index = np.ascontiguousarray(pairs.T, dtype=np.int64)
    # Length, NaN and sortability are checked with the rows (label_codes).
    y = None if labels is None else _labels(labels)
    return x, edge_index, y
