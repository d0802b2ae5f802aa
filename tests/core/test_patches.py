import numpy as np

from self_vision.core.patches import PatchSampler, augment


def test_patches_prefer_structure_over_background():
    volume = np.zeros((4, 64, 64), np.float32)
    rng = np.random.default_rng(0)
    volume[:, 40:56, 40:56] = rng.random((4, 16, 16))  # structure in one corner only
    biased = PatchSampler([volume], (4, 16, 16), np.random.default_rng(1), structure_bias=1.0).sample(200)
    uniform = PatchSampler([volume], (4, 16, 16), np.random.default_rng(1), structure_bias=0.0).sample(200)
    hits_biased = np.mean([p.std() > 0 for p in biased])
    hits_uniform = np.mean([p.std() > 0 for p in uniform])
    assert hits_biased > 0.95
    assert hits_uniform < 0.6


def test_patches_come_from_the_source():
    volume = np.arange(6 * 10 * 12, dtype=np.float32).reshape(6, 10, 12)
    patch = PatchSampler([volume], (2, 3, 4), np.random.default_rng(0)).sample(1)[0]
    z, y, x = np.unravel_index(int(patch[0, 0, 0]), volume.shape)
    np.testing.assert_array_equal(patch, volume[z : z + 2, y : y + 3, x : x + 4])


def test_augment_keeps_axes_apart():
    rng = np.random.default_rng(0)
    batch = rng.random((16, 2, 6, 6)).astype(np.float32)
    out = augment(batch, rng, rotate_lateral=True)
    assert out.shape == batch.shape
    for src, dst in zip(batch, out, strict=True):
        # the z-profile of lateral sums survives up to a flip: z is never mixed with y or x
        zsum_src, zsum_dst = src.sum(axis=(1, 2)), dst.sum(axis=(1, 2))
        assert np.allclose(zsum_src, zsum_dst, atol=1e-4) or np.allclose(zsum_src, zsum_dst[::-1], atol=1e-4)
