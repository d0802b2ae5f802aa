"""Scores: PSNR/SSIM against a reference, also for stacks too thin for a 3D SSIM window."""

from __future__ import annotations

import numpy as np

from self_vision.core.quality import score


def test_a_two_slice_stack_is_scored_plane_by_plane():
    rng = np.random.default_rng(0)
    reference = rng.random((2, 40, 40)).astype(np.float32)
    perfect = score(reference.copy(), reference)
    noisy = score(reference + 0.2 * rng.standard_normal(reference.shape).astype(np.float32), reference)
    assert perfect.ssim > 0.999 and np.isinf(perfect.psnr) | (perfect.psnr > 60)
    assert noisy.ssim < 0.9 and noisy.psnr < perfect.psnr
