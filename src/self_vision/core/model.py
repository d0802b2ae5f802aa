"""The Self-Vision network (2D and 3D) and an N-d pixel shuffle with per-axis factors.

Layout after Self-Vision (Photonics Research 11(1), 2023), itself after FSRCNN, written from the paper's
description: feature extraction (5^d conv, 16 filters, PReLU) -> shrinking (3^d conv 16->6, PReLU) ->
mapping (grouped 3^d convs, PReLU) -> expansion (1^d conv 6->16, PReLU) -> sub-pixel convolution
(3^d conv to prod(factor) channels, then pixel shuffle) added to a linear interpolation of the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .fnsm import FNSM


def pixel_shuffle_nd(x: torch.Tensor, factor: Sequence[int]) -> torch.Tensor:
    """Rearrange ``(B, C*prod(f), *S)`` into ``(B, C, *(S*f))`` with a factor per spatial axis.

    Output voxel ``i*f + r`` along an axis takes channel offset ``r``: the sub-voxels of input voxel ``i``
    tile exactly the area of that voxel (pixel-area alignment).
    """
    factor = tuple(int(f) for f in factor)
    ndim = len(factor)
    batch, channels = x.shape[:2]
    spatial = x.shape[2:]
    if len(spatial) != ndim:
        raise ValueError(f"pixel_shuffle_nd: {len(spatial)} spatial axes but {ndim} factors")
    prod = math.prod(factor)
    if channels % prod:
        raise ValueError(f"pixel_shuffle_nd: {channels} channels not divisible by prod(factor)={prod}")
    out_c = channels // prod
    x = x.reshape(batch, out_c, *factor, *spatial)
    # (B, C, f1..fn, s1..sn) -> (B, C, s1, f1, s2, f2, ...)
    perm = [0, 1]
    for i in range(ndim):
        perm += [2 + ndim + i, 2 + i]
    x = x.permute(*perm)
    return x.reshape(batch, out_c, *(s * f for s, f in zip(spatial, factor, strict=True)))


def pixel_unshuffle_nd(x: torch.Tensor, factor: Sequence[int]) -> torch.Tensor:
    """Inverse of :func:`pixel_shuffle_nd`."""
    factor = tuple(int(f) for f in factor)
    ndim = len(factor)
    batch, channels = x.shape[:2]
    spatial = [s // f for s, f in zip(x.shape[2:], factor, strict=True)]
    shape = [batch, channels]
    for s, f in zip(spatial, factor, strict=True):
        shape += [s, f]
    x = x.reshape(*shape)
    perm = [0, 1] + [3 + 2 * i for i in range(ndim)] + [2 + 2 * i for i in range(ndim)]
    return x.permute(*perm).reshape(batch, channels * math.prod(factor), *spatial)


def cubic_interpolate(x: torch.Tensor, factor: Sequence[int]) -> torch.Tensor:
    """Separable cubic-convolution upsampling of ``(B, C, *S)`` by integer factors, pixel-area aligned."""
    nd = len(factor)
    for axis, f in enumerate(factor):
        if f == 1:
            continue
        dim = x.ndim - nd + axis
        moved = x.movedim(dim, -1)
        shape = moved.shape
        flat = F.interpolate(
            moved.reshape(-1, 1, 1, shape[-1]), size=(1, shape[-1] * f), mode="bicubic", align_corners=False
        )
        x = flat.reshape(*shape[:-1], shape[-1] * f).movedim(-1, dim)
    return x


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of :class:`SelfVisionNet`; stored with saved models."""

    factor: tuple[int, ...]
    features: int = 16  # filters of the 5^d feature-extraction conv
    shrink: int = 6  # channels after shrinking
    mapping: int = 3  # grouped 3^d mapping layers
    groups: int = 2  # groups of each mapping conv
    shrink_kernel: int = 3  # the paper says 3; its released 3D code uses 1
    residual: str = "cubic"  # base the detail is added to: "cubic", "linear" (pixel-area aligned) or "none"
    fnsm: bool = False  # a learned Fourier low-pass (core.fnsm.FNSM, 1/voxel units) in front of the body
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "factor", tuple(int(f) for f in self.factor))
        if len(self.factor) not in (2, 3):
            raise ValueError("factor must have 2 (YX) or 3 (ZYX) entries")
        if self.shrink % self.groups:
            raise ValueError("shrink channels must be divisible by groups")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def halo(self) -> int:
        """Receptive-field radius in input voxels (5^d conv, shrink, mapping, sub-pixel conv) plus one."""
        return 2 + self.shrink_kernel // 2 + self.mapping + 1 + 1


class SelfVisionNet(nn.Module):
    """Zero-shot super-resolution network for one channel, 2D (YX) or 3D (ZYX), per-axis factors."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        ndim = len(config.factor)
        conv = nn.Conv3d if ndim == 3 else nn.Conv2d
        c = config
        layers: list[nn.Module] = [conv(1, c.features, 5, padding=2), nn.PReLU(c.features)]
        layers += [conv(c.features, c.shrink, c.shrink_kernel, padding=c.shrink_kernel // 2), nn.PReLU(c.shrink)]
        for _ in range(c.mapping):
            layers += [conv(c.shrink, c.shrink, 3, padding=1, groups=c.groups), nn.PReLU(c.shrink)]
        layers += [conv(c.shrink, c.features, 1), nn.PReLU(c.features)]
        self.body = nn.Sequential(*layers)
        # in 1/voxel: the net learns on the input's own grid, whatever the voxel size (the zero-shot premise)
        self.fnsm = FNSM(ndim) if c.fnsm else None
        self.to_subpixels = conv(c.features, math.prod(c.factor), 3, padding=1)
        # Small but non-zero: the output starts near the interpolation, and every layer gets gradient.
        nn.init.normal_(self.to_subpixels.weight, std=1e-3)
        nn.init.zeros_(self.to_subpixels.bias)

    @property
    def factor(self) -> tuple[int, ...]:
        return self.config.factor

    def interpolate(self, x: torch.Tensor) -> torch.Tensor:
        """The residual's base: cubic-convolution or linear interpolation with pixel-area alignment."""
        if self.config.residual == "cubic":
            return cubic_interpolate(x, self.factor)
        mode = "trilinear" if x.ndim == 5 else "bilinear"
        return F.interpolate(x, scale_factor=self.factor, mode=mode, align_corners=False)

    def detail(self, x: torch.Tensor) -> torch.Tensor:
        """The network's own contribution (what it adds to the interpolation)."""
        return pixel_shuffle_nd(self.to_subpixels(self.body(x)), self.factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fnsm is not None:  # first stage, for the base too; over the whole tile (no halo cut like the convs)
            x = self.fnsm(x)
        out = self.detail(x)
        if self.config.residual != "none":
            # the base carries the intensities: keep it in float32 even under mixed precision
            with torch.autocast(device_type=x.device.type, enabled=False):
                out = out.float() + self.interpolate(x.float())
        return out


class MemberMean(nn.Module):
    """The mean output of networks of one config trained from different seeds (a seed ensemble).

    A zero-shot fit's result depends on its random start and patches (on one stack the gain over cubic ranged
    over 2 dB between seeds); the mean of several fits varies less and is on average better than one of them.
    """

    def __init__(self, members: Sequence[SelfVisionNet]) -> None:
        super().__init__()
        if len(members) < 2 or any(m.config != members[0].config for m in members):
            raise ValueError("MemberMean needs two or more networks of one config")
        self.members = nn.ModuleList(members)
        self.config = members[0].config

    @property
    def factor(self) -> tuple[int, ...]:
        return self.config.factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.members[0](x)
        for member in self.members[1:]:
            out = out + member(x)
        return out / len(self.members)


#: A stage's network: one, or the mean of several.
Network = SelfVisionNet | MemberMean


def members_of(model: Network) -> list[SelfVisionNet]:
    """The networks a stage averages (one for a single network)."""
    return list(model.members) if isinstance(model, MemberMean) else [model]  # type: ignore[arg-type]


def combine(members: Sequence[SelfVisionNet]) -> Network:
    """One network as it is, several as their :class:`MemberMean`."""
    return members[0] if len(members) == 1 else MemberMean(members)


def build_model(config: ModelConfig) -> SelfVisionNet:
    return SelfVisionNet(config)
