"""``benchmarks.explore.candidates``: the trained and no-training partitions of one seed,
their agreement, and the label-free rules that pick among them."""

from __future__ import annotations

import numpy as np
import pytest

from graphclust import SVDKMeans, evaluate
from graphclust.data import make_sbm

candidates = pytest.importorskip("benchmarks.explore.candidates")

FIT = {"pretrain_epochs": 10, "max_epochs": 5}


@pytest.fixture(scope="module")
def graph():
    return make_sbm(120, 3, 8, 6.0, homophily=0.7, feature_signal=0.3, random_state=0)


@pytest.fixture(scope="module")
def row(graph):
    return candidates.record_seed(graph, 0, FIT, "auto")


def test_record_scores_each_candidate_and_each_pair(graph, row):
    names = row["candidates"]
    assert names[0] == "scgc-star" and names[-1] == "degree-kmeans"
    assert [f"svd-kmeans t={t}" for t in candidates.SVD_STEPS] == names[1:-1]
    for key in ("acc", "nmi", "modularity"):
        assert len(row[key]) == len(names)
    for key in ("nmi_between", "ari_between"):
        matrix = np.asarray(row[key])
        assert matrix.shape == (len(names), len(names))
        assert np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
    # A baseline's score is the baseline's own fit with the same seed.
    t1 = SVDKMeans(3, propagation_steps=1, random_state=0).fit_predict(graph)
    assert row["acc"][2] == round(evaluate(graph.y.numpy(), t1)["acc"], 4)


def _row(between: list[list[float]], acc: list[float]) -> dict:
    names = ["scgc-star", "a", "b", "degree-kmeans"]
    return {"dataset": "g", "edges": "given", "candidates": names, "acc": acc,
            "nmi": acc, "modularity": [0.1, 0.4, 0.2, 0.3],
            "nmi_between": between, "ari_between": between}


# The trained partition agrees little with the rest; "a" and "b" agree with each other.
APART = [[1.0, 0.2, 0.2, 0.1],
         [0.2, 1.0, 0.9, 0.1],
         [0.2, 0.9, 1.0, 0.3],
         [0.1, 0.1, 0.3, 1.0]]


def test_rules_pick_without_labels():
    row = _row(APART, [0.9, 0.5, 0.6, 0.2])
    picks = {name: rule(row) for name, rule in candidates.RULES.items()}
    assert picks["medoid by NMI"] == 2  # row sums: 1.5, 2.2, 2.4, 1.5
    assert picks["medoid by NMI, without degree-kmeans"] == 1  # 1.4, 2.1, 2.1: first
    assert picks["highest modularity"] == 1
    # The same agreement with other labels picks the same candidates.
    shuffled = _row(APART, [0.1, 0.9, 0.2, 0.3])
    assert {name: rule(shuffled) for name, rule in candidates.RULES.items()} == picks


def test_trained_partition_kept_where_it_is_the_medoid():
    central = [[1.0, 0.8, 0.8, 0.5],
               [0.8, 1.0, 0.3, 0.2],
               [0.8, 0.3, 1.0, 0.2],
               [0.5, 0.2, 0.2, 1.0]]
    row = _row(central, [0.9, 0.5, 0.6, 0.2])
    assert candidates.RULES["medoid by NMI"](row) == 0
    assert candidates.RULES["medoid by ARI"](row) == 0


def test_read_reports_the_picks_and_the_best_baseline():
    rows = [_row(APART, [0.9, 0.5, 0.6, 0.2]), _row(APART, [0.8, 0.7, 0.4, 0.2])]
    table = candidates.read(rows).splitlines()
    assert len(table) == 3
    cells = [cell.strip() for cell in table[2].strip("|").split("|")]
    assert cells[:3] == ["g", "2", "0.850 / 0.850"]
    assert cells[3] == "0.600 / 0.600 (a)"  # best mean baseline: a (0.6) over b (0.5)
    assert cells[4] == "0.500 / 0.500 (0/2 SCGC*)"  # medoid by NMI: b on both seeds
