"""GPU sampling through a fake NVML module, the nvidia-smi fallback, and real NVML."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

import pytest

from mzt_tui.collect.gpu import GpuSampler

MIB = 1024 * 1024


class FakeNvmlError(Exception):
    """Stands in for pynvml.NVMLError."""


@dataclass
class FakeDevice:
    util: int
    used_bytes: int
    total_bytes: int
    temp: int
    power_mw: int | None
    procs: list[tuple[int, int | None]]
    proc_util: list[tuple[int, int]]


def fake_nvml(devices: list[FakeDevice], *, init_fails: bool = False) -> types.ModuleType:
    module = types.ModuleType("pynvml")
    state: dict[str, Any] = {"shutdown": 0}

    def init() -> None:
        if init_fails:
            raise FakeNvmlError("Driver Not Loaded")

    def power(handle: FakeDevice) -> int:
        if handle.power_mw is None:
            raise FakeNvmlError("Not Supported")
        return handle.power_mw

    def shutdown() -> None:
        state["shutdown"] += 1

    module.NVML_TEMPERATURE_GPU = 0  # type: ignore[attr-defined]
    module.nvmlInit = init  # type: ignore[attr-defined]
    module.nvmlShutdown = shutdown  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: len(devices)  # type: ignore[attr-defined]
    module.nvmlDeviceGetHandleByIndex = lambda i: devices[i]  # type: ignore[attr-defined]
    module.nvmlDeviceGetName = lambda h: b"Fake H100"  # type: ignore[attr-defined]
    module.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=h.util)  # type: ignore[attr-defined]
    module.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(  # type: ignore[attr-defined]
        used=h.used_bytes, total=h.total_bytes
    )
    module.nvmlDeviceGetTemperature = lambda h, sensor: h.temp  # type: ignore[attr-defined]
    module.nvmlDeviceGetPowerUsage = power  # type: ignore[attr-defined]
    module.nvmlDeviceGetComputeRunningProcesses = lambda h: [  # type: ignore[attr-defined]
        types.SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in h.procs
    ]
    module.nvmlDeviceGetGraphicsRunningProcesses = lambda h: []  # type: ignore[attr-defined]
    module.nvmlDeviceGetProcessUtilization = lambda h, since: [  # type: ignore[attr-defined]
        types.SimpleNamespace(pid=pid, smUtil=util) for pid, util in h.proc_util
    ]
    module.state = state  # type: ignore[attr-defined]
    return module


def test_reads_every_device_and_its_processes() -> None:
    devices = [
        FakeDevice(37, 2048 * MIB, 81559 * MIB, 41, 250_000, [(4321, 1024 * MIB)], [(4321, 30)]),
        FakeDevice(0, 0, 81559 * MIB, 30, None, [(99, None)], []),
    ]
    sampler = GpuSampler(nvml=fake_nvml(devices), use_smi_fallback=False)

    gpus = sampler.sample()

    assert sampler.backend == "nvml"
    assert sampler.reason is None
    assert [gpu.index for gpu in gpus] == [0, 1]
    first, second = gpus
    assert first.utilization_pct == 37.0
    assert first.memory_used_mb == 2048.0
    assert first.memory_total_mb == 81559.0
    assert first.temperature_c == 41.0
    assert first.power_w == 250.0
    assert first.name == "Fake H100"
    assert [(p.pid, p.memory_used_mb, p.utilization_pct) for p in first.processes] == [
        (4321, 1024.0, 30.0)
    ]
    # A device that hides power and per-process memory still yields a metric.
    assert second.power_w is None
    assert [(p.pid, p.memory_used_mb) for p in second.processes] == [(99, 0.0)]


def test_handles_are_cached_and_init_runs_once() -> None:
    calls = {"init": 0}
    module = fake_nvml([FakeDevice(1, 0, MIB, 20, 1000, [], [])])
    original_init = module.nvmlInit

    def counting_init() -> None:
        calls["init"] += 1
        original_init()

    module.nvmlInit = counting_init  # type: ignore[attr-defined]
    sampler = GpuSampler(nvml=module, use_smi_fallback=False)
    for _ in range(3):
        assert len(sampler.sample()) == 1
    assert calls["init"] == 1
    sampler.close()
    assert module.state["shutdown"] == 1


def test_out_of_range_values_are_clamped_not_stored() -> None:
    device = FakeDevice(250, 10 * MIB, 100 * MIB, 40, 1000, [], [(7, 400)])
    device.procs = [(7, 5 * MIB)]
    gpus = GpuSampler(nvml=fake_nvml([device]), use_smi_fallback=False).sample()
    assert gpus[0].utilization_pct == 100.0
    assert gpus[0].processes[0].utilization_pct == 100.0


def test_no_nvml_gives_an_empty_list_and_a_reason() -> None:
    sampler = GpuSampler(nvml=fake_nvml([], init_fails=True), use_smi_fallback=False)
    assert sampler.sample() == []
    assert sampler.reason is not None
    assert "Driver Not Loaded" in sampler.reason


def test_nvidia_smi_fallback_parses_its_csv() -> None:
    outputs = {
        "--query-gpu=index": "0\n",
        "--query-gpu=index,uuid": "0, GPU-abc, NVIDIA A100, 55, 3000, 40960, 61, [N/A]\n",
        "--query-compute-apps": "GPU-abc, 1234, 2500\n",
    }

    def runner(args: list[str]) -> str:
        for prefix, text in sorted(outputs.items(), key=lambda item: -len(item[0])):
            if args[0].startswith(prefix):
                return text
        raise AssertionError(args)

    sampler = GpuSampler(nvml=fake_nvml([], init_fails=True), smi_runner=runner)
    gpus = sampler.sample()
    assert sampler.backend == "nvidia-smi"
    assert len(gpus) == 1
    assert gpus[0].name == "NVIDIA A100"
    assert gpus[0].utilization_pct == 55.0
    assert gpus[0].memory_total_mb == 40960.0
    assert gpus[0].power_w is None
    assert [(p.pid, p.memory_used_mb) for p in gpus[0].processes] == [(1234, 2500.0)]


def test_a_failing_fallback_keeps_both_reasons() -> None:
    def runner(args: list[str]) -> str:
        raise FileNotFoundError("nvidia-smi not found")

    sampler = GpuSampler(nvml=fake_nvml([], init_fails=True), smi_runner=runner)
    assert sampler.sample() == []
    assert sampler.reason is not None
    assert "NVML" in sampler.reason
    assert "nvidia-smi not found" in sampler.reason


@pytest.mark.gpu
def test_real_nvml_reports_sane_values() -> None:
    sampler = GpuSampler(use_smi_fallback=False)
    gpus = sampler.sample()
    if not gpus:
        pytest.skip(f"no GPU here: {sampler.reason}")
    for gpu in gpus:
        assert 0.0 <= gpu.utilization_pct <= 100.0
        assert gpu.memory_total_mb > 0.0
        assert gpu.memory_used_mb <= gpu.memory_total_mb
    sampler.close()
