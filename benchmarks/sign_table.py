"""Predicted vs true gain over many benchmark runs: one table, sign agreement, worst miss, results below cubic.

Each run of ``benchmarks/quality.py --json FILE`` holds one protocol's cases; this joins them::

    .venv/bin/python benchmarks/sign_table.py runs/*.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quality import print_checks


def load_checks(paths: list[Path]) -> list[dict]:
    """Every default-config check of the runs, its volume labelled with the run's protocol."""
    checks = []
    for path in paths:
        data = json.loads(path.read_text())
        protocol = data.get("settings", {}).get("protocol") or path.stem.split("_")[0]
        for check in data["checks"]:
            if check.get("config", "default") == "default":
                checks.append({**check, "volume": f"{protocol} {check['volume']}"})
    return sorted(checks, key=lambda c: (c["volume"], c["factor"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="JSON files written by quality.py --json")
    parser.add_argument("--threshold", type=float, default=0.2, help="count sign agreement where |true| >= this")
    args = parser.parse_args()
    print_checks(load_checks(args.runs), args.threshold)


if __name__ == "__main__":
    main()
