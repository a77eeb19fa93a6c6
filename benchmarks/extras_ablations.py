"""Each extra of ``graphclust.extras`` against the plain model, on DBLP and Cora.

    python benchmarks/extras_ablations.py GROUP [--seeds 5] [--root ../shared/data]
        [--only VARIANT,...] [--table-only]

``GROUP`` names a file ``benchmarks/extras/GROUP.py`` that defines ``VARIANTS``, a dict
from a variant name to the estimator parameters it changes (usually ``encoder=`` an extras
configuration), and optionally ``MODEL`` (a key of ``graphclust.MODELS``, default
``"scgc-star"``) and ``PLAIN`` (the parameters of the reference run, default ``{}``:
the model's defaults under ``_recipes.EXTRAS_RECIPE``, the start the extras can take).
Every variant and the plain model run with the same seeds through
:func:`graphclust.benchmark.run_benchmark`; raw runs go to
``benchmarks/results/extras/GROUP/<variant>/`` and the comparison table (quality, train
time, parameters, peak memory, epochs, difference to plain) to
``benchmarks/results/extras/GROUP.md``. Nothing is tuned here: a variant is run once with
the settings its file states.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import shlex
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import LOAD_NOTE, load_average, machine_info, write_results  # noqa: E402
from _recipes import EXTRAS_RECIPE  # noqa: E402

from graphclust.benchmark import run_benchmark  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "extras"


def load_group(name: str):
    path = HERE / "extras" / f"{name}.py"
    if not path.is_file():
        known = sorted(p.stem for p in (HERE / "extras").glob("*.py"))
        raise SystemExit(f"no variants file {path}; groups: {', '.join(known)}")
    spec = importlib.util.spec_from_file_location(f"extras_variants_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell(values: list[float], digits: int) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "n/a"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("group")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--root", default="../shared/data")
    parser.add_argument("--datasets", default="dblp,cora")
    parser.add_argument("--only", default=None,
                        help="comma-separated variant names to run (default: all, plus "
                             "plain); the table reads the others' earlier runs")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing; rewrite the group table from every variant's "
                             "earlier runs (after runs split over processes with --only)")
    args = parser.parse_args(argv)
    group = load_group(args.group)
    model = getattr(group, "MODEL", "scgc-star")
    plain = {**EXTRAS_RECIPE, **getattr(group, "PLAIN", {})}
    variants = {"plain": plain, **{name: {**plain, **params}
                                   for name, params in group.VARIANTS.items()}}
    wanted = [] if args.table_only else args.only.split(",") if args.only else list(variants)
    unknown = sorted(set(wanted) - set(variants))
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; {args.group} has {', '.join(variants)}")
    datasets = args.datasets.split(",")
    command = "python benchmarks/extras_ablations.py " + shlex.join(
        argv if argv is not None else sys.argv[1:])
    rows = {name: _earlier_rows(RESULTS / args.group / name) for name in variants
            if name not in wanted}
    for name in wanted:
        params = variants[name]
        results = run_benchmark(datasets, [model], seeds=args.seeds, root=args.root,
                                out=RESULTS / args.group / name, params=params,
                                progress=False, command=command)
        rows[name] = results.rows
        failed = [row for row in results.rows if row["status"] != "ok"]
        print(f"{args.group}/{name}: {len(results.rows) - len(failed)} ok, {len(failed)} failed",
              flush=True)
    write_table(args, model, variants, rows, datasets, command)


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


def write_table(args, model, variants, rows, datasets, command) -> None:
    path = RESULTS / f"{args.group}.md"
    machine = machine_info()
    lines = [f"# Extras ablation: {args.group}", "",
             f"Command: `{command}` ({datetime.date.today().isoformat()}); model `{model}`, "
             f"seeds 0-{args.seeds - 1}, final model, mean ± std. Raw runs (machine, "
             f"per-seed rows): `extras/{args.group}/<variant>/results.{{md,csv}}`.", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in machine.items())
             + f"; load average at the end {load_average()}. "
             + LOAD_NOTE, "",
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
    write_results(path, lines + [""])


if __name__ == "__main__":
    main()
