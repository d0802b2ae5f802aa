"""core.devices: device discovery and validation, on this machine and with CUDA/MPS simulated."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from self_vision.core import devices
from self_vision.core.devices import DeviceInfo, available_devices, resolve_device
from self_vision.core.errors import DeviceError, UsageError

HAS_CUDA = torch.cuda.is_available()
HAS_MPS = devices._mps_available()


# --------------------------------------------------------------------------------------------- this machine


@pytest.mark.parametrize("name", ["cpu", "CPU", " cpu ", torch.device("cpu")])
def test_cpu_is_always_available(name):
    assert resolve_device(name) == torch.device("cpu")


@pytest.mark.skipif(HAS_CUDA or HAS_MPS, reason="a GPU is available, so auto picks it")
@pytest.mark.parametrize("name", ["auto", "AUTO", None, ""])
def test_auto_gives_cpu_without_a_gpu(name):
    assert resolve_device(name) == torch.device("cpu")


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_auto_gives_the_first_cuda_gpu():
    assert resolve_device("auto") == torch.device("cuda:0")


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is available here")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:1", "CUDA:0"])
def test_cuda_is_refused_without_a_gpu(name):
    with pytest.raises(DeviceError) as err:
        resolve_device(name)
    message = str(err.value)
    assert "no CUDA GPU found" in message
    assert repr(name) in message
    assert "\n" not in message


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
def test_cuda_index_beyond_the_gpus_is_refused():
    count = torch.cuda.device_count()
    assert resolve_device("cuda") == torch.device("cuda:0")
    with pytest.raises(DeviceError, match=f"this machine has {count} CUDA GPU"):
        resolve_device(f"cuda:{count}")


@pytest.mark.skipif(HAS_MPS, reason="MPS is available here")
def test_mps_is_refused_when_unavailable():
    with pytest.raises(DeviceError, match=r"device 'mps' is not available"):
        resolve_device("mps")


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda0", "cpu:0", "xla", "metal", "cuda:x", "cuda:-1", "cuda:1.0"])
def test_garbage_is_refused(name):
    with pytest.raises(DeviceError) as err:
        resolve_device(name)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["tpu", "gpu", "cpu:0"])
def test_unknown_device_lists_the_choices(name):
    with pytest.raises(DeviceError, match=rf"unknown device '{name}'; choose auto, cpu, cuda, cuda:N or mps"):
        resolve_device(name)


def test_device_error_is_a_usage_error_with_exit_code_2():
    with pytest.raises(UsageError) as err:
        resolve_device("tpu")
    assert isinstance(err.value, DeviceError)
    assert err.value.exit_code == 2


def test_available_devices_ends_with_cpu():
    found = available_devices()
    assert found
    assert all(isinstance(d, DeviceInfo) for d in found)
    assert found[-1] == DeviceInfo("cpu", "cpu")
    assert [d.name for d in found].count("cpu") == 1
    for d in found:  # every listed device is one resolve_device accepts
        assert resolve_device(d.name).type == d.name.partition(":")[0]


def test_available_devices_lists_each_cuda_gpu():
    names = [d.name for d in available_devices()]
    expected = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if HAS_CUDA else []
    assert [n for n in names if n.startswith("cuda")] == expected


# --------------------------------------------------------------------------------------------- simulated


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(
        torch.cuda,
        "get_device_properties",
        lambda i: SimpleNamespace(name=f"Fake GPU {i}", total_memory=(i + 1) * 16 * 2**30),
    )
    monkeypatch.setattr(devices, "_mps_available", lambda: False)


@pytest.fixture
def apple(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(devices, "_mps_available", lambda: True)


@pytest.mark.usefixtures("no_gpu")
def test_simulated_cpu_only_machine():
    assert resolve_device("auto") == torch.device("cpu")
    assert available_devices() == [DeviceInfo("cpu", "cpu")]
    for name in ("cuda", "cuda:0", "cuda:7", "mps"):
        with pytest.raises(DeviceError):
            resolve_device(name)


@pytest.mark.usefixtures("two_gpus")
def test_simulated_two_gpu_machine():
    assert resolve_device("auto") == torch.device("cuda:0")
    assert resolve_device("cuda") == torch.device("cuda:0")
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device(" Cuda:1 ") == torch.device("cuda:1")
    with pytest.raises(DeviceError, match=r"device 'cuda:2' is not available: this machine has 2 CUDA GPU"):
        resolve_device("cuda:2")
    with pytest.raises(DeviceError, match=r"device 'cuda:7' is not available"):
        resolve_device("cuda:7")
    with pytest.raises(DeviceError, match=r"'mps' is not available"):
        resolve_device("mps")
    assert available_devices() == [
        DeviceInfo("cuda:0", "cuda:0 — Fake GPU 0 (16 GB)"),
        DeviceInfo("cuda:1", "cuda:1 — Fake GPU 1 (32 GB)"),
        DeviceInfo("cpu", "cpu"),
    ]


@pytest.mark.usefixtures("apple")
def test_simulated_apple_machine():
    assert resolve_device("auto") == torch.device("mps")
    assert resolve_device("mps") == torch.device("mps")
    assert [d.name for d in available_devices()] == ["mps", "cpu"]
    with pytest.raises(DeviceError, match="no CUDA GPU found"):
        resolve_device("cuda")
