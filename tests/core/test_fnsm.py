"""FNSM: gradients reach k_c and slope, the parametrisation keeps them in range, physical units, the mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from self_vision.core.fnsm import FNSM, theoretical_cutoff


def test_gradients_reach_cutoff_and_slope():
    layer = FNSM(3, (0.5, 0.25, 0.25))
    x = torch.randn(2, 1, 8, 16, 16)
    target = torch.randn(2, 1, 8, 16, 16)
    loss = torch.mean((layer(x) - target) ** 2)
    loss.backward()
    assert layer.raw_cutoff.grad is not None and layer.raw_cutoff.grad.abs() > 0
    assert layer.raw_slope.grad is not None and layer.raw_slope.grad.abs() > 0


@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_optimiser_cannot_push_parameters_out_of_range(direction):
    layer = FNSM(2, (0.2, 0.2))
    optimizer = torch.optim.SGD(layer.parameters(), lr=50.0)
    for _ in range(200):  # push k_c above Nyquist (or below 0) and the slope below 0
        loss = -direction * layer.cutoff + layer.slope * 100.0
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    k_c, slope = layer.learned_cutoff(), float(layer.slope.detach())
    assert 0.0 < k_c <= layer.k_nyquist
    assert slope > 0.0
    assert np.isfinite(layer(torch.randn(1, 1, 16, 16)).detach().numpy()).all()


def test_frequencies_are_physical_and_ellipsoidal():
    layer = FNSM(3, (1.0, 0.25, 0.5))
    assert layer.k_nyquist == pytest.approx(2.0)  # 1 / (2 * 0.25 µm)
    assert layer.unit == "1/µm"
    k = layer.radius((4, 8, 8), torch.device("cpu"))
    assert k.shape == (4, 8, 5)  # rfftn half-spectrum
    assert float(k[1, 0, 0]) == pytest.approx(0.25)  # 1 / (4 * 1.0 µm)
    assert float(k[0, 1, 0]) == pytest.approx(0.5)  # 1 / (8 * 0.25 µm)
    assert float(k[0, 0, 1]) == pytest.approx(0.25)  # 1 / (8 * 0.5 µm)
    assert float(k[1, 1, 1]) == pytest.approx(np.sqrt(0.25**2 + 0.5**2 + 0.25**2))


def test_wide_open_mask_passes_the_image_and_closed_mask_keeps_only_the_mean():
    x = torch.rand(1, 1, 16, 16)
    wide = FNSM(2, init_cutoff=1.0, init_slope=1e4)
    with torch.no_grad():
        wide.raw_cutoff.fill_(30.0)  # k_c -> Nyquist; corners beyond it are damped, the rest kept
        narrow = FNSM(2, init_cutoff=0.01, init_slope=1e4)
        low = narrow(x)
    assert torch.allclose(low, x.mean().expand_as(x), atol=1e-3)
    band = wide.radius((16, 16), torch.device("cpu")) < 0.45
    spectrum_in = torch.fft.rfftn(x, dim=(-2, -1))[0, 0][band]
    spectrum_out = torch.fft.rfftn(wide(x).detach(), dim=(-2, -1))[0, 0][band]
    assert torch.allclose(spectrum_in, spectrum_out, atol=1e-3)


def test_theoretical_cutoff_and_report():
    assert theoretical_cutoff(1.2, 0.5) == pytest.approx(4.8)
    line = FNSM(3, (0.5, 0.1, 0.1)).report(na=1.2, wavelength_um=0.5)
    assert "FNSM cutoff" in line and "Nyquist 5" in line and "4.8 1/µm" in line
    with pytest.raises(ValueError):
        theoretical_cutoff(0, 0.5)


def test_fnsm_as_first_stage_of_the_enhancer(tmp_path):
    from self_vision.api import enhance, load_model, save_model
    from self_vision.core.enhance.options import EnhanceOptions
    from self_vision.core.model import ModelConfig, SelfVisionNet

    net = SelfVisionNet(ModelConfig((1, 2, 2), fnsm=True))
    assert isinstance(net.fnsm, FNSM) and net.fnsm.unit == "1/voxel"
    assert SelfVisionNet(ModelConfig((1, 2, 2))).fnsm is None  # off by default
    x = torch.rand(1, 1, 6, 12, 12)
    net(x).pow(2).mean().backward()
    assert net.fnsm.raw_cutoff.grad is not None and net.fnsm.raw_cutoff.grad.abs() > 0
    volume = np.random.default_rng(0).random((6, 16, 16)).astype(np.float32)
    options = EnhanceOptions(fnsm=True, back_projection=0, self_check=False)
    result = enhance(volume, (1, 2, 2), steps=2, seed=0, device="cpu", options=options)
    assert result.data.shape == (6, 32, 32)
    path = save_model(result.model, tmp_path / "m.pt")
    again = enhance(volume, (1, 2, 2), model=load_model(path), device="cpu")
    np.testing.assert_allclose(again.data, result.data, atol=1e-4)
