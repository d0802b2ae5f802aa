"""Discover and validate compute devices: auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import KIND_INVALID_VALUE, DeviceError

#: What to do when a device is not there (the CLI says ``use --device cpu or auto``).
_FALLBACK = "choose the CPU or auto"


@dataclass(frozen=True)
class DeviceInfo:
    """One device a user can pick, with a label for menus."""

    name: str  # what resolve_device accepts, e.g. "cuda:0"
    label: str  # e.g. "cuda:0 — NVIDIA H100 (80 GB)"


def available_devices() -> list[DeviceInfo]:
    """Every usable device: each CUDA GPU by name and memory, MPS, then the CPU."""
    found = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            found.append(DeviceInfo(f"cuda:{i}", f"cuda:{i} — {props.name} ({props.total_memory / 2**30:.0f} GB)"))
    if _mps_available():
        found.append(DeviceInfo("mps", "mps — Apple GPU"))
    found.append(DeviceInfo("cpu", "cpu"))
    return found


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """Turn a user's device choice into a ``torch.device``; an unavailable choice raises :class:`DeviceError`."""
    if isinstance(name, torch.device):
        name = str(name)
    if name is not None and not isinstance(name, str):
        raise DeviceError(f"device {name!r}: give a name such as auto, cpu, cuda or cuda:N", kind=KIND_INVALID_VALUE)
    choice = (name or "auto").strip().lower()
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda:0")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "mps":
        if not _mps_available():
            raise DeviceError("device 'mps' is not available on this machine", hint=_FALLBACK)
        return torch.device("mps")
    if choice == "cuda" or choice.startswith("cuda:"):
        index_text = choice.partition(":")[2] or "0"
        if not index_text.isdigit():
            raise DeviceError(
                f"device {name!r} is not a valid CUDA device; write cuda or cuda:N", kind=KIND_INVALID_VALUE
            )
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"device {name!r} is not available: no CUDA GPU found", hint=_FALLBACK)
        if int(index_text) >= count:
            raise DeviceError(f"device {name!r} is not available: this machine has {count} CUDA GPU(s)", hint=_FALLBACK)
        return torch.device(f"cuda:{int(index_text)}")
    raise DeviceError(f"unknown device {name!r}; choose auto, cpu, cuda, cuda:N or mps", kind=KIND_INVALID_VALUE)


def bf16_is_fast(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CUDA with bf16, or a CPU with AVX512-BF16/AMX)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        mkldnn = getattr(torch.ops, "mkldnn", None)
        check = getattr(mkldnn, "_is_mkldnn_bf16_supported", None)
        return bool(torch.backends.mkldnn.is_available() and check is not None and check())
    return False


def autocast(device: torch.device, precision: str = "fp32") -> torch.autocast:
    """Mixed precision for the network's convolutions: ``fp32``, ``bf16``, or ``auto`` (bf16 where it is fast)."""
    if precision not in ("fp32", "bf16", "auto"):
        raise ValueError(f"unknown precision {precision!r}; choose fp32, bf16 or auto")
    use = precision == "bf16" or (precision == "auto" and bf16_is_fast(device))
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use and device.type in ("cpu", "cuda"))
