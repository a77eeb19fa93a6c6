"""``benchmarks.explore.principal_classes``: how the top principal directions fall across
the classes, and the scores of directions it reads (``benchmarks.explore._directions``)."""

from __future__ import annotations

import numpy as np
import pytest
from dataset_helpers import sbm_with_a_split_class

principal_classes = pytest.importorskip("benchmarks.explore.principal_classes")
directions = pytest.importorskip("benchmarks.explore._directions")


def test_largest_class_share_tells_a_split_of_the_class_from_setting_it_apart():
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    coordinates = np.array([
        [1.0, -1.0, 1.0, -1.0, 0.0, 0.0, 0.0, 0.0],  # only class 0 varies: splits it
        [1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0],  # class 0 apart, as a whole
        [0.0, 0.0, 0.0, 0.0, 1.0, -1.0, 1.0, -1.0]]).T  # class 0 constant
    assert np.allclose(directions.largest_class_share(coordinates, labels), [1.0, 0.0, 0.0])


def test_between_class_share_is_eta_squared():
    labels = np.array([0, 0, 1, 1])
    coordinates = np.array([[1.0, 1.0, -1.0, -1.0],  # classes apart, constant within
                            [1.0, -1.0, 1.0, -1.0],  # every class split, means equal
                            [2.0, 0.0, -1.0, -1.0]]).T  # between 2.0 of 3.0 in all
    assert np.allclose(directions.between_class_share(coordinates, labels),
                       [1.0, 0.0, 2.0 / 3.0])


def test_edge_agreement_reads_linked_coordinates():
    edge_index = np.array([[0, 1, 2, 3, 0], [1, 0, 3, 2, 0]])  # two linked pairs, a loop
    coordinates = np.array([[1.0, 1.0, -1.0, -1.0],  # each pair equal
                            [1.0, -1.0, 1.0, -1.0],  # each pair opposite
                            [1.0, 3.0, -1.0, -3.0]]).T  # products 3, 3; squares 5, 5
    assert np.allclose(directions.edge_agreement(coordinates, edge_index),
                       [1.0, -1.0, 0.6])


def test_a_direction_that_splits_the_largest_class_is_listed():
    graph = sbm_with_a_split_class()
    shares = principal_classes.direction_shares(graph)
    assert shares["split"] == [0] and shares["within_largest"][0] > 0.9
    assert shares["between"][0] < 0.1 and len(shares["between"]) == 32
    assert len(shares["edge_agreement"]) == 32
    assert shares["classes"] == 3 and shares["largest_class"] == pytest.approx(1 / 3, abs=1e-3)


def test_the_label_free_shares_read_svd_kmeans_clusters_not_the_classes():
    # svd-kmeans cuts the split class along its strongest direction too, so the largest
    # cluster does not vary along it: the share read from labels would be over 0.9.
    graph = sbm_with_a_split_class()
    shares = principal_classes.direction_shares(graph)
    assert set(shares["without_labels"]) == {"0", "2"}
    for steps in ("0", "2"):
        read = shares["without_labels"][steps]
        assert len(read["within_largest"]) == 32
        assert read["within_largest"][0] < 0.5 and 0 not in read["split"]
