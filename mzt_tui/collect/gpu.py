"""GPU sampling through NVML (nvidia-ml-py, imported as `pynvml`), `nvidia-smi` as fallback.

NVML is initialised once and device handles are cached. Every call that can fail is guarded:
without NVML (no driver, no library, no GPU) the sampler returns an empty list and keeps a
`reason` the UI can show. It never raises into the tick loop.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from mzt_tui.models import GpuMetric, GpuProcessUsage

_MIB = 1024 * 1024
_SMI_TIMEOUT_SECONDS = 5.0
_SMI_GPU_FIELDS = (
    "index,uuid,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"
)
_SMI_APP_FIELDS = "gpu_uuid,pid,used_memory"

SmiRunner = Callable[[list[str]], str]


def _clamp_percent(value: float) -> float:
    return min(max(value, 0.0), 100.0)


def _non_negative(value: float | None) -> float:
    return value if value is not None and value >= 0 else 0.0


def _run_nvidia_smi(args: list[str]) -> str:
    binary = shutil.which("nvidia-smi")
    if binary is None:
        raise FileNotFoundError("nvidia-smi not found")
    completed = subprocess.run(
        [binary, *args],
        capture_output=True,
        text=True,
        timeout=_SMI_TIMEOUT_SECONDS,
        check=True,
    )
    return completed.stdout


def _load_pynvml() -> ModuleType | None:
    try:
        return importlib.import_module("pynvml")
    except ImportError:
        return None


@dataclass
class GpuSampler:
    """Samples every GPU once per tick.

    Args:
        nvml: The `pynvml` module (tests pass a fake); None loads the real one.
        smi_runner: Runs `nvidia-smi` with arguments and returns stdout (tests pass a fake).
        use_smi_fallback: Whether to try `nvidia-smi` when NVML cannot be used.
    """

    nvml: ModuleType | None = None
    smi_runner: SmiRunner = _run_nvidia_smi
    use_smi_fallback: bool = True
    reason: str | None = None
    """Why there are no GPUs to show, or None while sampling works."""
    _handles: list[Any] = field(default_factory=list)
    _initialised: bool = False
    _backend: str = "none"
    _last_process_sample_us: int = 0

    @property
    def backend(self) -> str:
        """`nvml`, `nvidia-smi` or `none`."""
        self._ensure_started()
        return self._backend

    def _ensure_started(self) -> None:
        if self._initialised:
            return
        self._initialised = True
        nvml = self.nvml if self.nvml is not None else _load_pynvml()
        if nvml is None:
            self.reason = "nvidia-ml-py is not installed"
        else:
            self.nvml = nvml
            try:
                nvml.nvmlInit()
                count = int(nvml.nvmlDeviceGetCount())
                self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            except Exception as error:
                self.reason = f"NVML unavailable: {_describe(error)}"
            else:
                self._backend = "nvml"
                self.reason = None if count else "NVML found no GPU"
                return
        if self.use_smi_fallback:
            try:
                self.smi_runner(["--query-gpu=index", "--format=csv,noheader"])
            except Exception as error:
                self.reason = f"{self.reason}; nvidia-smi: {_describe(error)}"
            else:
                self._backend = "nvidia-smi"
                self.reason = None

    def sample(self) -> list[GpuMetric]:
        """Return one metric per GPU, or an empty list (see `reason`)."""
        self._ensure_started()
        try:
            if self._backend == "nvml":
                return self._sample_nvml()
            if self._backend == "nvidia-smi":
                return self._sample_smi()
        except Exception as error:
            self.reason = f"GPU sampling failed: {_describe(error)}"
        return []

    def close(self) -> None:
        """Shut NVML down if this sampler started it."""
        if self._backend == "nvml" and self.nvml is not None:
            _guard(self.nvml.nvmlShutdown)
        self._backend = "none"
        self._handles = []

    def _sample_nvml(self) -> list[GpuMetric]:
        nvml = self.nvml
        assert nvml is not None
        since_us = self._last_process_sample_us
        self._last_process_sample_us = int(time.time() * 1_000_000)
        metrics: list[GpuMetric] = []
        for index, handle in enumerate(self._handles):
            rates = _guard(nvml.nvmlDeviceGetUtilizationRates, handle)
            utilization = float(rates.gpu) if rates is not None else None
            memory = _guard(nvml.nvmlDeviceGetMemoryInfo, handle)
            temperature = _guard(
                nvml.nvmlDeviceGetTemperature, handle, getattr(nvml, "NVML_TEMPERATURE_GPU", 0)
            )
            power_mw = _guard(nvml.nvmlDeviceGetPowerUsage, handle)
            name = _guard(nvml.nvmlDeviceGetName, handle)
            metrics.append(
                GpuMetric(
                    index=index,
                    utilization_pct=_clamp_percent(utilization or 0.0),
                    memory_used_mb=_non_negative(memory.used / _MIB if memory else None),
                    memory_total_mb=_non_negative(memory.total / _MIB if memory else None),
                    temperature_c=_non_negative(temperature),
                    power_w=power_mw / 1000.0 if power_mw is not None and power_mw >= 0 else None,
                    name=name.decode() if isinstance(name, bytes) else str(name or ""),
                    processes=self._nvml_processes(index, handle, since_us),
                )
            )
        return metrics

    def _nvml_processes(
        self, index: int, handle: Any, since_us: int
    ) -> tuple[GpuProcessUsage, ...]:
        nvml = self.nvml
        assert nvml is not None
        memory_by_pid: dict[int, float] = {}
        for getter in (
            "nvmlDeviceGetComputeRunningProcesses",
            "nvmlDeviceGetGraphicsRunningProcesses",
        ):
            running = _guard(getattr(nvml, getter), handle) or []
            for process in running:
                used = getattr(process, "usedGpuMemory", None)
                # NVML reports None (or a huge sentinel) when the driver hides per-process use.
                used_mb = used / _MIB if isinstance(used, int) and 0 <= used < 2**63 else 0.0
                pid = int(process.pid)
                memory_by_pid[pid] = memory_by_pid.get(pid, 0.0) + used_mb
        utilization_by_pid: dict[int, float] = {}
        samples = _guard(nvml.nvmlDeviceGetProcessUtilization, handle, since_us) or []
        for sample in samples:
            utilization_by_pid[int(sample.pid)] = _clamp_percent(float(sample.smUtil))
        return tuple(
            GpuProcessUsage(
                gpu_index=index,
                pid=pid,
                memory_used_mb=memory_mb,
                utilization_pct=utilization_by_pid.get(pid),
            )
            for pid, memory_mb in sorted(memory_by_pid.items())
        )

    def _sample_smi(self) -> list[GpuMetric]:
        gpu_lines = self.smi_runner(
            [f"--query-gpu={_SMI_GPU_FIELDS}", "--format=csv,noheader,nounits"]
        ).splitlines()
        processes_by_uuid: dict[str, list[tuple[int, float]]] = {}
        try:
            app_lines = self.smi_runner(
                [f"--query-compute-apps={_SMI_APP_FIELDS}", "--format=csv,noheader,nounits"]
            ).splitlines()
        except Exception:
            app_lines = []
        for line in app_lines:
            parts = [part.strip() for part in line.split(",")]
            if len(parts) == 3 and parts[1].isdigit():
                processes_by_uuid.setdefault(parts[0], []).append(
                    (int(parts[1]), _parse_number(parts[2]) or 0.0)
                )
        metrics: list[GpuMetric] = []
        for line in gpu_lines:
            parts = [part.strip() for part in line.split(",")]
            if len(parts) != 8 or not parts[0].isdigit():
                continue
            index = int(parts[0])
            power = _parse_number(parts[7])
            metrics.append(
                GpuMetric(
                    index=index,
                    name=parts[2],
                    utilization_pct=_clamp_percent(_parse_number(parts[3]) or 0.0),
                    memory_used_mb=_non_negative(_parse_number(parts[4])),
                    memory_total_mb=_non_negative(_parse_number(parts[5])),
                    temperature_c=_non_negative(_parse_number(parts[6])),
                    power_w=power if power is not None and power >= 0 else None,
                    processes=tuple(
                        GpuProcessUsage(gpu_index=index, pid=pid, memory_used_mb=memory_mb)
                        for pid, memory_mb in processes_by_uuid.get(parts[1], [])
                    ),
                )
            )
        return metrics


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # "[N/A]", "[Not Supported]"


def _guard(query: Callable[..., Any], *args: Any) -> Any:
    """Run one NVML query; a query the device does not support yields None."""
    try:
        return query(*args)
    except Exception:
        return None


def _describe(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
