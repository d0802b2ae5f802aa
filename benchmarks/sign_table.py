"""Predicted vs true gain over many benchmark runs: one table, sign agreement, worst miss, results below cubic.

Each run of ``benchmarks/quality.py --json FILE`` holds one protocol's cases; this joins them::

    .venv/bin/python benchmarks/sign_table.py runs/*.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def ci_text(ci: tuple[float, float] | None) -> str:
    """A 95 % interval as text ("" when there is none)."""
    return "" if not ci else f"[{ci[0]:+.2f}, {ci[1]:+.2f}]"


#: A gated result this close to cubic is cubic itself (the gate returned it; float rounding): not "below".
BELOW_TOLERANCE_DB = 0.005


def predicted_case(check: dict) -> float | None:
    """The self-check's prediction for the whole case: the smallest estimate over its groups and, for the axial
    stage, over both its measurements (z one step coarser, lateral planes), as the gate needs every one
    positive; an axial stage checked in z at a finer step by that z measurement alone, as the gate decides
    (None: nothing checked)."""
    used = [v[0] for k, v in check["predicted"].items() if k not in check.get("not_used", [])]
    return min(used) if used else None


def print_checks(checks: list[dict], threshold: float = 0.2) -> None:
    """Predicted vs true gain per case, then sign agreement and the worst miss."""
    print("\n| volume | factor | predicted gain (held-out, per group, 95 % CI) | true gain (95 % CI) | "
          "returned | gated vs cubic (95 % CI) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    agree = total = 0
    worst: tuple[float, str] = (0.0, "")
    for c in checks:
        pred = "; ".join(
            f"{k} {v[0]:+.2f} vs {c['predicted_over'].get(k, '?')} {ci_text(v[1:])}"
            + (" (not used)" if k in c.get("not_used", []) else "")
            for k, v in c["predicted"].items()
        )
        pred += "".join(f"; {k} unchecked" for k in c["unchecked"])
        true = c["true"]
        print(
            f"| {c['volume']} | {c['factor']} | {pred or 'not checked'} | {true[0]:+.2f} vs {c['true_over']} "
            f"{ci_text(true[1:])} | {c['returned']} | {c['gated_vs_cubic']:+.2f} {ci_text(c['gated_ci'])} |"
        )
        p = predicted_case(c)
        if p is None:
            continue
        miss = p - true[0]
        if abs(miss) > abs(worst[0]):
            worst = (miss, f"{c['volume']} {c['factor']}")
        if abs(true[0]) >= threshold:
            total += 1
            agree += (p > 0) == (true[0] > 0)
    below = [
        f"{c['volume']} {c['factor']} {c['gated_vs_cubic']:+.2f}"
        for c in checks
        if c["gated_vs_cubic"] < -BELOW_TOLERANCE_DB
    ]
    print(
        f"\nsign agreement where |true gain| >= {threshold} dB: {agree}/{total}; worst miss (predicted - true): "
        f"{worst[0]:+.2f} dB ({worst[1] or '-'}); gated results below cubic: {len(below)}/{len(checks)}"
        + (f" ({', '.join(below)})" if below else "")
    )


def load_checks(paths: list[Path]) -> list[dict]:
    """Every default-config check of the runs, its volume labelled with the run's protocol."""
    checks = []
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            sys.exit(f"sign_table: error: {path}: {err}")
        if not isinstance(data, dict) or "checks" not in data:
            sys.exit(f"sign_table: error: {path} is not a file written by quality.py --json (no checks)")
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
