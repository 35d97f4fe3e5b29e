"""System samples for a run: CPU and memory of its processes (psutil), every GPU (nvidia-ml-py).

The run's processes are the launcher and everything under it. Without an NVIDIA driver
`nvmlInit` raises; the sample then says why in `gpu_error` and still carries the CPU data.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import psutil

from workbench.core.runs.protocol import GpuSample, SystemSample, read_pid


def run_root_process(run_dir: Path | None = None) -> psutil.Process:
    """The process at the top of the run: the one the run folder's `pid` file names (`accelerate
    launch`) when it is an ancestor of this one, so every rank's memory and CPU count; else the
    launcher when it shares this process group; else this process.

    (Under torch's elastic agent each rank can be in a session of its own: on two H200s the
    process-group test missed the second rank, whose GPU memory then read as 0.)"""
    me = psutil.Process()
    launched = read_pid(run_dir) if run_dir is not None else None
    if launched:
        try:
            for ancestor in me.parents():
                if ancestor.pid == launched:
                    return ancestor
        except psutil.Error:
            pass
    parent = me.parent()
    try:
        if parent is not None and os.getpgid(parent.pid) == os.getpgid(0) and parent.pid != 1:
            return parent
    except (ProcessLookupError, psutil.Error):
        pass
    return me


class GpuReader:
    """Reads every GPU through NVML; `error` says why there are none."""

    def __init__(self) -> None:
        self.error: str | None = None
        self.handles: list = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self.nvml = pynvml
            self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except Exception as error:  # NVMLError_LibraryNotFound, DriverNotLoaded, ImportError: all mean "no GPU data"
            self.error = f"NVML not available: {error or type(error).__name__}"

    def read(self, pids: set[int]) -> list[GpuSample]:
        samples = []
        for index, handle in enumerate(self.handles):
            samples.append(self._read_one(index, handle, pids))
        return samples

    def _read_one(self, index: int, handle, pids: set[int]) -> GpuSample:
        nvml = self.nvml

        def attempt(function, default=None):
            try:
                return function()
            except nvml.NVMLError:
                return default

        name = attempt(lambda: nvml.nvmlDeviceGetName(handle), f"GPU {index}")
        memory = attempt(lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
        utilization = attempt(lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
        power = attempt(lambda: nvml.nvmlDeviceGetPowerUsage(handle))
        temperature = attempt(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        processes = attempt(lambda: nvml.nvmlDeviceGetComputeRunningProcesses(handle), []) or []
        ours = [p.usedGpuMemory for p in processes if p.pid in pids and p.usedGpuMemory is not None]
        return GpuSample(
            index=index,
            name=name.decode() if isinstance(name, bytes) else str(name),
            utilization=float(utilization.gpu) if utilization is not None else None,
            memory_used_mb=memory.used / 2**20 if memory is not None else None,
            memory_total_mb=memory.total / 2**20 if memory is not None else None,
            power_w=power / 1000 if power is not None else None,
            temperature_c=float(temperature) if temperature is not None else None,
            process_memory_mb=sum(ours) / 2**20 if processes else None,
        )


class SystemMonitor:
    """Takes samples of the run's processes; `start()` runs it every `interval` seconds in a thread."""

    def __init__(
        self,
        emit: Callable[[SystemSample], None],
        interval: float = 2.0,
        root: psutil.Process | None = None,
        gpus: GpuReader | None = None,
    ) -> None:
        self.emit = emit
        self.interval = interval
        self.root = root or run_root_process()
        self.gpus = gpus or GpuReader()
        self._processes: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def processes(self) -> list[psutil.Process]:
        """The root and its descendants, reusing Process objects so cpu_percent has a baseline."""
        try:
            current = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            current = [psutil.Process()]
        known = {}
        for process in current:
            known[process.pid] = self._processes.get(process.pid, process)
        self._processes = known
        return list(known.values())

    def sample(self) -> SystemSample:
        cpu, rss = 0.0, 0.0
        pids = set()
        for process in self.processes():
            try:
                with process.oneshot():
                    cpu += process.cpu_percent(None)
                    rss += process.memory_info().rss
                pids.add(process.pid)
            except psutil.Error:
                continue  # it ended between listing and reading
        memory = psutil.virtual_memory()
        return SystemSample(
            cpu_percent=cpu,
            rss_mb=rss / 2**20,
            ram_used_mb=(memory.total - memory.available) / 2**20,
            ram_total_mb=memory.total / 2**20,
            gpus=self.gpus.read(pids),
            gpu_error=self.gpus.error,
        )

    def start(self) -> None:
        if self.interval <= 0:
            return
        self.processes()  # the cpu_percent baseline
        for process in self._processes.values():
            try:
                process.cpu_percent(None)
            except psutil.Error:
                pass
        self._thread = threading.Thread(target=self._run, name="system-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # One sample at once (memory and GPUs are known before the first interval), then every interval.
        while True:
            try:
                self.emit(self.sample())
            except Exception as error:  # a sampler problem must never stop training; say it once and quit
                print(f"workbench: system sampling stopped: {error}", flush=True)
                return
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def start_run_monitor(events, run_dir: Path, interval: float, accelerator) -> SystemMonitor | None:
    """The run's sampler, started in the local main process of each machine (one per node); stopped with
    the events (`add_background`). On one machine it writes to events.jsonl as it always did; on several
    each sample is tagged with its host and node rank (see `workbench.training.nodes`)."""
    if interval <= 0 or not accelerator.is_local_main_process:
        return None
    emit = events.emit
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "0") or 0) or accelerator.num_processes
    if accelerator.num_processes > local:  # several machines
        from workbench.training.nodes import NodeSamples, node_rank

        emit = NodeSamples(run_dir, node_rank(), events.emit, interval, machines=accelerator.num_processes // local)
        events.add_background(emit)
    monitor = SystemMonitor(emit, interval, root=run_root_process(run_dir))
    events.add_background(monitor)  # stopped and joined before the final event (after the node file)
    monitor.start()
    return monitor
