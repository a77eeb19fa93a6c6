"""Compare models with the benchmark runner's Python API.

``run_benchmark`` fits every model on every data set with every seed (``n_clusters`` =
number of classes), records scores, time and memory per run, and writes ``results.csv``,
``results.md`` and plots to ``out``. It is what ``graphclust bench`` runs.

Run: ``python examples/compare_models.py [OUT_DIR]`` (about 20-40 s; default output folder
``./compare-models``).
"""

import sys

from graphclust.benchmark import run_benchmark

out = sys.argv[1] if len(sys.argv) > 1 else "compare-models"

# Few epochs and a smaller encoder than the defaults so that 2 data sets x 2 models x
# 2 seeds finish in well under a minute; use the defaults for real comparisons.
results = run_benchmark(
    datasets=["karate", "digits"],
    models=["scgc", "scgc-star"],
    seeds=2,
    out=out,
    protocol="both",
    params={"max_epochs": 15, "pretrain_epochs": 5, "hidden_dims": (128, 32)},
    progress=False,
)

for entry in results.summary:
    print(f"{entry['dataset']:>7} {entry['model']:>9}: "
          f"ACC {entry['acc_mean']:.3f} ± {entry['acc_std']:.3f}  "
          f"NMI {entry['nmi_mean']:.3f} ± {entry['nmi_std']:.3f}  "
          f"(paper protocol ACC {entry['paper_acc_mean']:.3f}, optimistic)  "
          f"{entry['train_seconds_mean']:.1f} s/fit")
print("failed runs:", len(results.failures))
print("written:", ", ".join(str(path) for path in results.files))
