"""to_graph on an edge table: a frame of (source, target) rows, read as the same edges
as its edge_index, and the frames it refuses with what to pass."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from graphclust.data import GraphInputWarning, to_graph

# A 4-node path 0-1-2-3 plus the edge 0-2, one row per edge; and its canonical form.
EDGES = np.array([[0, 1], [1, 2], [2, 3], [0, 2]])
CANONICAL = [[0, 0, 1, 1, 2, 2, 2, 3], [1, 2, 0, 2, 0, 1, 3, 2]]


def _features() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(4, 3))


def test_an_edge_table_reads_one_edge_a_row():
    """A frame of (source, target) rows, the common edge list: read as the same edges as
    its (2, E) edge_index; other columns or dtypes are refused, saying what to pass."""
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(EDGES, columns=["src", "dst"])  # one direction of each edge
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert to_graph(_features(), table).edge_index.tolist() == CANONICAL
    # The report, and nothing else (no torch warning about pandas' read-only view).
    assert [str(w.message) for w in caught] == [
        "to_graph changed the input graph: symmetrised by adding 4 reverse edges."]
    with pytest.raises(ValueError, match=r"needs two columns, source and target, got 3"):
        to_graph(_features(), table.assign(weight=1.0))
    with pytest.raises(TypeError, match="must hold node rows as integers, got dtype float64"):
        to_graph(_features(), table.astype(float))
    with pytest.raises(ValueError, match="an edge table has node indices outside"):
        to_graph(_features(), table + 10)


def test_an_edge_table_of_nullable_integers_reads_as_integers():
    """pandas' nullable integer columns (read_csv's numpy_nullable backend) hand out
    objects; without a missing value they are the same edges, with one they are refused."""
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(EDGES, columns=["src", "dst"]).astype("Int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphInputWarning)
        assert to_graph(_features(), table).edge_index.tolist() == CANONICAL
    table.iloc[0, 1] = pd.NA
    with pytest.raises(ValueError, match="have missing values; drop those rows"):
        to_graph(_features(), table)
    # read_csv's default for a column with a gap: float64 with NaN, named the same way.
    with pytest.raises(ValueError, match="have missing values; drop those rows"):
        to_graph(_features(), table.astype("float64"))


def test_node_ids_from_one_and_a_square_frame_get_the_remedy():
    pd = pytest.importorskip("pandas")
    numbered = pd.DataFrame(EDGES + 1, columns=["src", "dst"])  # ids 1..4 for 4 rows
    with pytest.raises(ValueError, match=r"numbered from 1\? subtract 1"):
        to_graph(_features(), numbered)
    square = pd.DataFrame(np.eye(_features().shape[0]))
    with pytest.raises(ValueError, match=r"adjacency matrix in a frame is read as "
                                         r"table\.to_numpy\(\)"):
        to_graph(_features(), square)
    weighted = pd.DataFrame(EDGES, columns=["src", "dst"]).assign(weight=1.0)
    with pytest.raises(ValueError, match=r"edge weights are not read$"):
        to_graph(_features(), weighted)  # three columns: no matrix hint
