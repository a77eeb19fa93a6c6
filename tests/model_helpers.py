"""Estimators made for tests of the benchmark runner and the command."""

from __future__ import annotations

from graphclust import SCGCStar


class OneCluster(SCGCStar):
    """SCGC* that then puts every node in one cluster: a trained model that loses to every
    no-training baseline, for the comparisons with them."""

    def fit(self, X, y=None, adjacency=None):
        super().fit(X, y, adjacency=adjacency)
        self.labels_ = self.labels_ * 0
        return self

    def predict(self, X=None, adjacency=None):
        return super().predict(X, adjacency=adjacency) * 0
