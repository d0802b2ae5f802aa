"""The axial training planes and their blur when the optics are not given (the output's z spacing)."""

from __future__ import annotations

import numpy as np

from helpers import drain
from self_vision.core.enhance.axial import axial_training_planes, nyquist_axial_blur
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import train_steps
from self_vision.core.events import StageInfo
from self_vision.core.sample import synthetic_neurons


def test_without_optics_the_blur_is_the_output_z_spacing():
    volume = synthetic_neurons(shape=(16, 40, 40), seed=2)
    options = EnhanceOptions(steps=4, seed=0, self_check=False, path="lateral-axial")
    events, _ = drain(train_steps(volume, (2, 1, 1), voxel_size=(1.0, 0.25, 0.25), options=options))
    said = [e.message for e in events if isinstance(e, StageInfo) and "axial blur" in e.message]
    assert said == ["axial blur 0.50 µm: the output's z spacing (no optics given)"]
    assert nyquist_axial_blur(0.5) == 0.5


def test_unknown_voxel_size_means_no_blur_and_no_resampling():
    volume = synthetic_neurons(shape=(8, 24, 24), seed=1)
    events, _ = drain(train_steps(volume, (2, 1, 1), options=EnhanceOptions(steps=2, seed=0, self_check=False)))
    assert not [e for e in events if isinstance(e, StageInfo) and "axial blur" in e.message]
    planes = axial_training_planes(volume, 2, None, None, blur_um=0.5)
    assert all(p.shape == s.shape for p, s in zip(planes, (volume, volume.transpose(0, 2, 1)), strict=True))
    assert np.array_equal(planes[0], volume)


def test_the_blur_smooths_the_axis_that_plays_z_only():
    volume = synthetic_neurons(shape=(8, 48, 48), seed=3)
    sharp = axial_training_planes(volume, 2, (0.25, 0.25), 0.25, blur_um=0.0)[0]
    blurred = axial_training_planes(volume, 2, (0.25, 0.25), 0.25, blur_um=0.5)[0]
    along, across = (
        np.abs(np.diff(b, axis=a)).mean() / np.abs(np.diff(s, axis=a)).mean()
        for a, b, s in ((1, blurred, sharp), (2, blurred, sharp))
    )
    assert along < 0.8 and across > along
