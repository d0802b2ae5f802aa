"""The run record (seed, steps, settings) written into outputs, and that an exact-steps run repeats exactly."""

from __future__ import annotations

import math

import numpy as np
import tifffile

from helpers import run_cli
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.provenance import from_text, read_record, run_record, to_text

FAST = ["--seed", "3", "--device", "cpu"]


def test_record_round_trips_through_text_and_is_json_safe():
    options = EnhanceOptions(steps=7, noise=(None, math.inf))
    record = run_record("enhance", options, steps={"lateral": 4, "axial": 3}, seconds=1.23456, factor=[2, 1, 1])
    again = from_text(to_text(record))
    assert again == record
    assert again["exact_steps"] is True and again["seed"] == options.seed
    assert again["settings"]["noise"] == [None, "inf"]  # no bare inf in the JSON
    assert from_text("something else") is None and from_text(None) is None


def test_enhance_output_carries_its_record_and_exact_steps_repeat_exactly(small_tiff, tmp_path, capsys):
    outs = [tmp_path / "a.tif", tmp_path / "b.tif"]
    for out in outs:
        code, stdout, _ = run_cli(capsys, "enhance", small_tiff, "-o", out, "--factor", "1,2,2", "--steps", "6", *FAST)
        assert code == 0
        assert "exact steps, seed 3" in stdout
    record = read_record(outs[0])
    assert record is not None
    assert record["task"] == "enhance" and record["seed"] == 3 and record["exact_steps"] is True
    assert record["settings"]["steps"] == 6 and record["factor"] == [1, 2, 2]
    assert 0 < sum(record["steps_trained"].values()) <= 6
    assert record["gate"].startswith("gate: ") and record["returned"] in record["gate"]  # what came back, and why
    resolution = record["resolution"]  # the no-reference figure, per axis, travels with the output
    assert set(resolution["input"]) == set(resolution["output"]) == {"z", "y", "x"}
    assert resolution["unit"] == "µm" and 0 <= resolution["consistency_rms"] < 1
    assert np.array_equal(tifffile.imread(outs[0]), tifffile.imread(outs[1]))  # same input + settings: same output


def test_budgeted_runs_say_the_count_depends_on_load(small_tiff, tmp_path, capsys):
    out = tmp_path / "c.tif"
    code, stdout, _ = run_cli(
        capsys, "enhance", small_tiff, "-o", out, "--factor", "1,2,2", "--time-budget", "1", *FAST
    )
    assert code == 0
    assert "time budget" in stdout and "--steps repeats a run exactly" in stdout
    record = read_record(out)
    assert record["exact_steps"] is False and record["settings"]["time_budget"] == 1.0


def test_denoise_output_carries_its_record(small_tiff, tmp_path, capsys):
    out = tmp_path / "d.tif"
    code, _, _ = run_cli(capsys, "denoise", small_tiff, "-o", out, "--steps", "3", *FAST)
    assert code == 0
    record = read_record(out)
    assert record["task"] == "denoise" and record["mode"] == "sis" and record["steps_trained"] == {"sis": 3}


def test_big_tiff_and_zarr_outputs_carry_the_record(tmp_path, monkeypatch):
    import zarr

    from self_vision.core.io.writing import write_tiff
    from self_vision.core.provenance import RECORD_KEY

    record = run_record("enhance", EnhanceOptions(steps=3), steps={"lateral": 3}, seconds=0.5, note="<&>")
    monkeypatch.setattr("self_vision.core.io.writing.BIGTIFF_BYTES", 100)  # OME BigTIFF: no ImageJ Info text
    path = write_tiff(tmp_path / "big.tif", np.zeros((2, 8, 8), np.float32), voxel_size=(1, 1, 1), record=record)
    with tifffile.TiffFile(path) as tif:
        assert tif.is_bigtiff and tif.is_ome
    assert read_record(path) == record  # XML-escaped and back
    group = zarr.open_group(str(tmp_path / "o.zarr"), mode="w")
    group.attrs[RECORD_KEY] = record
    assert read_record(tmp_path / "o.zarr") == record
    assert read_record(tmp_path) is None  # a folder that is no Zarr group
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((4, 4), np.uint8))
    assert read_record(plain) is None
