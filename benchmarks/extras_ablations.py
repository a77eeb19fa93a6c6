"""Each extra of ``graphclust.extras`` against the plain model, on DBLP and Cora.

    python -m benchmarks.extras_ablations GROUP [--seeds 5] [--root ../shared/data]
        [--only VARIANT,...] [--table-only]

``GROUP`` names a module ``benchmarks/extras/GROUP.py`` that defines ``VARIANTS``, a dict
from a variant name to the estimator parameters it changes (usually ``encoder=`` an extras
configuration), and optionally ``MODEL`` (a key of ``graphclust.MODELS``, default
``"scgc-star"``) and ``PLAIN`` (the parameters of the reference run, default ``{}``:
the model's defaults under ``_recipes.EXTRAS_RECIPE``, the start the extras can take).
Every variant and the plain model run with the same seeds through
:func:`graphclust.benchmark.run_benchmark`; raw runs go to
``benchmarks/results/extras/GROUP/<variant>/`` and the comparison table (quality, train
time, parameters, peak memory, epochs, difference to plain) to
``benchmarks/results/extras/GROUP.md`` (``--out`` names that folder). Nothing is tuned
here: a variant is run once with the settings its file states.
"""

from __future__ import annotations

import csv
import importlib
import pkgutil
from pathlib import Path

import numpy as np

from benchmarks import extras
from benchmarks._machine import fit_params, parse, results_header, script_parser, write_results
from benchmarks._recipes import EXTRAS_RECIPE
from graphclust.benchmark import run_benchmark


def load_group(name: str):
    """The module ``benchmarks.extras.<name>`` that lists a group's variants."""
    known = sorted(module.name for module in pkgutil.iter_modules(extras.__path__))
    if name not in known:
        raise SystemExit(f"no variants module benchmarks.extras.{name}; groups: "
                         f"{', '.join(known)}")
    return importlib.import_module(f"benchmarks.extras.{name}")


def _cell(values: list[float], digits: int) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "n/a"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/extras", datasets="dblp,cora",
                           seeds=5)
    parser.add_argument("group")
    parser.add_argument("--only", default=None,
                        help="comma-separated variant names to run (default: all, plus "
                             "plain); the table reads the others' earlier runs")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing; rewrite the group table from every variant's "
                             "earlier runs (after runs split over processes with --only)")
    args = parse(parser, argv, "benchmarks.extras_ablations")
    group = load_group(args.group)
    model = getattr(group, "MODEL", "scgc-star")
    plain = {**EXTRAS_RECIPE, **getattr(group, "PLAIN", {}), **fit_params(args)}
    variants = {"plain": plain, **{name: {**plain, **params}
                                   for name, params in group.VARIANTS.items()}}
    wanted = [] if args.table_only else args.only.split(",") if args.only else list(variants)
    unknown = sorted(set(wanted) - set(variants))
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; {args.group} has {', '.join(variants)}")
    folder = args.out / args.group
    rows = {name: _earlier_rows(folder / name) for name in variants if name not in wanted}
    for name in wanted:
        # One grid a variant: its table compares the variants with "plain", as it did
        # before the runner added the no-training baselines to every grid.
        results = run_benchmark(args.datasets, [model], seeds=args.seeds, root=args.root,
                                out=folder / name, params=variants[name], progress=False,
                                command=args.command, baselines=False)
        rows[name] = results.rows
        failed = [row for row in results.rows if row["status"] != "ok"]
        print(f"{args.group}/{name}: {len(results.rows) - len(failed)} ok, {len(failed)} failed",
              flush=True)
    write_table(args, model, variants, rows)


def _earlier_rows(folder: Path) -> list[dict]:
    """The rows of a variant's earlier run (its results.csv), numbers parsed; [] if none."""
    path = folder / "results.csv"
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return [{key: (_number(value) if key not in ("dataset", "model", "status", "params",
                                                     "error", "device") else value)
                 for key, value in row.items()} for row in csv.DictReader(handle)]


def _number(text: str):
    return None if text == "" else float(text)


def write_table(args, model, variants, rows) -> None:
    datasets = args.datasets
    lines = [*results_header(f"Extras ablation: {args.group}", args.command),
             f"Model `{model}`, seeds 0-{args.seeds - 1}, final model, mean ± std. Raw runs "
             f"(machine, per-seed rows): `{args.group}/<variant>/results.{{md,csv}}`.", "",
             "| variant | data set | ACC | NMI | ARI | ΔACC vs plain | train s | parameters "
             "| peak RSS increase MiB | epochs | failed |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    plain_acc = {d: np.nanmean([r["acc"] for r in rows.get("plain", []) if r["dataset"] == d
                                and r["status"] == "ok"] or [np.nan]) for d in datasets}
    table = {}
    for name in variants:
        for dataset in datasets:
            runs = [r for r in rows[name] if r["dataset"] == dataset]
            ok = [r for r in runs if r["status"] == "ok"]

            def values(key, ok=ok):
                return [float(r[key]) for r in ok if r.get(key) is not None]

            delta = (np.mean(values("acc")) - plain_acc[dataset]) if ok else np.nan
            table[(name, dataset)] = (
                f"| {name} | {dataset} | {_cell(values('acc'), 3)} | {_cell(values('nmi'), 3)} "
                f"| {_cell(values('ari'), 3)} | {delta:+.3f} | {_cell(values('train_seconds'), 1)} "
                f"| {int(np.mean(values('parameters'))) if ok else 'n/a'} "
                f"| {_cell(values('peak_rss_increase_mib'), 0)} | {_cell(values('n_iter'), 0)} "
                f"| {len(runs) - len(ok)} |")
    lines += list(table.values())
    params = {name: {k: repr(v) for k, v in p.items()} for name, p in variants.items()}
    lines += ["", "Variants (parameters changed from the model's defaults):", ""]
    lines += [f"- `{name}`: " + (", ".join(f"`{k}={v}`" for k, v in p.items()) or "defaults")
              for name, p in params.items()]
    write_results(args.out / f"{args.group}.md", lines)


if __name__ == "__main__":
    main()
