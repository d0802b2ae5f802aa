import numpy as np
import pytest
import torch

from self_vision.core.model import (
    MemberMean,
    ModelConfig,
    SelfVisionNet,
    combine,
    members_of,
    pixel_shuffle_nd,
    pixel_unshuffle_nd,
)


def test_pixel_shuffle_matches_torch_in_2d():
    x = torch.randn(2, 12, 5, 7)
    assert torch.equal(pixel_shuffle_nd(x, (2, 2))[:, :3], torch.nn.functional.pixel_shuffle(x, 2)[:, :3])


@pytest.mark.parametrize("factor", [(1, 4, 4), (4, 1, 1), (2, 3, 4), (4, 4, 4), (2, 2), (4, 1)])
def test_pixel_shuffle_round_trip(factor):
    prod = 1
    for f in factor:
        prod *= f
    x = torch.randn(2, 2 * prod, *([3] * len(factor)))
    y = pixel_shuffle_nd(x, factor)
    assert y.shape == (2, 2, *(3 * f for f in factor))
    assert torch.equal(pixel_unshuffle_nd(y, factor), x)


def test_pixel_shuffle_puts_subvoxels_inside_their_voxel():
    # channel r of low-res voxel i lands at i*f + r: one voxel's sub-voxels tile its own area
    x = torch.zeros(1, 4, 1, 3)
    x[0, :, 0, 1] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    y = pixel_shuffle_nd(x, (1, 4))
    assert y[0, 0, 0].tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0]


@pytest.mark.parametrize("factor", [(1, 4, 4), (4, 1, 1), (2, 2, 2), (4, 4, 4), (1, 2, 3), (4, 4), (3, 1)])
def test_network_output_shape(factor):
    net = SelfVisionNet(ModelConfig(factor))
    x = torch.rand(1, 1, *([6] * len(factor)))
    assert net(x).shape == (1, 1, *(6 * f for f in factor))


def test_layout_follows_the_paper():
    net = SelfVisionNet(ModelConfig((4, 4, 4)))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs[0].kernel_size == (5, 5, 5) and convs[0].out_channels == 16
    assert convs[1].out_channels == 6 and convs[1].kernel_size == (3, 3, 3)
    assert all(c.groups == 2 for c in convs[2:5])
    assert convs[-1].out_channels == 64  # sub-pixel convolution to prod(factor) channels
    assert sum(isinstance(m, torch.nn.PReLU) for m in net.modules()) == 6


def test_halo_covers_the_receptive_field():
    torch.manual_seed(0)
    net = SelfVisionNet(ModelConfig((1, 2, 2)))
    for p in net.parameters():  # make every weight matter
        torch.nn.init.normal_(p, std=0.3)
    halo = net.config.halo
    size = 2 * halo + 5
    x = torch.rand(1, 1, size, size, size)
    centre = size // 2
    base = net(x)
    changed = x.clone()
    changed[..., centre + halo, centre, centre] += 10  # just outside the halo along z
    far = net(changed)
    core = (slice(None), slice(None), slice(centre, centre + 1), slice(2 * centre, 2 * centre + 2))
    assert torch.allclose(base[core], far[core], atol=1e-6)
    changed = x.clone()
    changed[..., centre + 1, centre, centre] += 10  # inside it: must change the output
    assert not torch.allclose(base[core], net(changed)[core], atol=1e-3)


def test_config_rejects_bad_shapes():
    with pytest.raises(ValueError, match="factor"):
        ModelConfig((2,))
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig((2, 2), shrink=5, groups=2)


def test_member_mean_averages_its_networks():
    torch.manual_seed(0)
    config = ModelConfig((2, 2, 2))
    first, second = SelfVisionNet(config), SelfVisionNet(config)
    with torch.no_grad():  # different detail, so the mean differs from either network
        first.to_subpixels.bias.fill_(0.3)
        second.to_subpixels.bias.fill_(-0.1)
    mean = MemberMean([first, second])
    x = torch.rand(1, 1, 6, 8, 8)
    with torch.no_grad():
        expected = 0.5 * (first(x) + second(x))
        np.testing.assert_allclose(mean(x).numpy(), expected.numpy(), atol=1e-6)
        assert not torch.allclose(mean(x), first(x))
    assert mean.factor == (2, 2, 2) and members_of(mean) == [first, second]
    assert combine([first]) is first and isinstance(combine([first, second]), MemberMean)


def test_member_mean_refuses_mixed_configs():
    with pytest.raises(ValueError, match="one config"):
        MemberMean([SelfVisionNet(ModelConfig((2, 2, 2))), SelfVisionNet(ModelConfig((1, 2, 2)))])
    with pytest.raises(ValueError, match="two or more"):
        MemberMean([SelfVisionNet(ModelConfig((2, 2, 2)))])
