"""Regenerate the results table in FINDINGS.md (between the TABLE markers) from results.jsonl."""

import json
from pathlib import Path

here = Path(__file__).resolve().parent
rows = [json.loads(l) for l in (here / "results.jsonl").read_text().splitlines() if l.strip()]
keys = [
    "dims",
    "base",
    "loss",
    "crop",
    "batch",
    "lr",
    "features",
    "mapping",
    "gradual",
    "hr_blur",
    "resample",
    "structure_bias",
    "patch_lr",
    "ensemble",
    "operator",
    "psf_sigma",
]
defaults = {
    "dims": 3,
    "base": "linear",
    "loss": "l1",
    "crop": 0,
    "batch": 4,
    "lr": 0.002,
    "features": 16,
    "mapping": 3,
    "gradual": False,
    "hr_blur": 0.0,
    "resample": True,
    "structure_bias": 0.8,
    "patch_lr": None,
    "ensemble": False,
    "operator": "area",
    "psf_sigma": 0.5,
}
lines = [
    "| experiment | factor | settings (≠ current defaults) | net | net+BP | net Δcubic | net ΔBP | net+BP Δcubic | steps | train s |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for r in rows:
    diff = " ".join(f"{k}={r[k]}" for k in keys if k in r and r[k] != defaults[k])
    lines.append(
        f"| {r['name']} | {'x'.join(map(str, r['factor']))} | {diff} | {r['net']:.2f} | {r['net_bp']:.2f} | "
        f"{r['d_cubic']:+.2f} | {r['d_bp']:+.2f} | {r['netbp_d_cubic']:+.2f} | {r['steps']} | {r['train_s']} |"
    )
text = (here / "FINDINGS.md").read_text()
a, b = "<!-- TABLE -->", "<!-- /TABLE -->"
if a not in text:
    text += f"\n{a}\n{b}\n"
pre, rest = text.split(a, 1)
post = rest.split(b, 1)[1]
(here / "FINDINGS.md").write_text(pre + a + "\n" + "\n".join(lines) + "\n" + b + post)
