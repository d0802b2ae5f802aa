"""Class 6 and 9 of issue 12: numbers (NaN, inf, negative, out of range) refused before any work, one line each."""

from __future__ import annotations

import pytest

from hostile.corpus import BLOCK, Case, ids, run_case

BASE = ["--device", "cpu", "--quiet"]


def _flags(flags: tuple[str, ...]) -> list[str]:
    """``--flag value`` pairs written ``--flag=value`` (argparse would read ``-inf`` as an option)."""
    out, rest = [], list(flags)
    while rest:
        flag = rest.pop(0)
        out.append(f"{flag}={rest.pop(0)}" if rest and not rest[0].startswith("--") else flag)
    return out


def _name(command: str, flags: tuple[str, ...], factor: str) -> str:
    words = [command, *(f[2:] if f.startswith("--") else f for f in flags)] + (
        [] if factor == "1,2,2" else [f"factor={factor}"]
    )
    return "-".join(words).replace(",", "_")


def _word(flags: tuple[str, ...]) -> str:
    return flags[0].lstrip("-") if flags else "factor"


def _enhance(*flags: str, factor: str = "1,2,2") -> Case:
    argv = ["--factor=" + factor, *BASE, *_flags(flags)]
    return Case(_name("enhance", flags, factor), lambda w: ["enhance", w.inp, "-o", "o.tif", *argv], 2, _word(flags))


def _denoise(*flags: str) -> Case:
    argv = [*BASE, *_flags(flags)]
    return Case(_name("denoise", flags, "1,2,2"), lambda w: ["denoise", w.inp, "-o", "o.tif", *argv], 2, _word(flags))


def _evaluate(*flags: str, factor: str = "1,2,2") -> Case:
    argv = ["--factor=" + factor, *BASE, *_flags(flags)]
    return Case(_name("evaluate", flags, factor), lambda w: ["evaluate", w.inp, *argv], 2, _word(flags))


ENHANCE = [
    *(_enhance("--time-budget", v) for v in ("nan", "inf", "-inf", "-5", "0", "1e12")),
    *(_enhance("--steps", v) for v in ("0", "-3", "1000000000000")),
    *(_enhance("--seed", v) for v in ("-1", "99999999999999999999999")),
    *(_enhance("--noise", v) for v in ("inf,inf", "nan,0.1", "-1,0.1", "1,-0.1", "a,b", "100", "1e30,0.1")),
    *(_enhance("--voxel-size", v) for v in ("nan,1,1", "0,1,1", "-1,1,1", "inf,1,1", "1,1", "a,b,c", "1,1,1,1")),
    *(_enhance("--back-projection", v) for v in ("-1", "100000")),
    *(_enhance("--train-voxels", v, *BLOCK) for v in ("-5", "0")),
    *(_enhance("--train-voxels", v) for v in ("0", "-1")),
    *(_enhance("--block-voxels", v, *BLOCK) for v in ("-5", "0")),
    *(_enhance("--chunks", v) for v in ("0,0,0", "-1,24,24", "4,x,24", "4,24")),
    *(_enhance("--workers", v) for v in ("-1", "0")),
    *(_enhance(factor=v) for v in ("nan", "0", "1,1,1", "1.5", "99", "-2", "a", "1,2,2,2", "inf")),
    _enhance("--channel", "3"),
    _enhance("--timepoint", "5"),
    _enhance("--channel", "-1"),
    _enhance("--timepoint", "-1"),
    *(_enhance("--sampling", v) for v in ("z=pointy", "q=point", "")),
    *(_enhance("--step-psf", v) for v in ("nan", "-1", "inf", "11")),
    *(_enhance("--device", v) for v in ("banana", "cuda:99", "cuda:-1")),
    *(_enhance("--device", v, *BLOCK) for v in ("banana",)),
]
DENOISE = [
    *(_denoise("--time-budget", v) for v in ("nan", "inf", "-1")),
    *(_denoise("--steps", v) for v in ("0", "-1")),
    *(_denoise("--seed", v) for v in ("-1",)),
    *(_denoise("--gar", v) for v in ("nan", "-1", "inf")),
    *(_denoise("--train-voxels", v, *BLOCK) for v in ("-5", "0")),
    *(_denoise("--chunks", v) for v in ("0,24,24", "4,24")),
]
EVALUATE = [
    _evaluate("--time-budget", "nan"),
    _evaluate("--seed", "-1"),
    _evaluate("--voxel-size", "nan,1,1"),
    _evaluate(factor="0"),
]
DEMO = [
    Case(f"demo-time-budget-{v}", lambda w, v=v: ["demo", "--out", "d", f"--time-budget={v}"], 2, "time-budget")
    for v in ("nan", "inf", "-1", "0")
] + [Case("demo-seed-negative", lambda w: ["demo", "--out", "d", "--seed=-1"], 2, "seed")]
CASES = ENHANCE + DENOISE + EVALUATE + DEMO


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_bad_numbers_are_one_line_usage_errors(case, world, capsys):
    run_case(case, world, capsys)
