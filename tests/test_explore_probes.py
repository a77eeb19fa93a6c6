"""The explore probes' own readings (``benchmarks/explore``), beyond running tiny: what
each row reports, checked on graphs small enough to check by hand."""

from __future__ import annotations

import importlib
import json

import pytest
import torch

from graphclust import load_dataset


def test_drift_probe_scores_each_epochs_partition(capsys):
    """``explore.fits drift``: every epoch's partition scored, the loop's hook restored."""
    import graphclust.training.loop as training_loop

    hook = training_loop.evaluate
    importlib.import_module("benchmarks.explore.fits").main(["--tiny", "drift", "karate"])
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert training_loop.evaluate is hook
    assert row["epochs"] == 3 and [entry[0] for entry in row["epoch_acc_nmi_modularity_r2"]] \
        == [1, 3]
    assert all(0 <= entry[4] <= 1 for entry in row["epoch_acc_nmi_modularity_r2"])
    assert [sum(sizes) for sizes in row["sizes_first_last"]] == [34, 34]


def test_drift_probe_reads_a_fit_without_a_joint_stage(capsys):
    """A fit with no joint-stage epoch (an untaught start skips it) gives an empty
    curve and labels_' sizes, not an IndexError."""
    importlib.import_module("benchmarks.explore.fits").main(
        ["--tiny", "drift", "karate", "--params", '{"max_epochs": 0}'])
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["epochs"] == 0 and row["epoch_acc_nmi_modularity_r2"] == []
    assert [sum(sizes) for sizes in row["sizes_first_last"]] == [34, 34]


def test_fit_probe_reports_the_partitions_share_of_the_feature_variance(capsys):
    """``explore.fits fit``: R² of labels_ on the transformed features, in [0, 1]."""
    importlib.import_module("benchmarks.explore.fits").main(["--tiny", "fit", "karate"])
    row = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert 0 < row["r2"] <= 1 and row["epochs"] >= 1
    # Karate has too few edges to hold some out: no check, no held-out rank.
    assert row["held_out_rank"] is None and row["start_length"] == []


def test_start_signals_reads_each_tau_and_the_overlap_of_a_feature_knn_graph(capsys):
    """``explore.start_signals``: a row per tau with stabilities in [-1, 1]; ``overlap``
    is 1 for a graph that is exactly each node's nearest neighbour by cosine."""
    probe = importlib.import_module("benchmarks.explore.start_signals")
    probe.main(["--tiny"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["tau"] for row in rows] == [1.0, 2.0]
    assert all(-1 <= row[key] <= 1 for row in rows
               for key in ("stability_best10", "stability_single"))
    from graphclust.data import to_graph
    x = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    pairs = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    assert probe.overlap(to_graph(x, pairs))["precision_at_degree"] == 1.0


def test_start_signals_pca_rank_scores_both_maps_on_the_starts_own_split():
    """``explore.start_signals pca-rank``: both rank shares in [0, 1], on a graph with
    enough edges to hold some out; the start's own HeldOutEdges is put back."""
    from graphclust.data import make_sbm
    from graphclust.objectives import HeldOutEdges
    from graphclust.starts import contrastive

    probe = importlib.import_module("benchmarks.explore.start_signals")
    graph = make_sbm(200, 2, 8, avg_degree=8, random_state=0)
    row = probe.pca_rank_row("sbm", graph, graph.y.numpy(), 0, tiny=True)
    assert 0 <= row["kept_rank"] <= 1 and 0 <= row["pca_rank"] <= 1
    assert contrastive.HeldOutEdges is HeldOutEdges


def test_baselines_probe_scores_svd_kmeans_at_each_propagation_step():
    """``explore.fits baselines``: svd-kmeans at t = 0..3 with the transform --params
    names, the same labels as the estimator gives."""
    from graphclust import SVDKMeans

    fits = importlib.import_module("benchmarks.explore.fits")
    graph = load_dataset("karate")
    row = fits.probe("baselines", graph, 1, {"features": "l2"})
    assert list(row) == ["seed", "svd_t0", "svd_t1", "svd_t2", "svd_t3"]
    labels = SVDKMeans(2, propagation_steps=2, features="l2", random_state=1).fit_predict(graph)
    assert row["svd_t2"] == fits.rounded_scores(graph.y.numpy(), labels)


def test_curve_probe_picks_the_length_the_rule_picks():
    """``explore.fits curve`` records the whole held-out curve and reads off it the
    length the estimator's own rule chooses."""
    from graphclust import SCGCStar
    from graphclust.data import make_sbm
    from graphclust.starts.held_out_rule import START_EROSION, START_RANK_EROSION

    fits = importlib.import_module("benchmarks.explore.fits")
    # Graphs whose held-out loss hardly falls (100 steps: a verdict, the length 0; 60
    # steps: too short for one, every step) and one whose loss keeps falling (every step).
    for seed, homophily, signal, steps, length in (
            (0, 0.5, 0.3, 100, 0), (2, 0.5, 0.3, 100, 0), (0, 0.5, 0.3, 60, 60),
            (0, 0.95, 1.0, 100, 100)):
        graph = make_sbm(300, n_clusters=3, n_features=20, avg_degree=10, homophily=homophily,
                         feature_signal=signal, random_state=seed)
        params = {"pretrain_epochs": steps, "max_epochs": 0}
        row = fits.probe("curve", graph, seed, params)
        assert [step for step, _ in row["held_out_loss"]] == list(range(0, steps + 1, 10))
        fitted = SCGCStar(3, random_state=seed, **params).fit(graph)
        kept = [entry["epoch"] for entry in fitted.history_ if entry.get("kept")]
        assert row["length_by_rule"] == kept[0] == length
        taught = row["fall_share"] * row["cluster_code_fall"] >= row["gate"]
        assert taught == (homophily != 0.5)
    rule = fits.held_out_rule  # both thresholds restored after the probe
    assert (rule.START_EROSION, rule.START_RANK_EROSION) == (START_EROSION, START_RANK_EROSION)


def test_fit_probe_trains_on_the_edges_it_is_given():
    """``explore.fits --edges``: a feature kNN graph (every node has neighbours) or none."""
    graphs = importlib.import_module("benchmarks.explore._graphs")
    graph = load_dataset("karate")
    knn = graphs.with_edges(graph, "feature-knn").edge_index
    assert torch.bincount(knn[0], minlength=34).min() >= graphs.FEATURE_NEIGHBOURS
    assert graphs.with_edges(graph, "none").edge_index.shape == (2, 0)
    assert graphs.with_edges(graph, "given") is graph
    three = graphs.with_edges(graph, "feature-knn", None, 3, "cosine").edge_index
    assert torch.bincount(three[0], minlength=34).min() >= 3
    assert three.shape[1] < knn.shape[1]


def test_pruned_edges_keep_each_nodes_nearest_neighbours_and_stay_symmetric():
    """``--edges feature-pruned``: node 0 (a star's centre) keeps its two nearest leaves;
    a leaf keeps its one edge, so every edge survives from the leaf's side."""
    graphs = importlib.import_module("benchmarks.explore._graphs")
    x = torch.tensor([[0.0], [1.0], [2.0], [5.0], [9.0]])
    star = torch.tensor([[0, 0, 0, 0, 0], [1, 2, 3, 4, 0]])  # a self-loop too
    pairs = lambda edges: sorted(map(tuple, edges.t().tolist()))  # noqa: E731
    kept = graphs.pruned_edges(x, torch.cat([star, star.flip(0)], dim=1), keep=2)
    assert pairs(kept) == [(0, 1), (0, 2), (0, 3), (0, 4), (1, 0), (2, 0), (3, 0), (4, 0)]
    # Leaves 1 and 2 also joined to 3 and 4: 0-3 and 0-4 are no end's nearest two.
    extra = torch.tensor([[1, 1, 2, 2], [3, 4, 3, 4]])
    edges = torch.cat([star, extra], dim=1)
    kept = graphs.pruned_edges(x, torch.cat([edges, edges.flip(0)], dim=1), keep=2)
    undirected = [(0, 1), (0, 2), (1, 3), (1, 4), (2, 3), (2, 4)]
    assert pairs(kept) == sorted(undirected + [(j, i) for i, j in undirected])
    # One direction, a pair listed twice: still undirected, the pair counted once.
    listed = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 1, 2, 2, 3, 4]])
    once = graphs.pruned_edges(x, listed, 2)
    assert pairs(once) == pairs(graphs.pruned_edges(x, torch.cat([listed, listed.flip(0)], 1), 2))
    assert (0, 2) in pairs(once) and (4, 3) in pairs(once)
    with pytest.raises(ValueError, match="--knn must be at least 1"):
        graphs.pruned_edges(x, star, keep=0)
    graph = load_dataset("karate")
    pruned = graphs.with_edges(graph, "feature-pruned", None, 3).edge_index
    given = set(pairs(graph.edge_index))
    assert set(pairs(pruned)) <= given and pruned.shape[1] < len(given)


def test_fit_probe_names_the_knn_graph_it_built(monkeypatch, capsys):
    fits = importlib.import_module("benchmarks.explore.fits")
    monkeypatch.setattr(fits, "probe", lambda kind, graph, seed, params: {"seed": seed})
    fits.main(["--tiny", "fit", "karate", "--edges", "feature-knn", "--knn", "3",
               "--knn-metric", "cosine"])
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["edges"] == \
        "feature-knn:3:cosine"


def test_fit_probe_on_new_edges_keeps_the_given_graphs_feature_transform(monkeypatch, capsys):
    """A degree code stays ordinal on a kNN graph, whose degrees would make "auto" read
    it as TF-IDF: the transform is resolved on the given graph, recorded in the line, and
    --params still decides when it names one."""
    fits = importlib.import_module("benchmarks.explore.fits")
    graphs = importlib.import_module("benchmarks.explore._graphs")  # where the edges change
    karate = load_dataset("karate")
    resolved_on, seen = [], []
    monkeypatch.setattr(fits, "load_graph", lambda spec, root, sbm_seed=0: karate)
    monkeypatch.setattr(graphs, "auto_features", lambda graph: resolved_on.append(graph)
                        or type("Resolved", (), {"kind_": "ordinal"})())
    monkeypatch.setattr(graphs, "with_edges",
                        lambda graph, edges, transform, *knn: graph.clone())
    monkeypatch.setattr(fits, "probe", lambda kind, graph, seed, params: seen.append(params)
                        or {"seed": seed})
    fits.main(["--tiny", "fit", "karate", "--edges", "none"])
    fits.main(["--tiny", "fit", "karate", "--edges", "none", "--params",
               '{"features": "tfidf"}'])
    fits.main(["--tiny", "fit", "karate"])
    assert [params.get("features") for params in seen] == ["ordinal", "tfidf", None]
    assert all(graph is karate for graph in resolved_on)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["params"].get("features") for line in lines] == ["ordinal", "tfidf", None]


def test_fit_probe_resolves_the_feature_transform_once_per_graph(monkeypatch):
    """The kNN edges and the fit's recorded params come from one resolve of "auto"."""
    fits = importlib.import_module("benchmarks.explore.fits")
    graphs = importlib.import_module("benchmarks.explore._graphs")  # where the edges change
    resolve, calls = graphs.auto_features, []
    monkeypatch.setattr(graphs, "auto_features", lambda graph: calls.append(graph)
                        or resolve(graph))
    monkeypatch.setattr(fits, "probe", lambda kind, graph, seed, params: {"seed": seed})
    fits.main(["--tiny", "fit", "karate", "--edges", "feature-knn"])
    assert len(calls) == 1


def test_consensus_probe_merges_the_groups_runs(capsys):
    """``explore.fits consensus``: each run scored, their agreement, the medoid one of them."""
    importlib.import_module("benchmarks.explore.fits").main(
        ["--tiny", "consensus", "karate", "--restarts", "3"])
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["group"] == 0 and len(row["runs"]) == 3
    assert -1 <= row["mean_pairwise_ari"] <= 1
    assert row["medoid"] in row["runs"] and len(row["consensus"]) == 2


def test_whitening_keeping_mean_equalises_but_does_not_centre():
    """``explore.fits --whitening-keeps-mean``: the start's whitening with ``b <- M b``;
    the outputs' mean is ``M`` times the old one, not zero, and the module's function is
    restored after."""
    fits = importlib.import_module("benchmarks.explore.fits")
    real = fits.start_module.whiten_linear_
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(200, 6, generator=generator) + 1.0
    layer = torch.nn.Linear(6, 3)
    with torch.no_grad():
        before = layer(x)
    with fits._whitening_keeping_mean():
        matrix = fits.start_module.whiten_linear_(layer, before, 0.3)
    with torch.no_grad():
        after = layer(x)
    assert fits.start_module.whiten_linear_ is real
    assert torch.allclose(after.mean(0), matrix @ before.mean(0), atol=1e-4)
    assert after.mean(0).abs().max() > 0.1
    assert torch.allclose(after - after.mean(0), (before - before.mean(0)) @ matrix.T,
                          atol=1e-4)


def test_closed_form_map_minimises_the_spectral_contrastive_loss():
    """``explore.closed_form``: the scaled generalised eigenvectors give the linear map's
    lowest spectral contrastive loss; a nudge in any direction raises it."""
    import numpy as np

    closed_form = importlib.import_module("benchmarks.explore.closed_form")
    rng = np.random.default_rng(0)
    y = rng.normal(size=(60, 6))
    mix = rng.random((60, 60))
    s = (mix + mix.T) / 120  # any symmetric positive-pair weights
    smoothed, twice = s @ y, s @ (s @ y)
    vectors, values = closed_form.spectral_maps(y, smoothed, twice, 2, 0.0, 3)
    assert np.all(np.diff(values) <= 0)
    positives = y.T @ (smoothed + twice) / 60
    covariance = y.T @ y / 60
    np.testing.assert_allclose(positives @ vectors, covariance @ vectors * values, atol=1e-10)

    def loss(w):
        return -2 * np.trace(w.T @ positives @ w) + np.linalg.norm(w.T @ covariance @ w) ** 2

    best = vectors * np.sqrt(values)
    assert all(loss(best) < loss(best + 0.05 * rng.normal(size=best.shape)) for _ in range(20))


def test_rank_rise_reads_the_climb_after_the_lowest_trained_check():
    """``explore.rank_rise``: the check before training is left out; the rise is the
    largest later share over the minimum, less one."""
    rank_rise = importlib.import_module("benchmarks.explore.rank_rise").rank_rise
    curve = {"held_out_rank": [[0, 0.05], [10, 0.2], [20, 0.1], [30, 0.13], [40, 0.12]],
             "held_out_loss": [[0, 7.0], [10, 6.5], [20, 6.2], [30, 6.1], [40, 6.3]]}
    assert rank_rise(curve) == {"loss_min_step": 30, "rank_min_step": 20, "rank_rise": 0.3,
                                "rank_climb": 0.03, "rank_taught_share": 2.0}
    assert rank_rise({"held_out_rank": [], "held_out_loss": []})["rank_rise"] is None


def test_rank_rise_replays_the_rule_as_it_is_now():
    """A level loss (under START_EROSION) runs on; a rank share that training cut from
    0.3 to 0.1 and that then climbs 40% stops the start at the loss's minimum."""
    replayed = importlib.import_module("benchmarks.explore.rank_rise").replayed_lengths
    losses = [[0, 5.0], [10, 4.0], [20, 3.0], [30, 3.05], [40, 3.05], [50, 3.05]]
    ranks = [[0, 0.3], [10, 0.2], [20, 0.1], [30, 0.14], [40, 0.14], [50, 0.14]]
    curve = {"held_out_loss": losses, "held_out_rank": ranks, "gate": 0.5}
    assert replayed(curve) == {"length_by_loss": 50, "length_by_rule": 20}
    # An untrained map that already ranked the partners (0.12: training did not halve it).
    untrained = {**curve, "held_out_rank": [[0, 0.12], *ranks[1:]]}
    assert replayed(untrained) == {"length_by_loss": 50, "length_by_rule": 50}
    assert replayed({"held_out_loss": [], "held_out_rank": [], "gate": 0.5}) == \
        {"length_by_loss": None, "length_by_rule": None}


def test_rank_rise_reads_a_lowest_rank_share_of_zero():
    rank_rise = importlib.import_module("benchmarks.explore.rank_rise").rank_rise
    curve = {"held_out_rank": [[0, 0.3], [10, 0.0], [20, 0.02]],
             "held_out_loss": [[0, 7.0], [10, 6.5], [20, 6.6]]}
    assert rank_rise(curve) == {"loss_min_step": 10, "rank_min_step": 10, "rank_rise": None,
                                "rank_climb": 0.02, "rank_taught_share": 0.0}


def test_a_table_spec_is_the_graph_fit_x_builds():
    """``table:NAME``: the features alone, with the kNN graph SCGCStar builds for a plain
    matrix (a table of TABLES, or a data set's features without its edges)."""
    from sklearn.datasets import load_iris

    from graphclust import SCGCStar

    graphs = importlib.import_module("benchmarks.explore._graphs")
    iris = graphs.load_graph("table:iris", root=".")
    x, y = load_iris(return_X_y=True)
    fitted = SCGCStar(3, max_epochs=0, pretrain_epochs=0, random_state=0).fit(x)
    assert torch.equal(iris.edge_index, fitted._graph(x, fitted=True).edge_index)
    assert iris.y.tolist() == y.tolist()
    karate = load_dataset("karate")
    table = graphs.load_graph("table:karate", root=".")
    assert torch.equal(table.x, karate.x.to_dense()) and table.y.tolist() == karate.y.tolist()
    assert not torch.equal(table.edge_index, karate.edge_index)


def test_the_loss_rule_only_probe_turns_the_rank_reading_off_for_the_run(monkeypatch, capsys):
    fits = importlib.import_module("benchmarks.explore.fits")
    from graphclust.starts.held_out_rule import START_RANK_EROSION

    seen = []
    monkeypatch.setattr(fits, "probe", lambda kind, graph, seed, params: seen.append(
        fits.held_out_rule.START_RANK_EROSION) or {"seed": seed})
    fits.main(["--tiny", "fit", "karate", "--loss-rule-only"])
    fits.main(["--tiny", "fit", "karate"])
    assert seen == [float("inf"), START_RANK_EROSION]
    assert fits.held_out_rule.START_RANK_EROSION == START_RANK_EROSION
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("loss_rule_only") for line in lines] == [True, None]


def test_joint_held_out_fits_without_the_set_aside_edges_and_restores_the_loop():
    probe = importlib.import_module("benchmarks.explore.joint_held_out")
    from graphclust import SCGCStar
    from graphclust.data import make_sbm

    graph = make_sbm(200, 3, 8, avg_degree=8, random_state=0)
    seen = []

    class Recording(SCGCStar):
        def fit(self, X, y=None, adjacency=None):
            seen.append(X.edge_index)
            return super().fit(X, y, adjacency)

    hooks = (probe.estimator_module.train_clusterer, probe.training_loop.optimizer_step,
             probe.training_loop.evaluate)
    original = probe.SCGCStar
    probe.SCGCStar = Recording
    try:
        row = probe.joint_held_out(graph, 0, 0.2, 2, {"pretrain_epochs": 20, "max_epochs": 5,
                                                      "hidden_dims": (16,),
                                                      "embedding_dim": 4})
    finally:
        probe.SCGCStar = original
    assert hooks == (probe.estimator_module.train_clusterer,
                     probe.training_loop.optimizer_step, probe.training_loop.evaluate)
    pairs = lambda edges: set(map(tuple, edges.t().tolist()))  # noqa: E731
    trained_on, given = pairs(seen[0]), pairs(graph.edge_index)
    assert trained_on < given and len(given - trained_on) >= 2 * row["held_out_pairs"]
    read = row["epoch_acc_nmi_heldloss_heldrank"]
    assert row["epochs"] >= 1
    assert [entry[0] for entry in read] == \
        [i + 1 for i in sorted({*range(0, row["epochs"], 2), row["epochs"] - 1})]
    assert all(0 <= entry[4] <= 1 for entry in read)


def test_held_out_thresholds_are_restored_after_an_error():
    fits = importlib.import_module("benchmarks.explore.fits")
    from graphclust.starts.held_out_rule import START_EROSION, START_RANK_FLOOR

    with pytest.raises(RuntimeError, match="inside"):
        with fits.held_out_thresholds(START_EROSION=0.5, START_RANK_FLOOR=1.0):
            assert fits.held_out_rule.START_EROSION == 0.5
            raise RuntimeError("inside")
    assert (fits.held_out_rule.START_EROSION, fits.held_out_rule.START_RANK_FLOOR) == \
        (START_EROSION, START_RANK_FLOOR)


@pytest.mark.parametrize("dataset", ["sbm", "table:iris"])
def test_a_subgraph_of_a_made_graph_is_refused(dataset, capsys):
    fits = importlib.import_module("benchmarks.explore.fits")
    with pytest.raises(SystemExit):
        fits.main(["fit", dataset, "--subgraph", "30"])
    assert f"--subgraph draws from a loaded data set, not from '{dataset}'" in \
        capsys.readouterr().err


def test_rank_rise_replays_the_withdrawn_rule_on_request(tmp_path, capsys):
    """A kNN-like curve (the untrained map ranks as well as training does) that the
    withdrawn rule cut and today's leaves alone."""
    rank_rise = importlib.import_module("benchmarks.explore.rank_rise")
    curve = {"dataset": "made-up", "seed": 0, "gate": 0.5,
             "held_out_loss": [[0, 5.0], [10, 4.0], [20, 3.0], [30, 3.05], [40, 3.05]],
             "held_out_rank": [[0, 0.1], [10, 0.12], [20, 0.1], [30, 0.14], [40, 0.14]]}
    path = tmp_path / "curves.jsonl"
    path.write_text(json.dumps(curve) + "\n")
    held_out_rule = importlib.import_module("graphclust.starts.held_out_rule")
    before = (held_out_rule.START_RANK_TAUGHT, held_out_rule.START_RANK_FLOOR)
    rank_rise.main([str(path)])
    rank_rise.main([str(path), "--withdrawn"])
    assert (held_out_rule.START_RANK_TAUGHT, held_out_rule.START_RANK_FLOOR) == before
    now, withdrawn = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (now["length_by_loss"], now["length_by_rule"]) == (40, 40)
    assert (withdrawn["length_by_loss"], withdrawn["length_by_rule"]) == (40, 20)
