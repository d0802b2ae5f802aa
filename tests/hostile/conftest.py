"""The hostile-input corpus: a small world of files per case, and a snapshot proving nothing pre-existing changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hostile.corpus import World
from self_vision.core.io.writing import write_tiff
from self_vision.core.sample import synthetic_neurons

#: (Z, Y, X) of the corpus input: small, so that the few cases that train stay fast.
SHAPE = (4, 24, 24)
VOXEL = (2.0, 0.5, 0.5)


@pytest.fixture(scope="session")
def corpus_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A valid enhancement model and SiS denoiser, trained for one step once per session."""
    from self_vision.api import denoise, enhance, save_denoiser, save_model

    folder = tmp_path_factory.mktemp("models")
    volume = synthetic_neurons(SHAPE, seed=3)
    result = enhance(volume, (1, 2, 2), steps=1, seed=0, device="cpu")
    model = save_model(result.model, folder / "model.pt")
    denoised = denoise(synthetic_neurons((8, 24, 24), seed=3), "sis", steps=1, seed=0, device="cpu")
    return model, save_denoiser(denoised, folder / "den.pt")


@pytest.fixture
def world(tmp_path: Path, corpus_models: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> World:
    """A fresh folder with the corpus files; it is the working folder and ``$HOME`` (so ``~/x`` lies in it)."""
    root = tmp_path / "w"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(root))
    inp = write_tiff(root / "in.tif", synthetic_neurons(SHAPE, seed=1), voxel_size=VOXEL)
    other = write_tiff(root / "other.tif", synthetic_neurons(SHAPE, seed=2), voxel_size=VOXEL)
    existing = write_tiff(root / "existing.tif", np.ones((2, 8, 8), np.float32))
    model = Path(shutil.copy(corpus_models[0], root / "model.pt"))
    denoiser = Path(shutil.copy(corpus_models[1], root / "den.pt"))
    return World(root, inp, other, model, denoiser, existing)
