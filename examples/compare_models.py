"""Compare models with the benchmark runner's Python API.

``run_benchmark`` fits every model on every data set with every seed (``n_clusters`` =
number of classes), and the no-training baselines beside them (``svd-kmeans`` at t = 0..3
propagation steps, ``degree-kmeans``); it records scores, time and memory per run, writes
``results.csv``, ``results.md`` and plots to ``out``, and compares each trained model with
the best baseline. It is what ``graphclust bench`` runs.

Run: ``python examples/compare_models.py [OUT_DIR]`` (seconds; default output folder
``./compare-models``).
"""

import sys

from graphclust.benchmark import run_benchmark

out = sys.argv[1] if len(sys.argv) > 1 else "compare-models"

# Zachary's karate club, 2 models x 3 seeds, with few epochs and a small encoder so that
# the example takes seconds; for real comparisons list more data sets (e.g. "digits",
# "dblp" with root=...) and keep the default epochs and encoder. With the default
# order=2, SCGC's positives are 2-step walks and SCGC*'s 1- and 2-step walks.
results = run_benchmark(
    datasets=["karate"],
    models=["scgc", "scgc-star"],
    seeds=3,
    out=out,
    protocol="both",
    params={"max_epochs": 30, "pretrain_epochs": 100, "hidden_dims": (64,), "embedding_dim": 16},
    progress=False,
)

for entry in results.summary:
    trained = entry["model"] not in results.baselines  # baselines have no epochs to pick
    paper = f"(paper protocol ACC {entry['paper_acc_mean']:.3f}, optimistic)  " if trained else ""
    print(f"{entry['dataset']:>7} {entry['model']:>14}: "
          f"ACC {entry['acc_mean']:.3f} ± {entry['acc_std']:.3f}  "
          f"NMI {entry['nmi_mean']:.3f} ± {entry['nmi_std']:.3f}  "
          f"{paper}{entry['train_seconds_mean']:.1f} s/fit")
for item in results.comparisons:
    print(f"{item['model']} {item['metric'].upper()} minus the best no-training baseline "
          f"({item['baseline']}): {item['margin']:+.3f}")
print("failed runs:", len(results.failures))
print("written:", ", ".join(str(path) for path in results.files))
