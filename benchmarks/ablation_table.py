"""Summarise benchmarks/scgc_ablations.sh into benchmarks/results/ablations.md.

    python -m benchmarks.ablation_table [--runs benchmarks/results/ablations]
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks._machine import parse, script_parser, write_results
from benchmarks.quality_table import cell, read

SCRIPT = Path(__file__).resolve().parent / "scgc_ablations.sh"


def changes() -> dict[str, str]:
    """Each run's name and the --set arguments it passes, read from the script."""
    found = {}
    for line in SCRIPT.read_text().splitlines():
        match = re.match(r"run (\w+)(.*)", line.strip())
        if match:
            found[match.group(1)] = match.group(2).replace("--set", "").strip() or "(defaults)"
    return found


# Parameters that entered the defaults after some runs were made: a run whose recorded
# parameters lack one of them used the start of its time (marked in the table).
LATER_PARAMETERS = ("pretrain_weight_decay", "start_whitening")


def measured_before(runs) -> bool:
    params = json.loads(next(iter(runs.values()))[0]["params"])
    return any(name not in params for name in LATER_PARAMETERS)


def main(argv=None) -> None:
    parser = script_parser(__doc__, out=None, root=False)
    parser.add_argument("--runs", type=Path, default=Path("benchmarks/results/ablations"),
                        help="output folder of scgc_ablations.sh; the table goes beside it "
                             "(default: %(default)s)")
    args = parse(parser, argv, "benchmarks.ablation_table")
    lines = [
        "# SCGC* ablations: each default changed back, one at a time",
        "",
        "Made by `bash benchmarks/scgc_ablations.sh ../shared/data 3` then "
        f"`{args.command}`. Final model, mean ± std over seeds 0-2; raw "
        "runs, commands, machine and date in `ablations/<name>/results.{csv,md}`.",
        "",
        "| run | change | DBLP ACC | DBLP NMI | DBLP ARI | Cora ACC | Cora NMI | Cora ARI |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    older = False
    for name, change in changes().items():
        if not (args.runs / name / "results.csv").is_file():
            continue
        runs = read(args.runs / name)
        cells = [cell(runs[dataset, "scgc-star"], metric)
                 for dataset in ("dblp", "cora") for metric in ("acc", "nmi", "ari")]
        mark = " ¹" if measured_before(runs) else ""
        older = older or bool(mark)
        lines.append(f"| {name}{mark} | `{change}` | " + " | ".join(cells) + " |")
    if older:
        lines += ["", "¹ Measured before the linear start's ridge and whitening "
                  "(`pretrain_weight_decay`, `start_whitening`) became defaults: the change "
                  "was applied to the start of that time (date in its `results.md`); "
                  "compare it with that time's defaults, 0.809 / 0.766 DBLP / Cora ACC "
                  "(`git log benchmarks/results/ablations/defaults`)."]
    write_results(args.runs.parent / "ablations.md", lines)


if __name__ == "__main__":
    main()
