"""The napari manifest: one real file at the top level, carried by the installed package, valid for npe2."""

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_package_carries_the_top_level_manifest():
    packaged = resources.files("self_vision") / "napari.yaml"
    assert packaged.is_file()
    assert packaged.read_text() == (ROOT / "napari.yaml").read_text()


def test_npe2_validates_the_installed_distribution():
    pytest.importorskip("npe2")
    done = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "napari-self-vision"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in (done.stdout + done.stderr).lower()


def test_sample_data_commands_resolve_and_return_layers():
    from self_vision._napari.sample_data import reference_neurons, undersampled_neurons

    ((low, low_meta, kind),) = undersampled_neurons()
    ((ref, ref_meta, _),) = reference_neurons()
    assert kind == "image"
    assert low.shape == (ref.shape[0], ref.shape[1] // 4, ref.shape[2] // 4)
    # the undersampled layer covers the reference's field of view exactly
    for axis in range(3):
        lo_start = low_meta["translate"][axis] - low_meta["scale"][axis] / 2
        ref_start = -ref_meta["scale"][axis] / 2
        assert lo_start == pytest.approx(ref_start)


def test_importing_the_package_does_not_import_torch():
    code = "import sys, self_vision, self_vision._napari.sample_data; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_version_comes_from_git_through_the_installed_metadata():
    import tomllib
    from importlib.metadata import version

    import self_vision

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # setuptools-scm derives it from the git tag (or 0.x.devN+g<hash> after one): no literal to forget
    assert "version" not in project and "version" in project["dynamic"]
    assert self_vision.__version__ == version("napari-self-vision") != "unknown"
