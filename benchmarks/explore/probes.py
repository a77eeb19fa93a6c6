"""Exploratory probes behind benchmarks/results/notes.md (the 2026-12-01 section).

Contrastive-only training of a small encoder with the package's loss, then questions about
the embeddings. Prints one line per probe; the notes quote these lines.

    python -m benchmarks.explore.probes start DATASET '{"hidden": [], "checks": [100, 400]}'
    python -m benchmarks.explore.probes heads DATASET '{"checks": [50, 100]}'
    python -m benchmarks.explore.probes merge DATASET '{"steps": 200}'
    python -m benchmarks.explore.probes smooth DATASET '{"steps": 100}'
    python -m benchmarks.explore.probes whiten DATASET '{"hidden": [], "lr": 0.01, "wd": 1e-4}'

The training loop is the package's pieces (its features transform, positive weights,
contrastive loss, MLP, k-means and whitening) in a loop of its own, because the probes
need what the estimator does not offer: embeddings at several steps of one run, input
dropout, debiased negatives and skip paths. Every probe is quoted in ``notes.md``.

``start``: k-means ACC/NMI of the normalised embeddings at step checkpoints; switches
``hidden`` (hidden widths, ``[]`` = linear), ``emb``, ``lr``, ``wd``, ``drop`` (input
dropout), ``tau``, ``order``, ``kind`` (``influence``/``power``), ``features``, ``prop``
(steps of symmetric propagation of the input, a graph-smoothed reference), ``skip``
(a linear path plus this times an MLP path), ``zero`` (MLP path's last layer at zero).
``heads``: other clustering algorithms on the same embeddings. ``merge``: k-means into 2K or
3K clusters merged greedily by modularity gain down to K. ``smooth``: k-means after
propagating the embeddings over the graph, label propagation of the k-means labels, and a
5-fold logistic-regression probe (how much class information the embedding holds).
``whiten``: k-means after the shrunk whitening of ``graphclust.nn.whitening`` (variances
rescaled by ``(lambda_i / lambda_1 + eps) ** -0.5``) for several ``eps``, at ``"steps"``
(default 200). ``prior`` (in ``start``): debiased negatives (Chuang et al. 2020) with that
class prior instead of the package's loss.
Data root: ``--root`` (default ``../shared/data``); seeds ``[0, 1]`` unless ``"seeds"``;
``--tiny``: karate, one seed, two steps.
"""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from benchmarks._machine import TINY_DATASET, parse, script_parser
from graphclust import evaluate, load_dataset
from graphclust.data.transforms import FeatureTransform
from graphclust.kmeans import kmeans
from graphclust.metrics import modularity
from graphclust.nn.mlp import MLP
from graphclust.objectives.contrastive import (
    neighbor_contrastive_loss,
    normalized_adjacency,
    positive_weights,
)


class _Skip(torch.nn.Module):
    """A linear map plus ``scale`` times an MLP of the same input."""

    def __init__(self, dims, scale: float, zero: bool):
        super().__init__()
        self.linear = torch.nn.Linear(dims[0], dims[-1])
        self.mlp = MLP(dims)
        self.scale = scale
        if zero:
            torch.nn.init.zeros_(self.mlp.layers[-1].weight)
            torch.nn.init.zeros_(self.mlp.layers[-1].bias)

    def forward(self, x):
        return self.linear(x) + self.scale * self.mlp(x)


def debiased_loss(anchors, candidates, pairs, tau, prior, self_candidate):
    """Dense debiased contrastive loss (Chuang et al. 2020) with graph positives.

    A random candidate shares the anchor's class with probability ``prior``; the negatives'
    mean exp-similarity is corrected by removing that share estimated from the positives.
    """
    a, c = F.normalize(anchors, dim=1), F.normalize(candidates, dim=1)
    logits = tau * (a @ c.T)
    logits[torch.arange(len(a)), self_candidate] = 0.0
    rows, cols, weights = pairs
    total = torch.zeros(len(a)).index_add_(0, rows, weights)
    positive = torch.zeros(len(a)).index_add_(0, rows, weights * logits[rows, cols].exp()) / total
    negative = ((logits.exp().mean(1) - prior * positive) / (1 - prior)).clamp_min(
        float(np.exp(-tau)))
    return (negative.log() - positive.log()).mean()


class Setup:
    """A data set, its transformed features and the contrastive positives (isolated out)."""

    def __init__(self, dataset: str, cfg: dict, root: str):
        self.graph = load_dataset(dataset, root=root)
        self.y = self.graph.y.numpy()
        self.k = int(self.y.max()) + 1
        n = self.n = self.graph.num_nodes
        x = FeatureTransform(cfg.get("features", "auto")).fit(self.graph.x).transform(self.graph.x)
        if cfg.get("prop", 0):
            s = normalized_adjacency(self.graph.edge_index, n, symmetric=True)
            for _ in range(cfg["prop"]):
                x = torch.sparse.mm(s, x)
            x = F.normalize(x, dim=1)
        self.x = x
        w = positive_weights(self.graph.edge_index, n, cfg.get("order", 2),
                             cfg.get("kind", "influence"))
        row, col = w.indices()
        degree = torch.bincount(self.graph.edge_index[0], minlength=n)
        self.anchors = (degree > 0).nonzero().squeeze(1)
        remap = torch.full((n,), -1)
        remap[self.anchors] = torch.arange(len(self.anchors))
        keep = remap[row] >= 0
        self.pairs = (remap[row[keep]], col[keep], w.values()[keep])

    def encoder(self, cfg: dict) -> torch.nn.Module:
        dims = [self.x.shape[1], *cfg.get("hidden", [256]), cfg.get("emb", 32)]
        if cfg.get("skip"):
            return _Skip(dims, cfg["skip"], cfg.get("zero", False))
        return MLP(dims)

    def train(self, cfg: dict, seed: int, checks):
        """Yield ``(step, normalised embeddings)`` at each checkpoint."""
        torch.manual_seed(seed)
        encoder = self.encoder(cfg)
        optimizer = torch.optim.Adam(encoder.parameters(), lr=cfg.get("lr", 1e-3),
                                     weight_decay=cfg.get("wd", 0.0))
        drop = cfg.get("drop", 0.0)
        for step in range(1, max(checks) + 1):
            z = encoder(F.dropout(self.x, drop) if drop else self.x)
            if "prior" in cfg:
                loss = debiased_loss(z[self.anchors], z, self.pairs, cfg.get("tau", 1.0),
                                     cfg["prior"], self.anchors)
            else:
                loss = neighbor_contrastive_loss(z[self.anchors], z, *self.pairs,
                                                 cfg.get("tau", 1.0),
                                                 self_candidate=self.anchors)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step in checks:
                with torch.no_grad():
                    yield step, F.normalize(encoder(self.x), dim=1)

    def kmeans(self, z: torch.Tensor, k: int, seed: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        return kmeans(z, k, n_init=10, generator=generator).labels.numpy()

    def score(self, labels) -> str:
        r = evaluate(self.y, labels)
        return f"{r['acc']:.3f}/{r['nmi']:.3f}/{r['ari']:.3f}"


def probe_start(setup: Setup, cfg: dict, seeds) -> str:
    checks = cfg.get("checks", [25, 50, 100, 200, 400])
    scores = {c: [] for c in checks}
    for seed in seeds:
        for step, z in setup.train(cfg, seed, checks):
            r = evaluate(setup.y, setup.kmeans(z, setup.k, seed))
            scores[step].append((r["acc"], r["nmi"]))
    return " ".join(f"{c}:{np.mean([a for a, _ in v]):.3f}/{np.mean([b for _, b in v]):.3f}"
                    for c, v in scores.items())


def probe_heads(setup: Setup, cfg: dict, seeds) -> str:
    from sklearn.cluster import AgglomerativeClustering, KMeans, SpectralClustering
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    out = []
    for seed in seeds:
        for step, z in setup.train(cfg, seed, cfg.get("checks", [50, 100])):
            z, k = z.numpy(), setup.k
            found = {"km": KMeans(k, n_init=10, random_state=seed).fit_predict(z)}
            for cov in ("diag", "full"):
                found["gmm-" + cov] = GaussianMixture(
                    k, covariance_type=cov, n_init=3, random_state=seed,
                    reg_covar=1e-4).fit(z).predict(z)
            found["spectral"] = SpectralClustering(
                k, affinity="nearest_neighbors", n_neighbors=15,
                random_state=seed).fit_predict(z)
            found["ward"] = AgglomerativeClustering(k, linkage="ward").fit_predict(z)
            found["pca-km"] = KMeans(k, n_init=10, random_state=seed).fit_predict(
                PCA(k, random_state=0).fit_transform(z))
            out.append(f"seed {seed} step {step}: " + ", ".join(
                f"{name} {setup.score(labels)}" for name, labels in found.items()))
    return "\n".join(out)


def _modularity_matrix_parts(setup: Setup):
    edges = setup.graph.edge_index.numpy()
    adjacency = sp.csr_matrix((np.ones(edges.shape[1]), (edges[0], edges[1])),
                              shape=(setup.n, setup.n))
    return adjacency, adjacency.sum()


def merge_by_modularity(adjacency, total: float, labels: np.ndarray, k: int) -> np.ndarray:
    """Greedily merge the pair of clusters with the largest modularity gain until k remain."""
    n = adjacency.shape[0]
    labels = labels.copy()
    while labels.max() + 1 > k:
        member = sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, labels.max() + 1))
        between = (member.T @ adjacency @ member).toarray() / total
        share = np.asarray(adjacency.sum(1)).ravel() @ member.toarray() / total
        gain = 2 * (between - np.outer(share, share))
        np.fill_diagonal(gain, -np.inf)
        i, j = np.unravel_index(np.argmax(gain), gain.shape)
        labels[labels == j] = i
        labels = np.unique(labels, return_inverse=True)[1]
    return labels


def probe_merge(setup: Setup, cfg: dict, seeds) -> str:
    adjacency, total = _modularity_matrix_parts(setup)
    edges = setup.graph.edge_index
    out = []
    for seed in seeds:
        for step, z in setup.train(cfg, seed, cfg.get("checks", [50, 100, 200])):
            found = {"km": setup.kmeans(z, setup.k, seed)}
            for factor in (2, 3):
                over = setup.kmeans(z, factor * setup.k, seed)
                found[f"x{factor}merge"] = merge_by_modularity(adjacency, total, over, setup.k)
            out.append(f"seed {seed} step {step}: " + ", ".join(
                f"{name} {setup.score(labels)} Q={modularity(edges, labels):.3f}"
                for name, labels in found.items()))
    out.append(f"ground truth Q={modularity(edges, setup.y):.3f}")
    return "\n".join(out)


def probe_smooth(setup: Setup, cfg: dict, seeds) -> str:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    a_hat = normalized_adjacency(setup.graph.edge_index, setup.n)
    out = []
    for seed in seeds:
        for step, z in setup.train(cfg, seed, [cfg.get("steps", 100)]):
            labels = setup.kmeans(z, setup.k, seed)
            found = [f"km {setup.score(labels)}"]
            smoothed = z
            for hops in range(1, 9):
                smoothed = torch.sparse.mm(a_hat, smoothed)
                if hops in (1, 2, 4, 8):
                    clusters = setup.kmeans(F.normalize(smoothed, dim=1), setup.k, seed)
                    found.append(f"A^{hops}z {setup.score(clusters)}")
            one_hot = F.one_hot(torch.from_numpy(labels), setup.k).float()
            spread = one_hot
            for hops in range(1, 9):
                spread = 0.5 * one_hot + 0.5 * torch.sparse.mm(a_hat, spread)
                if hops in (2, 8):
                    found.append(f"lp{hops} {setup.score(spread.argmax(1).numpy())}")
            probe = cross_val_score(LogisticRegression(max_iter=2000), z.numpy(), setup.y, cv=5)
            found.append(f"linear probe {probe.mean():.3f}")
            out.append(f"seed {seed} step {step}: " + ", ".join(found))
    return "\n".join(out)


def probe_whiten(setup: Setup, cfg: dict, seeds) -> str:
    from graphclust.nn.whitening import whiten_linear_

    found: dict[str, list] = {}
    for seed in seeds:
        for _, z in setup.train(cfg, seed, [cfg.get("steps", 200)]):
            variants = {"plain": z}
            for eps in cfg.get("eps", [0.03, 0.1, 0.3, 1.0]):
                identity = torch.nn.Linear(z.shape[1], z.shape[1])
                torch.nn.init.eye_(identity.weight)
                torch.nn.init.zeros_(identity.bias)
                whiten_linear_(identity, z, eps)
                with torch.no_grad():
                    variants[f"eps{eps}"] = F.normalize(identity(z), dim=1)
            for name, embedding in variants.items():
                r = evaluate(setup.y, setup.kmeans(embedding, setup.k, seed))
                found.setdefault(name, []).append((r["acc"], r["nmi"]))
    return " ".join(f"{name}:{np.mean([a for a, _ in v]):.3f}/{np.mean([b for _, b in v]):.3f}"
                    for name, v in found.items())


PROBES = {"start": probe_start, "heads": probe_heads, "merge": probe_merge,
          "smooth": probe_smooth, "whiten": probe_whiten}


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None)
    parser.add_argument("probe", choices=PROBES)
    parser.add_argument("dataset")
    parser.add_argument("config", nargs="?", type=json.loads, default={},
                        help="the probe's switches as JSON (see above)")
    args = parse(parser, argv, "benchmarks.explore.probes")
    cfg, dataset = args.config, args.dataset
    if args.tiny:
        cfg, dataset = {**cfg, "checks": [2], "steps": 2, "seeds": [0]}, TINY_DATASET
    result = PROBES[args.probe](Setup(dataset, cfg, args.root), cfg, cfg.get("seeds", [0, 1]))
    print(dataset, args.probe, json.dumps(cfg), result, flush=True)


if __name__ == "__main__":
    main()
