"""Every script in ``benchmarks/`` runs, on a tiny graph, so that a broken script fails here.

Python scripts run in this process with ``--tiny`` (karate, one seed, a few epochs; the
scripts that time fresh processes run their child's code in this process) and write into
``tmp_path``. Shell scripts run for real with ``graphclust`` and ``python`` on ``PATH``
replaced by recorders: every ``graphclust`` command a script issues is then checked (names,
parameters and their types, as the command checks them before its first fit), the first
one of each script is run on karate, and every ``python -m`` module it calls must be one
of the scripts run here. ``gpu_check.sh`` has its own rehearsal test
(``tests/test_scale_scripts.py``); here only the modules it names are checked.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks import _machine
from graphclust import load_dataset
from graphclust.benchmark import model_params
from graphclust.cli import main as graphclust_main
from graphclust.cli.assignments import parse_sets, split_names
from graphclust.cli.parser import build_parser
from graphclust.data.knn_approximate import has_ann
from graphclust.registry import build_estimator

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"

# Module (under benchmarks.) -> its arguments besides --tiny; "{tmp}" is the test's folder,
# where the results go (the table scripts find no runs there and write empty tables).
PYTHON_SCRIPTS = {
    "ablation_table": ["--runs", "{tmp}/ablations"],
    "bench_auto_batch": ["--out", "{tmp}/auto_batch.md"],
    "bench_batch_modes": ["--out", "{tmp}/batch_modes.md"],
    "bench_code_change": ["--out", "{tmp}/code_change.md"],
    "bench_diagnostics": ["--out", "{tmp}/diagnostics.md"],
    "bench_feature_homophily": ["--out", "{tmp}/feature_homophily.md", "--results", "{tmp}"],
    "bench_distributed": ["--out", "{tmp}/distributed.md"],
    "bench_graph_models_scaling": ["--out", "{tmp}/scaling.md"],
    "bench_input_hops": ["--out", "{tmp}/input_hops.md"],
    "bench_knn": ["--out", "{tmp}/knn.md"],
    "bench_knn_approximate": ["--out", "{tmp}/knn_approximate.md"],
    "bench_matryoshka": ["--out", "{tmp}/matryoshka.md"],
    "bench_optimizer_step": ["--out", "{tmp}/optimizer_step.md"],
    "bench_memory_estimate": ["--out", "{tmp}/memory_estimate.md"],
    "bench_mup": ["--out", "{tmp}/mup.md"],
    "bench_sampling": ["--out", "{tmp}/sampling.md"],
    "bench_sbm": ["--out", "{tmp}/sbm.md"],
    "bench_scale": ["--out", "{tmp}/scale.md"],
    "bench_scale_quality": ["--out", "{tmp}/scale_quality.md", "--skip-reference"],
    "bench_speed": ["--out", "{tmp}/speed.md"],
    "bench_sparse_backward": ["--out", "{tmp}/sparse_backward.md"],
    "bench_sparse_input": ["--out", "{tmp}/sparse_input.md"],
    "bench_start": ["--out", "{tmp}/start_speed.md"],
    "bench_startup": ["--out", "{tmp}/startup.md"],
    "bench_subgraphs": ["--out", "{tmp}/subgraphs", "--model", "mpnn-vn"],
    "bench_tabular": ["--out", "{tmp}/tabular.md"],
    "bench_threads": ["--out", "{tmp}/threads.md"],
    "explore.closed_form": ["karate"],
    "explore.rank_rise": [],
    "explore.joint_held_out": [],
    "explore.column_split": ["karate"],
    "explore.csbm_grid": ["--seeds", "1"],
    "explore.fits": ["smooth", "karate", "--subgraph", "30"],
    "explore.gate_replay": [],
    "explore.probes": ["start", "karate"],
    "explore.untaught_geometry": ["karate"],
    "explore.hop_agreement": ["karate"],
    "explore.start_clusterability": ["iris"],
    "explore.tabular_start": ["iris"],
    "explore.start_signals": [],
    "explore.stopping": ["record", "karate"],
    "explore.candidates": ["record", "karate"],
    "explore.blend": ["record", "karate"],
    "explore.start_ridge": ["record", "karate"],
    "explore.principal_classes": ["karate"],
    "extras_ablations": ["embeddings", "--only", "plain", "--out", "{tmp}/extras"],
    "extras_activation_sparsity": ["--out", "{tmp}/sparsity.md"],
    "graph_models_table": ["--results", "{tmp}"],
    "probe_start": ["--out", "{tmp}/start_probe.md"],
    "quality_table": ["{tmp}/quality", "--graph-models", "{tmp}/graph_models"],
    "robustness": ["--out", "{tmp}/robustness.md"],
}
# What each run must have written (relative to tmp), or None: it prints its result.
WRITES = {
    "ablation_table": "ablations.md", "explore.closed_form": None, "explore.rank_rise": None,
    "explore.joint_held_out": None,
    "explore.column_split": None,
    "explore.csbm_grid": None, "explore.fits": None, "explore.gate_replay": None,
    "explore.probes": None, "explore.tabular_start": None,
    "explore.start_clusterability": None, "explore.untaught_geometry": None,
    "explore.hop_agreement": None, "explore.start_signals": None, "explore.stopping": None,
    "explore.candidates": None, "explore.blend": None, "explore.start_ridge": None,
    "explore.principal_classes": None,
    "extras_ablations": "extras/embeddings.md", "graph_models_table": "graph_models.md",
    "quality_table": "quality.md", "bench_subgraphs": "subgraphs/results.md",
    "bench_scale_quality": "scale_quality.md", "bench_feature_homophily": "feature_homophily.md",
}
# Scripts that search through faiss: they need the [ann] extra.
NEEDS_ANN = {"bench_knn_approximate"}
SHELL_SCRIPTS = ("bench_graph_models.sh", "bench_quality.sh", "cora_probes.sh",
                 "scgc_ablations.sh")
# Shell scripts with a test of their own, which runs them for real (not with recorders).
SHELL_SCRIPTS_TESTED_ELSEWHERE = ("gpu_check.sh",)
_RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORDED_COMMANDS"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
"""


def test_every_script_is_smoke_tested():
    modules = {".".join(path.relative_to(BENCHMARKS).with_suffix("").parts)
               for path in BENCHMARKS.rglob("*.py")
               if not path.name.startswith("_") and path.parent.name != "extras"}
    assert modules == set(PYTHON_SCRIPTS)
    assert {path.name for path in BENCHMARKS.glob("*.sh")} == {*SHELL_SCRIPTS,
                                                                *SHELL_SCRIPTS_TESTED_ELSEWHERE}


@pytest.mark.parametrize("script", SHELL_SCRIPTS_TESTED_ELSEWHERE)
def test_shell_script_tested_elsewhere_runs_smoke_tested_modules(script):
    """Its benchmarks run as modules (``-m benchmarks.<name>``) that are smoke-tested here."""
    text = (BENCHMARKS / script).read_text()
    assert not re.findall(r"benchmarks/\w+\.py", text), "run benchmarks as modules"
    modules = re.findall(r"-m benchmarks\.([\w.]+)", text)
    assert modules and set(modules) <= set(PYTHON_SCRIPTS), modules


@pytest.fixture()
def in_tmp(tmp_path, monkeypatch):
    """Run in tmp_path (relative results paths land there), with the checkout importable
    by the scripts' child processes, and leave torch's thread count as it was."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # what graphclust's main would set
    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def shell_runs(tmp_path_factory):
    """The commands each shell script issues, recorded while it runs for real."""
    folder = tmp_path_factory.mktemp("shell")
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for name in ("graphclust", "python"):
        recorder = bin_dir / name
        recorder.write_text(_RECORDER.format(python=sys.executable))
        recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    runs = {}
    for script in SHELL_SCRIPTS:
        log = folder / f"{script}.log"
        env = {key: value for key, value in os.environ.items() if key != "GRAPHCLUST"}
        env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", RECORDED_COMMANDS=str(log))
        subprocess.run(["bash", str(BENCHMARKS / script), str(folder / "data")], cwd=folder,
                       env=env, check=True, timeout=600)  # the time-out catches a hang only
        runs[script] = [json.loads(line) for line in log.read_text().splitlines()]
    return runs


def _tiny_bench(argv: list[str], models: list[str]) -> list[str]:
    """``graphclust bench`` arguments on karate with one seed and a few epochs."""
    values = {"--datasets": "karate", "--seeds": "1", "--root": "unused"}
    tiny = dict(_machine.TINY_FIT)
    if not any("max_epochs" in build_estimator(model).get_params() for model in models):
        tiny = {}
    changed = []
    for previous, value in zip(["", *argv], argv, strict=False):
        if previous == "--set" and value.partition("=")[0] in tiny:
            key = value.partition("=")[0]
            value = f"{key}={tiny.pop(key)}"
        changed.append(values.get(previous, value))
    return changed + [f"--set={key}={value}" for key, value in tiny.items()]


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_shell_script_commands_are_valid_and_run(script, shell_runs, in_tmp, capsys):
    commands = shell_runs[script]
    assert commands, f"{script} issued no command"
    benches = [command[1:] for command in commands if command[0] == "graphclust"]
    for argv in benches:
        args = build_parser().parse_args(argv)
        assert args.command == "bench", shlex.join(argv)
        model_params(split_names(args.models, "--models"), parse_sets(args.set))
    first = benches[0]
    models = split_names(build_parser().parse_args(first).models, "--models")
    assert graphclust_main(_tiny_bench(first, models)) == 0, capsys.readouterr().err
    for command in commands:  # the modules themselves run in test_python_script_runs_tiny
        if command[0] == "python":
            assert command[1] == "-m" and command[2].startswith("benchmarks."), command
            assert command[2].removeprefix("benchmarks.") in PYTHON_SCRIPTS, command


@pytest.mark.parametrize("module", sorted(PYTHON_SCRIPTS))
def test_python_script_runs_tiny(module, in_tmp, capsys):
    if module in NEEDS_ANN and not has_ann():
        pytest.skip("needs the [ann] extra (faiss-cpu)")
    script = importlib.import_module(f"benchmarks.{module}")
    arguments = [argument.format(tmp=in_tmp) for argument in PYTHON_SCRIPTS[module]]
    script.main(["--tiny", *arguments])
    written = WRITES[module] if module in WRITES else arguments[-1]
    if written is None:
        assert capsys.readouterr().out.strip()
    else:
        text = (in_tmp / written).read_text()
        assert f"python -m benchmarks.{module}" in text  # the command is recorded


def test_scale_quality_mode_runs_tiny(in_tmp):
    script = importlib.import_module("benchmarks.bench_scale")
    script.main(["--tiny", "--quality", "--out", str(in_tmp / "scale.md")])
    assert "## Quality on DBLP" in (in_tmp / "scale.md").read_text()


@pytest.mark.parametrize("group", sorted(
    path.stem for path in (BENCHMARKS / "extras").glob("*.py") if path.stem != "__init__"))
def test_every_extras_variant_fits_tiny(group):
    """Each variant of the extras ablations builds and fits (extras_ablations runs them)."""

    variants = importlib.import_module(f"benchmarks.extras.{group}")
    model = getattr(variants, "MODEL", "scgc-star")
    plain = {**importlib.import_module("benchmarks._recipes").EXTRAS_RECIPE,
             **getattr(variants, "PLAIN", {}), **_machine.TINY_FIT}
    karate = load_dataset("karate")
    for name, params in variants.VARIANTS.items():
        estimator = build_estimator(model, {**plain, **params}, n_clusters=2, random_state=0)
        assert estimator.fit(karate).labels_.shape == (34,), name


def write_runs(folder, model, acc, paper=False, start_holdout=0.1, peaks=("", ""),
               dataset="cora", nmi=None):
    """A runner's results.csv in ``folder``: one run a peak, seeds 0, 1, ..., every score
    ``acc`` (NMI ``nmi`` where given); ``acc`` a list: one run a value instead."""
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    accs = acc if isinstance(acc, list) else [acc] * len(peaks)
    peaks = [*peaks, *[""] * len(accs)][:len(accs)]  # unrecorded where fewer
    rows = []
    for seed, (acc, peak) in enumerate(zip(accs, peaks, strict=True)):
        scores = {m: acc for m in ("acc", "nmi", "ari", "f1")} | \
            ({} if nmi is None else {"nmi": nmi})
        paper_scores = {f"paper_{m}": value if paper else "" for m, value in scores.items()}
        rows.append({"dataset": dataset, "model": model, "seed": seed, "status": "ok",
                     **scores, **paper_scores, "train_seconds": 1.0, "peak_rss_mib": peak,
                     "params": json.dumps({"start_holdout": start_holdout})})
    with open(folder / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_quality_table_takes_the_graph_models_rows(tmp_path):
    from benchmarks import quality_table

    write_runs(tmp_path / "quality" / "deep", "scgc-star", 0.75, paper=True)
    write_runs(tmp_path / "graph_models" / "quality" / "mpnn-vn", "mpnn-vn", 0.7, paper=False,
          peaks=(812.4, 1024.6))
    write_runs(tmp_path / "graph_models" / "quality_large" / "graph-transformer",
          "graph-transformer", 0.6, paper=False, start_holdout=None)
    write_runs(tmp_path / "quality" / "svd_t2", "svd-kmeans", 0.72, paper=False)
    quality_table.main([str(tmp_path / "quality"), "--graph-models",
                        str(tmp_path / "graph_models")])
    text = (tmp_path / "quality.md").read_text()
    # Each deep model against the best no-training row, a loss in bold.
    assert "| Cora | scgc-star | +0.0300 (svd-kmeans t=2: 0.7200) |" in text
    assert "| Cora | graph-transformer | **below**, -0.1200 (svd-kmeans t=2: 0.7200) |" in text
    assert "| cora | mpnn-vn (final) | 2 | 0.700 ± 0.000" in text
    # The largest peak of a row's runs; blank where the runs did not record one.
    assert "| 0.700 ± 0.000 | 1.0 ± 0.0 | 1025 |" in text
    assert "| cora | scgc-star (final) | 2 | 0.750 ± 0.000 | 0.750 ± 0.000 | 0.750 ± 0.000 | " \
        "0.750 ± 0.000 | 1.0 ± 0.0 |  |" in text
    assert "| cora | graph-transformer (fixed-length start) (final) | 2 | 0.600" in text
    assert "| cora | scgc-star (paper protocol, optimistic) | 2 | 0.750" in text
    assert "mpnn-vn (paper protocol" not in text  # not recorded for it
    assert "Not run here: scgc." in text
    # The summary (README's table): a column a model, the best of each metric bold.
    assert ("| Cora | **0.750** / **0.750** / **0.750** (2 seeds) | not run | 0.700 / 0.700 / "
            "0.700 (2 seeds) | 0.600 / 0.600 / 0.600 (2 seeds) | 0.720 / 0.720 / 0.720 (t=2, "
            "2 seeds) | not run |") in text


def test_quality_table_compares_a_model_with_the_baselines_on_its_own_seeds(tmp_path):
    # The model ran seed 0 only; the baseline scored 0.9 there and 0.5 on seed 1. On
    # mismatched seeds the margin had read +0.10 over the baseline's mean of 0.70.
    from benchmarks import quality_table

    write_runs(tmp_path / "quality" / "deep", "scgc-star", [0.8])
    write_runs(tmp_path / "quality" / "svd_t1", "svd-kmeans", [0.9, 0.5])
    quality_table.main([str(tmp_path / "quality"), "--graph-models",
                        str(tmp_path / "graph_models")])
    text = (tmp_path / "quality.md").read_text()
    assert "| Cora | scgc-star | **below**, -0.1000 (svd-kmeans t=1: 0.9000) |" in text


def test_feature_homophily_margins_cover_every_model(tmp_path):
    """Each deep model's margin over the best baseline by ACC (here degree-kmeans), the NMI
    margin over the best baseline NMI (here svd-kmeans'), the runs that predate the
    held-out start marked, and a later group's runs taken over an earlier group's."""
    from benchmarks.bench_feature_homophily import margins

    quality = tmp_path / "quality"
    write_runs(quality / "degree", "degree-kmeans", 0.5, nmi=0.2, dataset="uat")
    write_runs(quality / "svd_t0", "svd-kmeans", 0.4, nmi=0.3, dataset="uat")
    # A later group's runs of a data set replace an earlier group's.
    write_runs(quality / "deep", "scgc-star", 0.3, nmi=0.3, dataset="uat")
    write_runs(quality / "deep_air", "scgc-star", 0.45, nmi=0.35, dataset="uat")
    write_runs(tmp_path / "graph_models" / "quality" / "mpnn-vn", "mpnn-vn", 0.2,
               dataset="uat")
    write_runs(tmp_path / "graph_models" / "quality_air" / "mpnn-vn", "mpnn-vn", 0.55,
               nmi=0.25, dataset="uat", start_holdout=None)
    found = margins(tmp_path)["uat"]
    assert found["baseline"] == "degree-kmeans" and set(found) == {"baseline", "scgc-star",
                                                                   "mpnn-vn"}
    assert found["scgc-star"] == pytest.approx((-0.05, 0.05, False))
    assert found["mpnn-vn"] == pytest.approx((0.05, -0.05, True))
