"""Threads on a quiet and on a busy machine: digits ``fit`` per ``n_jobs`` (issue 15).

Each fit runs in a fresh process (``OMP_WAIT_POLICY`` is read only when torch starts):
``SCGCStar(n_clusters=10, random_state=0, n_jobs=N).fit(load_dataset("digits"))``,
timed inside the child around ``fit`` alone. Every configuration is run with no added load
("quiet") and with ``--competitors`` CPU-bound ``python -c "while True: pass"`` processes
("busy"), each in its own session like another user's job, started before and killed
after that configuration's busy runs. The machine may
carry other work too: the load average is recorded, and the ratios busy / quiet are taken
within this one run.

Configurations: the settings before issue 15 (torch's default threads, one per core, and
the OpenMP runtime's default wait policy: on this 2-core machine the same as ``n_jobs=2``
without ``PASSIVE``) and ``n_jobs`` = 1, 2 with ``OMP_WAIT_POLICY=PASSIVE`` (what the
``graphclust`` command sets). Rounds interleave the configurations.

Usage::

    python -m benchmarks.bench_threads --repeats 3 --out benchmarks/results/threads.md
    python -m benchmarks.bench_threads --dataset dblp --passive-only \
        --out benchmarks/results/threads_dblp.md

``--tiny`` fits karate for a few epochs in this process, one round, the first
configuration only, with no competitors.

``/proc/sys/kernel/sched_autogroup_enabled`` is recorded: with autogroup on, the kernel
shares the CPU between sessions first, which is why the competitors get sessions of
their own.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._machine import (
    TINY_DATASET,
    fit_params,
    load_average,
    parse,
    results_header,
    script_parser,
    write_results,
)

_CHILD = """
import time, torch
from graphclust import SCGCStar, load_dataset
graph = load_dataset({dataset!r}, root={root!r})
n_jobs = {n_jobs}
params = dict(n_clusters=int(graph.y.max()) + 1, random_state=0, **{params!r})
if n_jobs == "torch-default":  # before issue 15: torch's own thread count, left alone
    model = SCGCStar(**params)
    model.set_params(n_jobs=torch.get_num_threads())
else:
    model = SCGCStar(n_jobs=n_jobs, **params)
start = time.perf_counter()
model.fit(graph)
print("FIT", time.perf_counter() - start, model.n_iter_)
"""

# name -> (n_jobs as Python source, OMP_WAIT_POLICY or None for the runtime's default)
CONFIGS = {
    "n_jobs=1, PASSIVE (the default now)": ("1", "PASSIVE"),
    "before: torch default threads, default wait policy": ('"torch-default"', None),
    "n_jobs=2, PASSIVE": ("2", "PASSIVE"),
}


def _fit_seconds(n_jobs: str, policy: str | None, args) -> float:
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")}
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    child = _CHILD.format(n_jobs=n_jobs, dataset=args.dataset, root=args.root,
                          params=fit_params(args))
    if args.tiny:  # measures nothing: the child's code here, without a second torch import
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(child, {})
        output = printed.getvalue()
    else:
        output = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True,
                                text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("FIT "))
    return float(line.split()[1])


def _autogroup() -> str:
    path = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if not path.is_file():
        return "unknown"
    return "on" if path.read_text().strip() == "1" else "off"


def _competitors(count: int) -> list[subprocess.Popen]:
    # Each in a session of its own, as another user's job would be: with the kernel's
    # autogroup scheduling (Linux's default on desktops and many servers) the processes
    # of one session share one slice, so competitors started in our session would take
    # their CPU from the fit alone rather than compete for the machine.
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             start_new_session=True) for _ in range(count)]


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.kill()
    for process in processes:
        process.wait()


def main(argv=None) -> None:
    parser = script_parser(__doc__, out="benchmarks/results/threads.md")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--competitors", type=int, default=2)
    parser.add_argument("--dataset", default="digits", help="data set (default: digits)")
    parser.add_argument("--passive-only", action="store_true",
                        help="leave out the configuration before issue 15 (its spinning "
                             "threads take minutes a fit on a busy machine)")
    args = parse(parser, argv, "benchmarks.bench_threads")
    configs = {name: config for name, config in CONFIGS.items()
               if not args.passive_only or config[1] == "PASSIVE"}
    if args.tiny:
        args.dataset, args.repeats, args.competitors = TINY_DATASET, 1, 0
        configs = dict(list(CONFIGS.items())[:1])

    loads = [f"start: {load_average()}"]
    quiet: dict[str, list[float]] = {name: [] for name in configs}
    busy: dict[str, list[float]] = {name: [] for name in configs}
    # Round by round, every configuration in turn, so that a change in the machine's
    # background load hits all of them alike; the competitors run for the busy half only.
    for round_ in range(1, args.repeats + 1):
        for name, (n_jobs, policy) in configs.items():
            quiet[name].append(_fit_seconds(n_jobs, policy, args))
        loads.append(f"round {round_} quiet: {load_average()}")
        busy_load = _competitors(args.competitors)
        try:
            if busy_load:
                time.sleep(2)  # let the competitors reach the scheduler's steady state
            for name, (n_jobs, policy) in configs.items():
                busy[name].append(_fit_seconds(n_jobs, policy, args))
            loads.append(f"round {round_} busy: {load_average()}")
        finally:
            _stop(busy_load)
        rows = [(name, statistics.median(quiet[name]), statistics.median(busy[name]),
                 statistics.median(busy[name]) / statistics.median(quiet[name]),
                 quiet[name], busy[name]) for name in configs]
        for name in configs:
            print(f"round {round_}: {name}: quiet {quiet[name][-1]:.2f} s, "
                  f"busy {busy[name][-1]:.2f} s", flush=True)
        # Written after each round, so a long run leaves what it measured.
        _write(args, loads, rows, done=round_ == args.repeats)


def _write(args, loads: list[str], rows: list, done: bool) -> None:
    base_quiet, base_busy = rows[0][1], rows[0][2]
    lines = [
        *results_header(f"Threads on a quiet and a busy machine ({args.dataset}, SCGC*)",
                        args.command),
        *([] if done else ["Interrupted: partial results.", ""]),
        f"Kernel autogroup scheduling: {_autogroup()}.",
        "",
        "Load average (1 / 5 / 15 min) after each step: " + "; ".join(loads) + ". "
        "'quiet' means no competitors started by this script, not an idle "
        "machine.",
        "",
        f"`SCGCStar(n_clusters=..., random_state=0, n_jobs=...).fit({args.dataset})`, seconds "
        "inside "
        f"`fit`, median of {len(rows[0][4])} rounds (fresh processes, configurations "
        f"interleaved); "
        f"'busy' runs with "
        f"{args.competitors} CPU-bound `python -c \"while True: pass\"` processes on the "
        f"{os.cpu_count()} cores.",
        "",
        "| configuration | quiet (s) | busy (s) | busy / quiet | quiet / first row's quiet "
        "| busy / first row's busy |",
        "|---|---|---|---|---|---|",
    ]
    for name, q, b, ratio, _, _ in rows:
        lines.append(f"| {name} | {q:.2f} | {b:.2f} | {ratio:.2f}x | {q / base_quiet:.2f}x "
                     f"| {b / base_busy:.2f}x |")
    lines += ["", "Every run (seconds):", ""]
    for name, _, _, _, quiet, busy in rows:
        lines.append(f"- {name}: quiet {', '.join(f'{t:.2f}' for t in quiet)}; "
                     f"busy {', '.join(f'{t:.2f}' for t in busy)}")
    write_results(args.out, lines)


if __name__ == "__main__":
    main()
