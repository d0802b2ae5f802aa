"""SiS/TiS denoising: pairing, the GAR loss, a short run that helps, time-lapses, errors, cancel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import self_vision
from self_vision.api import denoise
from self_vision.core.degrade import add_poisson_gaussian
from self_vision.core.denoise.inference import apply_denoiser, sis_halves_ensemble
from self_vision.core.denoise.net import DenoiseConfig, DenoiseNet
from self_vision.core.denoise.options import DenoiseOptions
from self_vision.core.denoise.run import denoise_steps
from self_vision.core.denoise.training import Sampler, _step_tensors, gar_loss, interleave_pairs
from self_vision.core.errors import CancelledError, DataError, UsageError
from self_vision.core.events import CancelToken, InferProgress, StageInfo, TrainProgress, run_to_end
from self_vision.core.quality import score
from self_vision.core.sample import synthetic_neurons

RNG = np.random.default_rng(0)


def index_stack(n: int, ndim: int = 3) -> np.ndarray:
    """A stack whose every voxel holds its index along axis 0."""
    shape = (n, 16, 16) if ndim == 3 else (n, 4, 16, 16)
    return np.broadcast_to(np.arange(n, dtype=np.float32).reshape(-1, *[1] * (ndim - 1)), shape).copy()


# --------------------------------------------------------------------------------------------- pairing


def test_interleave_pairs_even_with_the_next_odd():
    even, odd = interleave_pairs(index_stack(7))
    assert even[:, 0, 0].tolist() == [0, 2, 4]
    assert odd[:, 0, 0].tolist() == [1, 3, 5]  # slice 6 has no partner and is left out


def test_sis_batches_pair_neighbouring_slices():
    x = index_stack(12)
    sampler = Sampler(x, "ZYX", DenoiseOptions(patch=8, patch_z=6, batch_size=8), np.random.default_rng(0))
    for _ in range(5):
        batch = sampler.sample()
        assert batch.shape == (8, 1, 6, 8, 8)
        even, odd = interleave_pairs(batch, axis=2)
        assert torch.all((odd - even).abs() == 1)  # z-flips swap which side predicts which: ±1
    seen = {round(float(b[0, 0, 0, 0])) for b in (sampler.sample() for _ in range(20)) for b in b}
    assert len(seen) > 2


@pytest.mark.parametrize("ndim", [3, 4])
def test_tis_batches_pair_even_time_points_with_the_following_odd_one(ndim):
    x = index_stack(9, ndim)
    axes = "TYX" if ndim == 3 else "TZYX"
    sampler = Sampler(x, axes, DenoiseOptions(patch=8, patch_z=4, batch_size=16), np.random.default_rng(1))
    batch = sampler.sample().numpy()
    assert batch.shape[1] == 2
    first, second = batch[:, 0].reshape(16, -1)[:, 0], batch[:, 1].reshape(16, -1)[:, 0]
    low, high = np.minimum(first, second), np.maximum(first, second)
    assert np.all(low % 2 == 0) and np.all(high == low + 1)  # pairs (2i, 2i+1); time point 8 is never used
    assert set(first.tolist()) != set(low.tolist())  # both directions occur


# --------------------------------------------------------------------------------------------- GAR


def identity_model(ndim: int = 3) -> DenoiseNet:
    model = DenoiseNet(DenoiseConfig(ndim, features=4, depth=3))
    last = model.cnn.body[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    return model


def test_gar_term_is_zero_for_the_identity():
    """f = id: y_o − x_e − (x_o − x_e) = 0 exactly, whatever the data."""
    batch = torch.rand(2, 1, 8, 12, 12)
    pred, target, gap = _step_tensors(identity_model(), batch, "ZYX", gamma=1.0)
    loss, reg = gar_loss(pred, target, gap, 1.0)
    assert float(reg.detach()) == pytest.approx(0.0, abs=1e-12)
    assert float(loss.detach()) == pytest.approx(float(torch.mean((target - pred) ** 2).detach()))
    pairs = torch.rand(3, 2, 12, 12)
    _, _, gap2 = _step_tensors(identity_model(2), pairs, "TYX", gamma=1.0)
    assert torch.allclose(gap2, pairs[:, 1:] - pairs[:, :1])


def test_gar_changes_the_gradients_and_gamma_zero_disables_it():
    torch.manual_seed(0)
    model = DenoiseNet(DenoiseConfig(3, features=4, depth=3))
    batch = torch.rand(2, 1, 8, 12, 12)

    def grads(gamma: float) -> torch.Tensor:
        model.zero_grad()
        pred, target, gap = _step_tensors(model, batch, "ZYX", gamma)
        loss, _ = gar_loss(pred, target, gap, gamma)
        loss.backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    plain, with_gar = grads(0.0), grads(1.0)
    assert _step_tensors(model, batch, "ZYX", 0.0)[2] is None
    assert not torch.allclose(plain, with_gar)


# --------------------------------------------------------------------------------------------- runs


def test_short_sis_run_improves_psnr():
    clean = synthetic_neurons((16, 48, 48), seed=1)
    noisy = add_poisson_gaussian(clean, 20, 0.02, np.random.default_rng(0))
    result = denoise(noisy, "sis", steps=80, seed=0, device="cpu", options=DenoiseOptions(patch=32))
    before, after = score(noisy, clean).psnr, score(result.data, clean).psnr
    assert result.data.shape == noisy.shape and result.data.dtype == np.float32
    assert after > before + 1.5, (before, after)


def test_time_lapse_runs_through_tis_with_events_and_fnsm():
    frames = np.stack([synthetic_neurons((1, 32, 32), seed=s)[0] for s in range(6)])
    events = []
    result = denoise(
        frames, "tis", steps=3, seed=0, device="cpu", fnsm=True, voxel_size=(0.2, 0.2), progress=events.append
    )
    assert result.data.shape == frames.shape and np.isfinite(result.data).all()
    assert result.mode == "tis"
    assert 0 < result.fnsm_cutoff <= 2.5  # 1/µm, Nyquist of 0.2 µm pixels
    kinds = {type(e) for e in events}
    assert {TrainProgress, StageInfo, InferProgress} <= kinds
    assert any("FNSM cutoff" in e.message for e in events if isinstance(e, StageInfo))


def test_volumetric_time_lapse_runs_through_tis():
    data = np.random.default_rng(0).random((4, 6, 16, 16)).astype(np.float32)
    result = run_to_end(denoise_steps(data, "tis", options=DenoiseOptions(steps=2, gamma=0.5), device="cpu"))
    assert result.data.shape == data.shape


def test_sis_inference_uses_half_stacks_and_both_halves():
    x = index_stack(7)
    seen: list[int] = []

    def identity(v: np.ndarray) -> np.ndarray:
        seen.append(v.shape[0])
        return v.copy()

    out = sis_halves_ensemble(identity, x)
    assert sorted(seen) == [3, 3, 4, 4]  # the even and odd halves, forwards and flipped: never the full stack
    # own half says x[k]; the other half predicts k from k-1 (forwards) and k+1 (backwards)
    expected = [0.5 * 0 + 0.5 * 1, *[0.5 * k + 0.25 * (k - 1) + 0.25 * (k + 1) for k in range(1, 6)], 0.5 * 6 + 0.5 * 5]
    np.testing.assert_allclose(out[:, 0, 0], expected)

    def next_slice(v: np.ndarray) -> np.ndarray:  # a perfect SiS net on a ramp: the next slice of the full stack
        return v + (v[1] - v[0]) / 2  # half the half-stack's step; negative on a flipped stack

    out = sis_halves_ensemble(next_slice, x)
    # forwards predicts k from k-1, backwards k from k+1, the own half averages k+1 and k-1: all exact
    np.testing.assert_allclose(out[:, 0, 0], np.arange(7))


def test_sis_ensemble_on_patches_matches_numpy_and_feeds_the_gap():
    torch.manual_seed(0)
    model = DenoiseNet(DenoiseConfig(3, features=4, depth=3))
    with torch.no_grad():
        model.cnn.body[-1].weight.normal_(std=0.1)
        x = np.random.default_rng(1).random((2, 1, 8, 12, 12)).astype(np.float32)
        on_tensor = sis_halves_ensemble(model, torch.from_numpy(x)).numpy()
        on_array = sis_halves_ensemble(lambda v: model(torch.from_numpy(np.ascontiguousarray(v))).numpy(), x)
    np.testing.assert_allclose(on_tensor, on_array, atol=1e-6)
    batch = torch.from_numpy(x)
    _, _, gap_full = _step_tensors(model, batch, "ZYX", 1.0, "full")
    _, _, gap_halves = _step_tensors(model, batch, "ZYX", 1.0, "halves")
    ens_even, ens_odd = interleave_pairs(torch.from_numpy(on_tensor), axis=2)
    torch.testing.assert_close(gap_halves, ens_odd - ens_even)
    assert not torch.allclose(gap_full, gap_halves)


def test_tiled_inference_matches_whole():
    torch.manual_seed(0)
    model = DenoiseNet(DenoiseConfig(3, features=4, depth=3))
    with torch.no_grad():
        model.cnn.body[-1].weight.normal_(std=0.1)
    x = np.random.default_rng(0).random((8, 40, 40)).astype(np.float32)
    whole = apply_denoiser(model, x, "ZYX", device=torch.device("cpu"))
    tiled = apply_denoiser(model, x, "ZYX", device=torch.device("cpu"), max_tile_output=2000)
    np.testing.assert_allclose(whole, tiled, atol=1e-5)


def test_cancel_stops_the_run():
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        denoise(index_stack(8), "sis", steps=5, device="cpu", cancel=token)


def test_top_level_lazy_name():
    assert self_vision.denoise is denoise


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("data", "mode", "error", "text"),
    [
        (index_stack(3), "sis", DataError, "has 3 slices; SiS needs at least 4"),
        (RNG.random((16, 16)), "sis", DataError, "SiS denoises a 3D (ZYX) stack"),
        (RNG.random((16, 16)), "tis", DataError, "no time axis"),
        (index_stack(3), "tis", DataError, "has 3 time points; TiS needs at least 4"),
        (np.full((6, 16, 16), np.nan, np.float32), "sis", DataError, "NaN/Inf"),
        (np.ones((6, 16, 16), np.float32), "sis", DataError, "is constant"),
        (RNG.random((6, 4, 4)), "sis", DataError, "laterally"),
        (index_stack(6), "xyz", UsageError, "unknown denoising mode"),
    ],
)
def test_one_line_errors(data, mode, error, text):
    with pytest.raises(error) as info:
        denoise(data, mode, steps=1, device="cpu", name="stack.tif")
    message = str(info.value)
    assert text in message and "\n" not in message
    if error is DataError:
        assert message.startswith("stack.tif: ")


def test_negative_gar_is_a_usage_error():
    with pytest.raises(UsageError, match="regulariser weight"):
        denoise(index_stack(6), "sis", steps=1, device="cpu", gar=-1.0)
    for bad in ({"sis_inference": "middle"}, {"gap": "none"}):
        with pytest.raises(UsageError, match="choose one of halves, full"):
            denoise(index_stack(6), "sis", steps=1, device="cpu", options=DenoiseOptions(**bad))


# --------------------------------------------------------------------------------------------- saved denoisers


def _trained(mode: str = "sis", fnsm: bool = True):
    data = RNG.random((8, 16, 16)).astype(np.float32)
    voxel = (1.0, 0.5, 0.5) if mode == "sis" else (0.5, 0.5)
    return data, denoise(data, mode, steps=2, seed=0, fnsm=fnsm, device="cpu", voxel_size=voxel)


@pytest.mark.parametrize("mode", ["sis", "tis"])
def test_saved_denoiser_gives_the_same_result(tmp_path, mode):
    data, result = _trained(mode)
    path = self_vision.save_denoiser(result, tmp_path / "den.pt")
    assert {p.name for p in tmp_path.iterdir()} == {"den.pt"}  # no temporary file left behind
    net = self_vision.load_denoiser(path)
    assert net.config == result.model.config and net.config.mode == mode
    again = denoise(data, model=path, device="cpu")
    assert again.mode == mode and again.train_seconds == 0.0
    np.testing.assert_allclose(again.data, result.data, atol=1e-5)
    np.testing.assert_allclose(denoise(data, model=net, device="cpu").data, result.data, atol=1e-5)


def test_applying_a_saved_denoiser_emits_no_training_events(tmp_path):
    data, result = _trained("sis", fnsm=False)
    events: list[object] = []
    denoise(data, model=result.model, device="cpu", progress=events.append)
    assert events and not any(isinstance(e, TrainProgress) for e in events)


def test_saving_overwrites_atomically(tmp_path):
    _, result = _trained()
    target = tmp_path / "den.pt"
    target.write_text("old")
    self_vision.save_denoiser(result.model, target)
    assert self_vision.load_denoiser(target).config == result.model.config


def test_wrong_denoiser_files_are_one_line_errors(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_text("not a model")
    other = tmp_path / "other.pt"
    torch.save({"format": "something else"}, other)
    enhancer = tmp_path / "enhancer.pt"
    from self_vision.core.io.modelfile import MODEL_FORMAT

    torch.save({"format": MODEL_FORMAT}, enhancer)
    damaged = tmp_path / "damaged.pt"
    torch.save({"format": "napari-self-vision-denoiser/1", "config": {"ndim": 3}, "state": {}}, damaged)
    for path, text in [
        (tmp_path / "missing.pt", "no such denoiser file"),
        (junk, "not a napari-self-vision denoiser"),
        (other, "not a napari-self-vision denoiser file"),
        (enhancer, "it is an enhancement model"),
        (damaged, "the model file is damaged"),
    ]:
        with pytest.raises(DataError, match=text) as info:
            self_vision.load_denoiser(path)
        assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="does not exist"):
        self_vision.save_denoiser(DenoiseNet(DenoiseConfig(3)), tmp_path / "nowhere" / "den.pt")
    with pytest.raises(UsageError, match="DenoiseNet or DenoiseResult"):
        self_vision.save_denoiser("model", tmp_path / "den.pt")


def test_a_saved_denoiser_checks_mode_and_axes():
    data, result = _trained("sis", fnsm=False)
    with pytest.raises(UsageError, match="trained for sis"):
        denoise(data, "tis", model=result.model, device="cpu")
    _, tis2d = _trained("tis", fnsm=False)  # a per-frame (2D) network
    with pytest.raises(DataError, match="trained on 2D"):
        denoise(RNG.random((4, 6, 16, 16)).astype(np.float32), model=tis2d.model, device="cpu")
