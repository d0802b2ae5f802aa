"""Saved denoisers: plain tensors and settings (also what dask workers receive), written and read checked."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..errors import DataError, UsageError, one_line
from ..io.modelcheck import check_denoiser_payload
from ..io.modelfile import DENOISER_FORMAT, read_payload, save_payload
from .net import DenoiseConfig, DenoiseNet
from .options import MODES
from .result import DenoiseResult


def save_denoiser(model: DenoiseNet | DenoiseResult, path: str | Path) -> Path:
    """Write a trained denoiser (or a :class:`DenoiseResult`'s) atomically; returns the path written."""
    net = model.model if isinstance(model, DenoiseResult) else model
    if not isinstance(net, DenoiseNet):
        raise UsageError(f"save_denoiser: give a DenoiseNet or DenoiseResult, not {type(model).__name__}")
    return save_payload(denoiser_to_dict(net), path)


def load_denoiser(path: str | Path) -> DenoiseNet:
    """Read a denoiser written by :func:`save_denoiser`; any other file is a one-line :class:`DataError`."""
    data = read_payload(path, DENOISER_FORMAT)
    try:
        return denoiser_from_dict(data)
    except Exception as err:
        where = Path(path).expanduser()
        raise DataError(f"{where}: a damaged denoiser file ({type(err).__name__}: {one_line(err)})") from None


def denoiser_to_dict(net: DenoiseNet) -> dict:
    """The plain tensors and settings :func:`save_denoiser` writes (also what dask workers receive)."""
    config = asdict(net.config)
    config["spacing"] = None if net.config.spacing is None else list(net.config.spacing)
    return {
        "format": DENOISER_FORMAT,
        "config": config,
        "state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
    }


def denoiser_from_dict(data: dict) -> DenoiseNet:
    """Rebuild a denoiser from :func:`denoiser_to_dict`'s output (in eval mode), validated first."""
    check_denoiser_payload(data)
    raw = dict(data["config"])
    raw["spacing"] = None if raw.get("spacing") is None else tuple(float(v) for v in raw["spacing"])
    config = DenoiseConfig(**raw)
    if config.mode not in MODES:
        raise ValueError(f"mode {config.mode!r}")
    net = DenoiseNet(config)
    net.load_state_dict(data["state"])
    return net.eval()
