"""Block-wise enhancement into OME-Zarr / TIFF: same voxels as whole-volume inference, resumable, never half-named."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from self_vision.core.blockwise.run import enhance_blockwise_steps, training_region
from self_vision.core.blockwise.store import is_complete, partial_path, pyramid_factors
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.run import train_steps
from self_vision.core.errors import CancelledError, DataError, UsageError
from self_vision.core.events import CancelToken, InferProgress, run_to_end
from self_vision.core.geometry import output_translate
from self_vision.core.io.lazy import as_lazy, open_lazy
from self_vision.core.io.tiff import read_tiff
from self_vision.core.sample import synthetic_neurons

SMALL_BLOCKS = {"chunks": (12, 32, 32), "block_output": 12 * 64 * 64}


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    return synthetic_neurons(shape=(12, 64, 64), seed=3)


@pytest.fixture(scope="module", params=[(1, 2, 2), (2, 2, 2)], ids=["lateral", "all-axes"])
def trained(request, volume):
    return run_to_end(train_steps(volume, request.param, options=EnhanceOptions(steps=8, seed=0), device="cpu"))


def whole_volume(trained, volume) -> np.ndarray:
    n = trained.normalizer
    return n.inverse(trained.enhancer.apply(n.forward(volume), device="cpu"))


def run(volume, out, trained=None, **kwargs):
    kwargs = {**SMALL_BLOCKS, "device": "cpu", **kwargs}
    if trained is not None:
        kwargs.setdefault("model", trained.enhancer)
    factor = kwargs.pop("factor", None)
    return run_to_end(enhance_blockwise_steps(as_lazy(volume, (2.0, 0.5, 0.5), "µm"), out, factor, **kwargs))


def test_blockwise_output_equals_whole_volume_output(tmp_path, volume, trained):
    result = run(volume, tmp_path / "out.zarr", trained)
    assert result.blocks > 2  # really cut into blocks
    got = zarr.open_group(str(tmp_path / "out.zarr"))["0"][:]
    expected = whole_volume(trained, volume)
    # the halo covers the network's receptive field and the back-projection's reach: no seams
    np.testing.assert_allclose(got, expected, atol=1e-4 * np.ptp(expected))
    assert is_complete(tmp_path / "out.zarr") and not partial_path(tmp_path / "out.zarr").exists()
    reopened = open_lazy(tmp_path / "out.zarr")
    assert reopened.voxel_size == tuple(v / f for v, f in zip((2.0, 0.5, 0.5), trained.factor, strict=True))


def test_tiff_output_matches_zarr_output(tmp_path, volume, trained):
    run(volume, tmp_path / "out.zarr", trained)
    result = run(volume, tmp_path / "out.tif", trained)
    tif = read_tiff(result.path)
    np.testing.assert_array_equal(tif.data, zarr.open_group(str(tmp_path / "out.zarr"))["0"][:])
    assert tif.voxel_size == pytest.approx(result.voxel_size)
    assert not partial_path(tmp_path / "out.tif").exists()


def test_big_outputs_become_bigtiff_with_ome_voxel_size(tmp_path, monkeypatch, volume, trained):
    import tifffile

    monkeypatch.setattr("self_vision.core.io.writing.BIGTIFF_BYTES", 1000)
    result = run(volume, tmp_path / "big.tif", trained)
    with tifffile.TiffFile(result.path) as tif:
        assert tif.is_bigtiff and tif.is_ome
    assert read_tiff(result.path).voxel_size == pytest.approx(result.voxel_size)


def test_an_interrupted_run_resumes_and_skips_finished_blocks(tmp_path, volume, trained):
    out = tmp_path / "out.zarr"
    cancel = CancelToken()
    gen = enhance_blockwise_steps(
        as_lazy(volume), out, None, model=trained.enhancer, device="cpu", cancel=cancel, **SMALL_BLOCKS
    )
    finished = 0
    with pytest.raises(CancelledError, match="resume the run"):
        for event in gen:
            if isinstance(event, InferProgress):
                finished += 1
                if finished == 2:
                    cancel.cancel()
    assert not out.exists() and partial_path(out).is_dir()  # nothing looks complete
    # a block that was half written when the power went: garbage in its chunks, no done marker
    zarr.open_array(str(partial_path(out) / "0"), mode="r+")[-1, -1, -1] = 1e9
    with pytest.raises(UsageError, match="resume it to continue"):
        run(volume, out, trained)
    resumed = run(volume, out, resume=True)  # the model comes from the partial store
    assert resumed.resumed_blocks == 2
    np.testing.assert_allclose(
        zarr.open_group(str(out))["0"][:], whole_volume(trained, volume), atol=1e-4 * np.ptp(volume)
    )


def test_resume_refuses_a_different_request(tmp_path, volume, trained):
    out = tmp_path / "out.zarr"
    gen = enhance_blockwise_steps(as_lazy(volume), out, None, model=trained.enhancer, device="cpu", **SMALL_BLOCKS)
    next(e for e in gen if isinstance(e, InferProgress))
    gen.close()  # killed
    with pytest.raises(UsageError, match="was started for"):
        run_to_end(enhance_blockwise_steps(as_lazy(volume), out, (1, 3, 3), device="cpu", resume=True))


def test_existing_output_is_never_replaced_without_overwrite(tmp_path, volume, trained):
    out = tmp_path / "out.zarr"
    run(volume, out, trained)
    marker = out / "keep.txt"
    marker.write_text("mine")
    with pytest.raises(UsageError, match="exists"):
        run(volume, out, trained)
    assert marker.read_text() == "mine"
    run(volume, out, trained, overwrite=True)
    assert not marker.exists() and is_complete(out)


def test_training_uses_a_bounded_structured_region(tmp_path):
    rng = np.random.default_rng(0)
    big = (rng.random((6, 128, 128)) * 0.01).astype(np.float32)
    big[:, 70:, 70:] += synthetic_neurons(shape=(6, 58, 58), seed=1)
    region = training_region(as_lazy(big), (1, 2, 2), max_voxels=6 * 48 * 48)
    assert np.prod([r.stop - r.start for r in region]) <= 6 * 48 * 48
    assert region[1].stop > 70 and region[2].stop > 70  # on the structure, not the empty corner
    result = run(
        big, tmp_path / "o.zarr", factor=(1, 2, 2), train_voxels=6 * 48 * 48, options=EnhanceOptions(steps=3, seed=0)
    )
    assert result.training_region == region and result.self_check is not None


def test_bad_voxels_and_bad_outputs_are_one_line_errors(tmp_path, volume, trained):
    with pytest.raises(UsageError, match=r"\.zarr"):
        run(volume, tmp_path / "out.h5", trained)
    with pytest.raises(UsageError, match="does not exist"):
        run(volume, tmp_path / "nowhere" / "out.zarr", trained)
    bad = volume.copy()
    bad[0, -1, -1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        run(bad, tmp_path / "nan.zarr", trained, train_voxels=12 * 20 * 20)


def test_pyramid_levels_halve_lateral_axes_down_to_a_screenful():
    levels = pyramid_factors((20, 4000, 3000), (2.0, 0.25, 0.25))
    assert levels[0] == (1, 1, 1) and levels[1] == (1, 2, 2)
    assert 4000 // levels[-1][1] <= 512 < 4000 // levels[-2][1]
    assert pyramid_factors((40, 600, 600), (0.1, 0.2, 0.2))[1] == (2, 2, 2)  # fine z: halve z too


def test_large_output_has_a_readable_pyramid(tmp_path):
    big = synthetic_neurons(shape=(2, 150, 150), seed=0)
    trained = run_to_end(train_steps(big, (1, 4, 4), options=EnhanceOptions(steps=2, seed=0), device="cpu"))
    run(big, tmp_path / "p.zarr", trained, chunks=(2, 200, 200), block_output=2 * 400 * 400)
    group = zarr.open_group(str(tmp_path / "p.zarr"))
    assert group["1"].shape == (2, 300, 300)
    np.testing.assert_allclose(group["1"][0, :2, :2].mean(), group["0"][0, :4, :4].mean(), rtol=1e-5)
    paths = [d["path"] for d in group.attrs["ome"]["multiscales"][0]["datasets"]]
    assert paths == ["0", "1"]


def test_blockwise_denoising_equals_whole_stack_denoising(tmp_path):
    from self_vision.core.blockwise.run import denoise_blockwise_steps
    from self_vision.core.denoise.inference import apply_denoiser
    from self_vision.core.denoise.options import DenoiseOptions
    from self_vision.core.denoise.run import denoise_steps

    rng = np.random.default_rng(0)
    clean = synthetic_neurons(shape=(16, 64, 64), seed=4)
    noisy = (clean + 0.1 * rng.standard_normal(clean.shape)).astype(np.float32)
    trained = run_to_end(denoise_steps(noisy, "sis", options=DenoiseOptions(steps=5, seed=0), device="cpu"))
    n = trained.normalizer
    whole = n.inverse(apply_denoiser(trained.model, n.forward(noisy), "ZYX", device=__import__("torch").device("cpu")))
    out = tmp_path / "d.zarr"
    result = run_to_end(
        denoise_blockwise_steps(
            as_lazy(noisy), out, model=trained.model, device="cpu", chunks=(8, 32, 32), block_output=8 * 32 * 32
        )
    )
    assert result.blocks == 8 and result.factor == (1, 1, 1)
    got = zarr.open_group(str(out))["0"][:]
    np.testing.assert_allclose(got, whole, atol=1e-4 * np.ptp(whole))
    # and trained from a sample, through the same engine
    fresh = run_to_end(
        denoise_blockwise_steps(
            as_lazy(noisy), tmp_path / "t.zarr", options=DenoiseOptions(steps=3, seed=0), device="cpu"
        )
    )
    assert fresh.train_seconds > 0 and is_complete(tmp_path / "t.zarr")


@pytest.mark.parametrize("suffix", [".zarr", ".tif"])
def test_outputs_keep_the_input_position_under_the_pixel_area_convention(tmp_path, volume, trained, suffix):
    """The output lies where napari places an enhanced layer: the input's translate moved to the first
    sub-voxel's centre, so a bright spot keeps its world coordinates through save and open."""
    voxel, where = (2.0, 0.5, 0.5), (10.0, 3.0, -4.0)
    lazy = as_lazy(volume, voxel, "µm", translate=where)
    kwargs = {**SMALL_BLOCKS, "device": "cpu", "model": trained.enhancer}
    result = run_to_end(enhance_blockwise_steps(lazy, tmp_path / f"out{suffix}", None, **kwargs))
    reopened = open_lazy(result.path)
    assert reopened.translate == pytest.approx(output_translate(voxel, trained.factor, where))
    assert reopened.voxel_size == pytest.approx(tuple(v / f for v, f in zip(voxel, trained.factor, strict=True)))
