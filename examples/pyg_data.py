"""Cluster a PyTorch Geometric ``Data`` object.

PyG's ``KarateClub`` ships inside torch_geometric (no download): Zachary's karate club,
34 nodes, one-hot identity features and 4 communities found by modularity. Any
``Data`` with ``x`` and ``edge_index`` works the same way; ``y``, when present, is used
only to record per-epoch scores in ``history_``, never to train.

Run: ``python examples/pyg_data.py`` (a few seconds).
"""

from torch_geometric.datasets import KarateClub

from graphclust import SCGC, SCGCStar, evaluate

data = KarateClub()[0]
print(data)
# graphclust keeps x, edge_index and y; it drops other attributes (here train_mask) and
# says so with a GraphInputWarning rather than silently.

for model_class in (SCGC, SCGCStar):
    # The graph is the only signal here (identity features), so the contrastive term over
    # longer walks (order=2) matters; a small encoder suffices for 34 nodes. The start
    # keeps its default length; 10 steps are too few for it.
    model = model_class(n_clusters=4, order=2, hidden_dims=(64,), embedding_dim=8,
                        max_epochs=40, tol=0.0, random_state=0)
    labels = model.fit_predict(data)
    scores = evaluate(data.y, labels)
    print(f"{model_class.__name__:>8}: " + "  ".join(
        f"{name.upper()} {value:.3f}" for name, value in scores.items()))
    # history_ has one dict per epoch (phase, loss, ... and ACC/NMI/ARI/F1 from data.y).
    last = model.history_[-1]
    print(f"          last epoch: {last['phase']} {last['epoch']}, loss {last['loss']:.4f}")
