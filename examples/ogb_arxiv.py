"""Cluster OGB's ogbn-arxiv (169,343 papers, 40 subject areas) from local files.

graphclust reads the OGB layout from ``<root>/ogb/ogbn_arxiv`` (the folder that
``ogb.nodeproppred.PygNodePropPredDataset(name="ogbn-arxiv", root=<root>/ogb)`` downloads);
``root`` is the first argument, else ``$GRAPHCLUST_DATA``, else ``~/.graphclust/data``.
To fetch it once (network needed): ``load_dataset("ogbn-arxiv", root, download=True)``.

Without the files this example prints why and exits with status 0, so it is safe to run
anywhere.

Run: ``python examples/ogb_arxiv.py [DATA_ROOT]``.
"""

import sys
import time

from graphclust import SCGCStar, evaluate, load_dataset

root = sys.argv[1] if len(sys.argv) > 1 else None
try:
    graph = load_dataset("ogbn-arxiv", root)
except FileNotFoundError as error:
    print(f"skipping: ogbn-arxiv is not available ({error})")
    sys.exit(0)

print(f"ogbn-arxiv: {graph.num_nodes} nodes, {graph.edge_index.shape[1] // 2} edges")
# batch_size trains on sampled mini-batches of nodes instead of the full graph, whose
# N x N similarity matrix would not fit in memory at this size. A GPU (device="auto"
# picks it) makes this minutes instead of hours.
# The start keeps its default of 200 Adam steps (each on one seed batch), as in the DBLP
# mini-batch runs of benchmarks/results/scale.md.
model = SCGCStar(n_clusters=40, batch_size=4096, max_epochs=50, random_state=0,
                 verbose=True)
start = time.perf_counter()
labels = model.fit_predict(graph)
print(f"fitted in {time.perf_counter() - start:.0f} s on {model.device_}")
print({name: round(value, 4) for name, value in evaluate(graph.y, labels).items()})
