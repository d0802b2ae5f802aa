"""The denoising network (optional FNSM, then a light residual CNN) (its file: :mod:`.files`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..fnsm import FNSM


@dataclass(frozen=True)
class DenoiseConfig:
    """Shape of a :class:`DenoiseNet`."""

    ndim: int  # 3 (ZYX) or 2 (YX, per frame)
    features: int = 16
    depth: int = 4  # 3^d convolutions
    fnsm: bool = False
    spacing: tuple[float, ...] | None = None  # voxel size for the FNSM's physical frequencies
    mode: str = "sis"  # what it was trained for, hence how it is applied: sis (ZYX) or tis (TYX / TZYX)

    @property
    def halo(self) -> int:
        """Receptive-field radius of the convolutional part, plus one."""
        return self.depth + 1


class ConvDenoiser(nn.Module):
    """Light residual CNN: ``x + convs(x)``; the last conv starts near zero, so f starts near identity."""

    def __init__(self, config: DenoiseConfig) -> None:
        super().__init__()
        self.config = config
        conv = nn.Conv3d if config.ndim == 3 else nn.Conv2d
        c = config.features
        layers: list[nn.Module] = [conv(1, c, 3, padding=1), nn.PReLU(c)]
        for _ in range(config.depth - 2):
            layers += [conv(c, c, 3, padding=1), nn.PReLU(c)]
        last = conv(c, 1, 3, padding=1)
        nn.init.normal_(last.weight, std=1e-3)
        nn.init.zeros_(last.bias)
        self.body = nn.Sequential(*layers, last)

    @property
    def factor(self) -> tuple[int, ...]:
        """No resampling: lets :func:`core.infer.predict` tile this network."""
        return (1,) * self.config.ndim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class DenoiseNet(nn.Module):
    """Optional FNSM first stage, then :class:`ConvDenoiser`."""

    def __init__(self, config: DenoiseConfig) -> None:
        super().__init__()
        if config.ndim not in (2, 3):
            raise ValueError("DenoiseNet is 2D or 3D")
        self.config = config
        self.fnsm = FNSM(config.ndim, config.spacing) if config.fnsm else None
        self.cnn = ConvDenoiser(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(self.fnsm(x) if self.fnsm is not None else x)
