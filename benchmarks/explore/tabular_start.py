"""The linear start alone on a plain matrix's kNN graph: its length and its whitening.

    python -m benchmarks.explore.tabular_start iris [--seeds 3] [--steps 1,10,20,50,100,200]

DATA: one of ``benchmarks.bench_tabular``'s scikit-learn data sets. Per start length and
``start_whitening`` (0.3, the default, and ``None``): ACC / NMI of SCGC*'s labels with the
start alone (``max_epochs=0``) run for exactly that many steps (``start_holdout=None``),
means over the seeds; then the held-out loss at each check of a default fit (seed 0).
One JSON line each; ``--tiny``: iris, one seed, one length.
"""

from __future__ import annotations

import json

import numpy as np

from benchmarks._machine import parse, script_parser
from benchmarks.bench_tabular import DATASETS
from graphclust import SCGCStar, evaluate
from graphclust.starts.held_out_rule import held_out_checks


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, seeds=3, root=False)
    parser.add_argument("data", choices=sorted(DATASETS))
    parser.add_argument("--steps", default="1,10,20,50,100,200",
                        help="comma-separated start lengths (default: %(default)s)")
    args = parse(parser, argv, "benchmarks.explore.tabular_start")
    loaded = DATASETS[args.data]()
    x, y = loaded.data.astype(np.float32), loaded.target
    k = int(y.max()) + 1
    lengths = [1] if args.tiny else [int(step) for step in args.steps.split(",")]
    for steps in lengths:
        for whitening in (0.3, None):
            scores = [evaluate(y, SCGCStar(n_clusters=k, max_epochs=0, pretrain_epochs=steps,
                                           start_holdout=None, start_whitening=whitening,
                                           random_state=seed).fit(x).labels_)
                      for seed in range(args.seeds)]
            print(json.dumps({"data": args.data, "steps": steps, "start_whitening": whitening,
                              **{m: round(float(np.mean([s[m] for s in scores])), 4)
                                 for m in ("acc", "nmi")}}), flush=True)
    model = SCGCStar(n_clusters=k, random_state=0,
                     **({"pretrain_epochs": 20} if args.tiny else {})).fit(x)
    print(json.dumps({"data": args.data, "held_out_loss": [
        [entry["epoch"], round(entry["held_out_loss"], 4)]
        for entry in held_out_checks(model.history_)], "start_length": model.start_length_}))


if __name__ == "__main__":
    main()
