"""Summarise benchmarks/scgc_ablations.sh into benchmarks/results/ablations.md.

    python benchmarks/ablation_table.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_table import cell, read  # noqa: E402

ROOT = Path("benchmarks/results/ablations")
SCRIPT = Path("benchmarks/scgc_ablations.sh")


def changes() -> dict[str, str]:
    """Each run's name and the --set arguments it passes, read from the script."""
    found = {}
    for line in SCRIPT.read_text().splitlines():
        match = re.match(r"run (\w+)(.*)", line.strip())
        if match:
            found[match.group(1)] = match.group(2).replace("--set", "").strip() or "(defaults)"
    return found


def main() -> None:
    lines = [
        "# SCGC* ablations: each default changed back, one at a time",
        "",
        "Made by `bash benchmarks/scgc_ablations.sh ../shared/data 3` then "
        "`python benchmarks/ablation_table.py`. Final model, mean ± std over seeds 0-2; raw "
        "runs, commands, machine and date in `ablations/<name>/results.{csv,md}`.",
        "",
        "| run | change | DBLP ACC | DBLP NMI | DBLP ARI | Cora ACC | Cora NMI | Cora ARI |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, change in changes().items():
        if not (ROOT / name / "results.csv").is_file():
            continue
        runs = read(ROOT / name)
        cells = [cell(runs[dataset, "scgc-star"], metric)
                 for dataset in ("dblp", "cora") for metric in ("acc", "nmi", "ari")]
        lines.append(f"| {name} | `{change}` | " + " | ".join(cells) + " |")
    out = ROOT.parent / "ablations.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
