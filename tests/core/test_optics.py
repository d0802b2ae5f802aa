"""The optics (NA, wavelengths, immersion, microscope) and the axial blur of the training planes they imply."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import drain, run_cli
from helpers import one_line_error as error_line
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import train_steps
from self_vision.core.errors import UsageError
from self_vision.core.events import StageInfo
from self_vision.core.optics import Optics, parse_optics
from self_vision.core.provenance import read_record
from self_vision.core.sample import synthetic_neurons

WATER = Optics(1.2, 0.46, 1.333)


def test_widefield_widths_follow_the_gaussian_approximation():
    lateral, axial = WATER.psf_sigmas()
    assert lateral == pytest.approx(0.21 * 0.46 / 1.2)
    assert axial == pytest.approx(0.66 * 0.46 * 1.333 / 1.2**2)
    assert WATER.axial_blur() == pytest.approx(np.sqrt(axial**2 - lateral**2))


def test_the_blur_grows_as_the_aperture_closes_and_shrinks_with_a_pinhole():
    dry = Optics(0.5, 0.46, 1.0)
    assert dry.axial_blur() > 4 * WATER.axial_blur()  # axial width goes as 1/NA², lateral as 1/NA
    confocal = Optics(1.2, 0.46, 1.333, "confocal", 0.405)
    assert confocal.axial_blur() < WATER.axial_blur()
    # a vectorial model (psfmodels, 1 AU pinhole) gives 0.171 µm for this objective: the approximation is close
    assert confocal.axial_blur() == pytest.approx(0.171, rel=0.1)
    two_photon = Optics(1.0, 0.52, 1.333, "two-photon", 0.92)
    assert two_photon.psf_sigmas()[1] == pytest.approx(Optics(1.0, 0.92, 1.333).psf_sigmas()[1] / np.sqrt(2))


def test_parsing_names_media_and_refuses_nonsense_in_one_line():
    assert parse_optics("1.2,0.46,water,confocal,0.405") == Optics(1.2, 0.46, 1.333, "confocal", 0.405)
    assert parse_optics("1.4, 0.52").immersion == 1.515  # oil when not given
    for text, message in [
        ("1.4", "NA,WAVELENGTH"),
        ("1.4,520", "in µm"),
        ("1.4,0.52,water", "below the immersion index"),
        ("0.8,0.52,water,spinning", "microscope"),
        ("0.8,0.52,water,two-photon", "excitation"),
        ("x,0.52", "NA,WAVELENGTH"),
        ("nan,0.52", "finite"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_optics(text)


def test_training_takes_the_axial_blur_from_the_optics():
    volume = synthetic_neurons(shape=(16, 40, 40), seed=2)
    options = EnhanceOptions(steps=4, seed=0, self_check=False, optics=WATER, path="lateral-axial")
    events, _ = drain(train_steps(volume, (2, 1, 1), voxel_size=(1.0, 0.25, 0.25), options=options))
    said = [e.message for e in events if isinstance(e, StageInfo) and "axial blur" in e.message]
    assert said == [f"axial blur {WATER.axial_blur():.2f} µm from the optics ({WATER.describe()})"]
    given = EnhanceOptions(steps=4, seed=0, self_check=False, optics=WATER, axial_blur=0.5, path="lateral-axial")
    events, _ = drain(train_steps(volume, (2, 1, 1), voxel_size=(1.0, 0.25, 0.25), options=given))
    assert not [e for e in events if isinstance(e, StageInfo) and "axial blur" in e.message]  # the user's number


def test_cli_optics_reach_the_run_and_its_record(small_tiff, tmp_path, capsys):
    out = tmp_path / "o.tif"
    args = ["--factor", "2,1,1", "--steps", "4", "--device", "cpu", "--quiet"]
    code, _, err = run_cli(capsys, "enhance", small_tiff, "-o", out, *args, "--optics", "1.2,0.46,water,confocal")
    assert code == 0, err
    optics = read_record(out)["settings"]["optics"]
    assert optics["na"] == 1.2 and optics["immersion"] == 1.333 and optics["microscope"] == "confocal"
    code, _, err = run_cli(capsys, "enhance", small_tiff, "-o", tmp_path / "p.tif", *args, "--optics", "1.4,0.5,water")
    assert code == 2 and "--optics" in error_line(err) and "immersion" in error_line(err)
    code, _, err = run_cli(capsys, "enhance", small_tiff, "-o", tmp_path / "q.tif", *args, "--axial-blur", "-1")
    assert code == 2 and "--axial-blur" in error_line(err)
    assert not (tmp_path / "p.tif").exists() and not (tmp_path / "q.tif").exists()
