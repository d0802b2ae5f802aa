"""The rDL denoiser: a small two-branch CNN that denoises the raw frames of one SIM orientation.

Branch 1 reads the noisy phase frames of one orientation, branch 2 the pattern-modulated (PM) images of the
same orientation (where the fringes must be, from a super-resolved estimate that used all orientations).
Their features are concatenated, fused by residual blocks, and the network predicts a correction added to
the noisy frames. With ``use_pattern=False`` the second branch is absent: the same denoiser without the
pattern prior (the ablation of the benchmark). An optional FNSM stage (:mod:`self_vision.core.fnsm`) gives
branch 1 a learnable low-passed copy of its input as extra channels.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..fnsm import FNSM


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2, padding_mode="reflect" if k > 1 else "zeros")


class _Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(width, width), nn.LeakyReLU(0.1), _conv(width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class RDLNet(nn.Module):
    """``(noisy (B, P, H, W), pm (B, P, H, W)) → denoised (B, P, H, W)``."""

    def __init__(
        self,
        n_phases: int = 3,
        width: int = 32,
        blocks: int = 3,
        *,
        use_pattern: bool = True,
        fnsm: bool = False,
        pixel_um: float | None = None,
    ) -> None:
        super().__init__()
        self.use_pattern = use_pattern
        self.fnsm = FNSM(2, None if pixel_um is None else (pixel_um, pixel_um)) if fnsm else None
        raw_in = n_phases * (2 if fnsm else 1)
        self.raw_branch = nn.Sequential(_conv(raw_in, width), nn.LeakyReLU(0.1), _conv(width, width), nn.LeakyReLU(0.1))
        fused = width
        if use_pattern:
            self.pm_branch = nn.Sequential(
                _conv(n_phases, width), nn.LeakyReLU(0.1), _conv(width, width), nn.LeakyReLU(0.1)
            )
            fused = 2 * width
        self.fuse = nn.Sequential(_conv(fused, width, 1), nn.LeakyReLU(0.1), *[_Residual(width) for _ in range(blocks)])
        self.head = _conv(width, n_phases)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, noisy: torch.Tensor, pm: torch.Tensor | None = None) -> torch.Tensor:
        raw = torch.cat([noisy, self.fnsm(noisy)], dim=1) if self.fnsm is not None else noisy
        features = self.raw_branch(raw)
        if self.use_pattern:
            if pm is None:
                raise ValueError("this rDL network needs the pattern-modulated images")
            features = torch.cat([features, self.pm_branch(pm)], dim=1)
        return noisy + self.head(self.fuse(features))


@torch.no_grad()
def denoise_stack(net: RDLNet, noisy: np.ndarray, pm: np.ndarray | None, device: torch.device) -> np.ndarray:
    """Apply ``net`` to every orientation of one normalised acquisition ``(O, P, Y, X)``."""
    net.eval()
    x = torch.from_numpy(np.ascontiguousarray(noisy, dtype=np.float32)).to(device)
    p = None if pm is None else torch.from_numpy(np.ascontiguousarray(pm, dtype=np.float32)).to(device)
    out = net(x, p if net.use_pattern else None)
    return out.cpu().numpy()
