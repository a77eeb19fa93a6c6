r"""Graph-free feature transforms fitted on the training nodes and reused at predict time.

The input transform matters as much as the model: on bag-of-words graphs (DBLP, Cora,
Citeseer) k-means on TF-IDF weighted, L2-normalised features is far stronger than on the
raw binary features. All transforms here apply without a graph (only ``"auto"`` reads the
degree, once, when it is fitted), so an MLP encoder trained on them still predicts for new
nodes without a graph.

* ``"tfidf"``: :math:`x_{ik} \cdot \mathrm{idf}_k`, with the smooth inverse document
  frequency :math:`\mathrm{idf}_k = \log\frac{1 + N}{1 + \mathrm{df}_k} + 1`
  (:math:`\mathrm{df}_k` = number of rows with :math:`x_{ik} > 0`), then each row scaled to
  unit L2 norm. Requires non-negative features.
* ``"l2"``: each row scaled to unit L2 norm.
* ``"standardize"``: each column to zero mean and unit variance (constant columns kept at 0).
* ``"ordinal"``: for a one-hot code of an ordered quantity (column :math:`k` set when the
  quantity's value is :math:`k`), the thermometer code :math:`t_{ik} = \sum_{j \ge k} x_{ij}`
  (column :math:`k` set when the value is at least :math:`k`), then standardised as above.
  A one-hot code puts every two values at the same distance; the thermometer code keeps
  their order, and standardising weighs each step by how many rows it separates.
* ``"none"``: unchanged.
* ``"auto"``: ``"ordinal"`` when the features are a degree code (:func:`is_degree_code`:
  one-hot rows whose set column rises with the node's degree, as PyG's ``OneHotDegree``
  writes for graphs without features; needs the degree), else ``"tfidf"`` when every
  feature is non-negative (counts, binary bags of words, intensities), else
  ``"standardize"``: for signed features, a single column (whose rows TF-IDF would all
  scale to one value) and measurements in different units (:func:`in_different_units`:
  not counts, and dense columns whose typical values lie an order of magnitude apart;
  TF-IDF's row scaling would let the column with the largest unit decide every row).
  Rules on the features' own statistics, not per-data-set choices
  (benchmarks/results/notes.md, "Degree codes"; benchmarks/results/notes_part5.md, "Plain
  feature matrices").

Rows that are all zero stay zero under the row normalisations.
"""

from __future__ import annotations

import torch

from graphclust._checks import FeatureWidthError

__all__ = ["FeatureTransform", "DENSE_COLUMN", "FEATURE_TRANSFORMS", "SCALED_KINDS",
           "SAFE_ROW_PEAK", "SHIFTED_KINDS", "UNIT_SPREAD", "in_different_units",
           "unit_rows", "unit_spread", "is_degree_code"]

FEATURE_TRANSFORMS = ("auto", "tfidf", "l2", "standardize", "ordinal", "none")
#: Resolved kinds whose fit learns a column shift (``shift_``, the mean) and a scale.
SHIFTED_KINDS = ("standardize", "ordinal")
#: Resolved kinds whose fit learns a column scale (``scale_``): TF-IDF's alone, a shift too.
SCALED_KINDS = ("tfidf", *SHIFTED_KINDS)

#: Rank correlation between a one-hot code's column and the degree above which the code
#: is read as a degree code: monotone up to the few rows a differently counted degree
#: moves (0.999 on the air-traffic graphs), far from any code unrelated to the degree.
DEGREE_CODE_CORRELATION = 0.9
#: Columns non-zero in at least this share of the rows are measured on every row (a
#: measurement, a pixel of the foreground), not occurrences: :func:`unit_spread` compares
#: them alone, so that a rare column (an indicator, a faint pixel) cannot decide.
DENSE_COLUMN = 0.5
#: Dense columns whose typical values (:func:`unit_spread`) lie more than this factor apart
#: are read as measurements in different units: an order of magnitude. Iris's centimetres
#: give 4.9; scikit-learn's wine 2,064, breast cancer 232,044.
UNIT_SPREAD = 10.0
#: Rows whose largest magnitude lies outside this range are divided by it before the row
#: scaling to unit length: in float32 a row's squared norm overflows to inf from about
#: 1e19 (every row would turn to zeros) and under ``normalize``'s eps (1e-12) a row is
#: scaled towards zero instead of to unit length. Rows inside keep the plain product,
#: bit for bit.
SAFE_ROW_PEAK = (1e-10, 1e15)


def in_different_units(x: torch.Tensor) -> bool:
    """Whether non-negative features read as measurements in different units: not all
    whole numbers (counts, however spread, are what TF-IDF weighs) and their dense
    columns' typical values more than :data:`UNIT_SPREAD` apart."""
    return not bool((x == x.round()).all()) and unit_spread(x) > UNIT_SPREAD


def unit_spread(x: torch.Tensor) -> float:
    """How far apart the typical values of the dense columns (:data:`DENSE_COLUMN`) lie:
    the largest over the smallest mean absolute value of a column's non-zero entries;
    1.0 with fewer than two dense columns."""
    counts = (x != 0).sum(0)
    dense = counts >= DENSE_COLUMN * x.shape[0]
    if int(dense.sum()) < 2:
        return 1.0
    typical = torch.linalg.vector_norm(x, 1, dim=0, dtype=torch.float64)[dense] / counts[dense]
    return float(typical.max() / typical.min())


def _ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks with ties sharing their mean rank (as Spearman's correlation needs)."""
    _, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    last = torch.cumsum(counts, 0).to(torch.float64)
    return (last - (counts.to(torch.float64) - 1) / 2)[inverse]


def is_degree_code(x: torch.Tensor, degree: torch.Tensor) -> bool:
    """Whether ``x`` is a one-hot code of the node degree.

    True when every row of ``x`` has exactly one non-zero entry, equal to 1, at least
    three columns are used, and the set column's Spearman rank correlation with
    ``degree`` is at least :data:`DEGREE_CODE_CORRELATION`.

    Examples
    --------
    >>> degree = torch.tensor([1., 3., 2., 3., 5.])
    >>> is_degree_code(torch.eye(6)[degree.long()], degree)
    True
    >>> is_degree_code(torch.eye(6)[torch.tensor([4, 0, 5, 1, 2])], degree)
    False
    """
    if x.dim() != 2 or x.shape[0] < 3 or x.is_sparse:
        return False
    nonzero = x != 0
    if not (bool((nonzero.sum(1) == 1).all()) and bool((x[nonzero] == 1).all())):
        return False
    column = nonzero.to(torch.int8).argmax(1)
    if torch.unique(column).numel() < 3 or torch.unique(degree).numel() < 2:
        return False
    a, b = _ranks(column.cpu()), _ranks(degree.cpu())
    a, b = a - a.mean(), b - b.mean()
    correlation = float((a @ b) / (a.norm() * b.norm()))
    return correlation >= DEGREE_CODE_CORRELATION


def _thermometer(x: torch.Tensor) -> torch.Tensor:
    """Column ``k`` of the result sums columns ``k, k+1, ...`` of ``x``."""
    return x.flip(1).cumsum(1).flip(1)


class FeatureTransform:
    """Fit on training features, then apply the same map to any feature matrix.

    Parameters
    ----------
    kind : {"auto", "tfidf", "l2", "standardize", "ordinal", "none"}
        See the module docstring.

    Attributes
    ----------
    kind_ : str
        The resolved kind (``"auto"`` resolved on the training features).
    n_features_in_ : int
        Columns of the training features, recorded by every kind: :meth:`transform`
        refuses a matrix of another width (under ``"l2"`` and ``"none"`` too, which
        learn nothing else from the columns).
    scale_, shift_ : torch.Tensor or None
        Column scale (idf or 1/std) and shift (mean) learnt in :meth:`fit`.

    Raises
    ------
    ValueError
        From :meth:`fit`, on rows that are not finite, negatives under ``"tfidf"`` or
        ``"ordinal"``, and a varying column whose standard deviation has no float32
        inverse (under 3e-39: multiply the features by a constant first); from
        :meth:`transform`, on a matrix whose width is not ``n_features_in_``.
    """

    def __init__(self, kind: str = "auto") -> None:
        if kind not in FEATURE_TRANSFORMS:
            raise ValueError(
                f"unknown feature transform {kind!r}; choose one of {FEATURE_TRANSFORMS}"
            )
        self.kind = kind

    def fit(self, x: torch.Tensor, degree: torch.Tensor | None = None) -> FeatureTransform:
        """Learn the transform on ``x``; ``degree`` (one value per row) lets ``"auto"``
        recognise a degree code (:func:`is_degree_code`)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or not x.is_floating_point():
            raise TypeError("FeatureTransform fits a 2-D floating-point tensor, got "
                            + (f"{x.dim()}-D {x.dtype}" if isinstance(x, torch.Tensor)
                               else type(x).__name__))
        stored = x if x.layout == torch.strided else \
            (x.coalesce() if x.layout == torch.sparse_coo else x).values()
        if x.shape[0] == 0 or not bool(torch.isfinite(stored).all()):
            # NaN had made a column's shift NaN, and so every later row's value.
            raise ValueError("FeatureTransform needs at least one row, all values finite")
        kind = self.kind
        if kind not in ("l2", "none"):  # they learn nothing; the others read columns
            _refuse_sparse(x, kind, "learns column statistics from")
        if kind == "auto":
            if degree is not None and is_degree_code(x, degree):
                kind = "ordinal"
            else:
                signed = bool((x < 0).any())
                one_column = x.shape[1] == 1
                standardize = signed or one_column or in_different_units(x)
                kind = "standardize" if standardize else "tfidf"
        if kind in ("tfidf", "ordinal") and bool((x < 0).any()):
            raise ValueError(
                f"features={kind!r} needs non-negative features (counts, indicators or a "
                "one-hot code); use 'standardize' or 'l2' for signed features"
            )
        self.kind_ = kind
        self.n_features_in_ = int(x.shape[1])
        self.shift_ = None
        self.scale_ = None
        if kind == "tfidf":
            document_frequency = (x > 0).sum(0).to(torch.float64)
            n = float(x.shape[0])
            idf = torch.log((1.0 + n) / (1.0 + document_frequency)) + 1.0
            self.scale_ = idf.to(torch.float32)
        elif kind in SHIFTED_KINDS:
            x = _thermometer(x) if kind == "ordinal" else x
            self.shift_ = x.mean(0)
            std = x.std(0, unbiased=False)
            # A constant column can show the std of its rounding (0.1 repeated in float32:
            # about 1e-8, which 1 / std would make a weight of 1e8), so constant is read off
            # the values themselves; a column that varies, however little, is scaled.
            constant = (x == x[:1]).all(0) | (std == 0)
            scale = torch.where(constant, torch.zeros_like(std), std.reciprocal())
            tiny = (~torch.isfinite(scale)).nonzero().flatten().tolist()
            if tiny:  # a spread in float32's subnormal range has no float32 inverse
                raise ValueError(
                    f"feature columns {tiny[:5]}{' ...' if len(tiny) > 5 else ''} vary by a "
                    f"standard deviation too small to scale to 1 in {x.dtype} (the smallest: "
                    f"{float(std[tiny].min()):.3g}); multiply the features by a constant "
                    "first")
            self.scale_ = scale
        return self

    def fit_graph(self, graph) -> FeatureTransform:
        """:meth:`fit` on a graph's features ``graph.x``, with the degrees its
        ``edge_index`` gives (entries per source node)."""
        degree = torch.bincount(graph.edge_index[0], minlength=graph.num_nodes)
        return self.fit(graph.x, degree)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        kind = self.kind_
        if x.dim() != 2:  # a 1-D row had broadcast under some kinds, failed under others
            raise ValueError(f"FeatureTransform.transform takes a 2-D (rows, features) "
                             f"tensor, got shape {tuple(x.shape)}; pass one row as x[None]")
        width = self._fitted_width()
        if width is not None and x.shape[-1] != width:
            # One column would broadcast to every fitted column without a word; under "l2"
            # and "none" a matrix of any width came back transformed as if it were right.
            raise FeatureWidthError(f"features were fitted with {width} columns, got "
                                    f"{x.shape[-1]}", x.shape[-1], width)
        if kind == "none":
            return x
        _refuse_sparse(x, kind, "applies to")
        if kind == "tfidf":
            if bool((x < 0).any()):
                raise ValueError("features were TF-IDF transformed at fit time; got negatives")
            # Brought into range before the weights: 1e38 times an IDF above 1 overflows.
            x = _rows_in_range(x) * self.scale_.to(x.device)
        elif kind in SHIFTED_KINDS:
            if kind == "ordinal":
                if bool((x < 0).any()):
                    raise ValueError("features were read as an ordinal code at fit time; "
                                     "got negatives")
                x = _thermometer(x)
            return (x - self.shift_.to(x.device)) * self.scale_.to(x.device)
        return unit_rows(x)

    def _fitted_width(self) -> int | None:
        """``n_features_in_``; for a transform fitted (and pickled) before it was recorded,
        the width of its column scale where it has one, else ``None`` (not known)."""
        width = getattr(self, "n_features_in_", None)
        if width is None and self.scale_ is not None:
            width = int(self.scale_.shape[0])
        return width

    def state_dict(self) -> dict:
        """Tensors, the resolved kind and the fitted width, for saving with the estimator
        (which saves the tensors and the kind; the width is its own ``n_features_in_``)."""
        return {"kind": self.kind_, "shift": self.shift_, "scale": self.scale_,
                "n_features_in": self._fitted_width()}

    @classmethod
    def from_state_dict(cls, state: dict) -> FeatureTransform:
        """The transform of :meth:`state_dict`; without ``n_features_in`` (a state of a
        transform fitted before it was recorded), the width of its column scale where it
        has one, else not known (``None``: no width check)."""
        transform = cls(state["kind"])
        transform.kind_ = state["kind"]
        transform.shift_ = state["shift"]
        transform.scale_ = state["scale"]
        transform.n_features_in_ = state.get("n_features_in")
        transform.n_features_in_ = transform._fitted_width()
        return transform


def _refuse_sparse(x: torch.Tensor, kind: str, action: str) -> None:
    """A ``TypeError`` for a sparse ``x``: torch's comparisons, reductions and norms have no
    sparse kernels, so it failed deep inside torch (NotImplementedError, RuntimeError)."""
    if x.layout != torch.strided:
        raise TypeError(f"features={kind!r} {action} dense features, got a {x.layout} "
                        "tensor; pass x.to_dense()")


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """The rows of ``x`` scaled to unit L2 norm (zero rows stay zero), at any scale the
    dtype holds: rows outside :data:`SAFE_ROW_PEAK` are first divided by their largest
    magnitude, which leaves their direction as it is."""
    return torch.nn.functional.normalize(_rows_in_range(x), dim=1)


def _rows_in_range(x: torch.Tensor) -> torch.Tensor:
    """``x`` with each finite row whose largest magnitude lies outside
    :data:`SAFE_ROW_PEAK` divided by that magnitude; other rows as they are (bit for
    bit; a row holding inf or NaN too, which the input checks refuse before)."""
    peak = torch.linalg.vector_norm(x, float("inf"), dim=1, keepdim=True)
    low, high = SAFE_ROW_PEAK
    outside = torch.isfinite(peak) & (peak > 0) & ((peak < low) | (peak > high))
    if not bool(outside.any()):
        return x
    return torch.where(outside, x / torch.where(outside, peak, torch.ones_like(peak)), x)
