"""What `workbench env` prints and every report carries: the versions, devices and settings in effect.

In the spirit of `transformers env` and `accelerate env`, and built from what those libraries
expose: huggingface_hub's `dump_environment_info`, Accelerate's default config file and its loader,
`datasets.config` for the datasets cache. Heavy libraries are imported here, inside the functions
(torch for its CUDA and cuDNN versions), so call `collect_environment` from a worker in the UI.
Nothing here reads a token's value; the token appears only as where it would come from.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import io
import os
import platform
import sys

# (import name, distribution name) of the libraries the workbench uses, in the order shown.
LIBRARIES = (
    ("torch", "torch"),
    ("transformers", "transformers"),
    ("tokenizers", "tokenizers"),
    ("datasets", "datasets"),
    ("accelerate", "accelerate"),
    ("evaluate", "evaluate"),
    ("huggingface_hub", "huggingface_hub"),
    ("safetensors", "safetensors"),
    ("numpy", "numpy"),
    ("textual", "textual"),
)
# Shown only where installed.
OPTIONAL_LIBRARIES = (
    ("peft", "peft"),
    ("gradio", "gradio"),
    ("bitsandbytes", "bitsandbytes"),
    ("pynvml", "nvidia-ml-py"),
)
# Variables that change what the libraries do; their values are shown (never a token's).
FLAG_VARIABLES = (
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_ENDPOINT",
    "HF_HOME",
    "HF_HUB_CACHE",
    "HF_DATASETS_CACHE",
    "HF_HUB_DISABLE_TELEMETRY",
    "CUDA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "TOKENIZERS_PARALLELISM",
    "PYTORCH_CUDA_ALLOC_CONF",
)
# Keys of huggingface_hub's own environment dump worth repeating in a report.
HUB_KEYS = ("Installation method", "ENDPOINT")


def library_version(module: str, distribution: str) -> str | None:
    """The version in use: the imported module's `__version__` when it is loaded, else the installed metadata."""
    loaded = sys.modules.get(module)
    version = getattr(loaded, "__version__", None) if loaded is not None else None
    if version:
        return str(version)
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:  # a source checkout on the path, with no metadata
        return str(importlib.import_module(module).__version__)
    except (ImportError, AttributeError):
        return None


def torch_info() -> dict:
    try:
        import torch
    except ImportError as error:
        return {"version": None, "error": str(error)}
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    mps = getattr(torch.backends, "mps", None)
    if torch.cuda.is_available():
        accelerator = "CUDA"
    elif mps is not None and mps.is_available():
        accelerator = "MPS"
    else:
        accelerator = "CPU only"
    return {
        "version": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": str(cudnn) if cudnn else None,
        "cuda_available": torch.cuda.is_available(),
        "accelerator": accelerator,
        "threads": torch.get_num_threads(),
    }


def gpu_info() -> dict:
    """GPUs with driver and memory: NVML when it answers, torch.cuda otherwise."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as error:  # no library, no driver, no device: say why, then try torch
        nvml_problem = f"{type(error).__name__}: {error}"
    else:
        try:
            cuda_driver = pynvml.nvmlSystemGetCudaDriverVersion()
            devices = []
            for index in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                devices.append(
                    {
                        "index": index,
                        "name": _text(pynvml.nvmlDeviceGetName(handle)),
                        "memory_total_mb": round(pynvml.nvmlDeviceGetMemoryInfo(handle).total / 2**20),
                    }
                )
            return {
                "source": "nvml",
                "driver": _text(pynvml.nvmlSystemGetDriverVersion()),
                "cuda_driver": f"{cuda_driver // 1000}.{cuda_driver % 1000 // 10}",
                "devices": devices,
            }
        finally:
            pynvml.nvmlShutdown()
    try:
        import torch
    except ImportError:
        return {"source": None, "devices": [], "note": nvml_problem}
    if not torch.cuda.is_available():
        return {"source": None, "devices": [], "note": f"no CUDA device ({nvml_problem})"}
    devices = [
        {
            "index": index,
            "name": torch.cuda.get_device_name(index),
            "memory_total_mb": round(torch.cuda.get_device_properties(index).total_memory / 2**20),
        }
        for index in range(torch.cuda.device_count())
    ]
    return {"source": "torch", "driver": None, "devices": devices, "note": nvml_problem}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def accelerate_config(path: str | None = None) -> dict:
    """Accelerate's default config file (or `path`) and what it sets, as `accelerate env` reads it."""
    try:
        from accelerate.commands.config.config_args import default_config_file, load_config_from_file
    except ImportError as error:
        return {"path": path, "found": False, "error": str(error)}
    path = path or default_config_file
    if not os.path.isfile(path):
        return {"path": path, "found": False}
    try:
        return {"path": path, "found": True, "values": load_config_from_file(path).to_dict()}
    except Exception as error:  # a broken file is part of the answer, not a crash
        return {"path": path, "found": True, "error": f"{type(error).__name__}: {error}"}


def hub_environment() -> dict:
    """huggingface_hub's own dump (printed by it; captured here), or why it is missing."""
    try:
        import huggingface_hub

        with contextlib.redirect_stdout(io.StringIO()):
            return dict(huggingface_hub.dump_environment_info())
    except Exception as error:  # old or broken huggingface_hub: the rest of the report still stands
        return {"error": f"{type(error).__name__}: {error}"}


def workbench_paths() -> dict:
    from workbench.core import paths
    from workbench.core.settings import load_settings

    found = {
        "config_file": str(paths.config_file()),
        "data_dir": str(paths.data_dir()),
        "runs_dir": str(load_settings().runs_path),
    }
    try:
        from huggingface_hub import constants

        found["hf_home"] = constants.HF_HOME
        found["hub_cache"] = constants.HF_HUB_CACHE
    except ImportError:
        pass
    try:
        from datasets import config as datasets_config

        found["datasets_cache"] = str(datasets_config.HF_DATASETS_CACHE)
    except ImportError:
        pass
    return found


def token_source() -> str:
    """Where a Hub token would come from (a label; the value never leaves `find_token`)."""
    try:
        from workbench.core.hub.token import find_token

        return find_token().label
    except ImportError:
        return "unknown (huggingface_hub missing)"


def collect_environment() -> dict:
    """Everything `workbench env --json` prints. Takes a few seconds on a cold start (imports torch)."""
    import psutil

    import workbench

    libraries = {module: library_version(module, dist) for module, dist in LIBRARIES}
    for module, dist in OPTIONAL_LIBRARIES:
        version = library_version(module, dist)
        if version:
            libraries[module] = version
    return {
        "workbench": workbench.__version__,
        "platform": platform.platform(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "cpu": {
            "logical_cores": os.cpu_count(),
            "physical_cores": psutil.cpu_count(logical=False),
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "libraries": libraries,
        "torch": torch_info(),
        "gpus": gpu_info(),
        "accelerate_config": accelerate_config(),
        "flags": {name: os.environ.get(name) for name in FLAG_VARIABLES if os.environ.get(name) is not None},
        "hf_token": token_source(),
        "paths": workbench_paths(),
        "huggingface_hub": hub_environment(),
    }


def format_environment(env: dict) -> str:
    """The environment as a Markdown list, the way `transformers env` prints it for an issue."""
    lines = [
        f"- workbench: {env['workbench']}",
        f"- Platform: {env['platform']}",
        f"- Python: {env['python']['version']} ({env['python']['implementation']})",
    ]
    torch = env.get("torch", {})
    for module, version in env["libraries"].items():
        shown = version or "not installed"
        if module == "torch" and version:
            cuda = torch.get("cuda") or "none"
            shown += f" (CUDA {cuda}, cuDNN {torch.get('cudnn') or 'none'}, {torch.get('accelerator', '?')})"
        lines.append(f"- {module}: {shown}")
    gpus = env.get("gpus", {})
    if gpus.get("devices"):
        driver = f"driver {gpus['driver']}" if gpus.get("driver") else "driver unknown"
        if gpus.get("cuda_driver"):
            driver += f", CUDA {gpus['cuda_driver']}"
        lines.append(f"- GPUs ({driver}):")
        lines += [
            f"  - {gpu['index']}: {gpu['name']}, {gpu['memory_total_mb'] / 1024:.1f} GiB" for gpu in gpus["devices"]
        ]
    else:
        lines.append("- GPUs: none" + (f" ({gpus['note']})" if gpus.get("note") else ""))
    cpu = env.get("cpu", {})
    if cpu:
        lines.append(f"- CPU: {cpu['physical_cores']} cores ({cpu['logical_cores']} threads), {cpu['ram_gb']} GiB RAM")
    config = env.get("accelerate_config", {})
    if config.get("values"):
        lines.append(f"- Accelerate config ({config['path']}):")
        lines += [f"  - {key}: {value}" for key, value in config["values"].items()]
    elif config.get("error"):
        lines.append(f"- Accelerate config ({config.get('path')}): unreadable: {config['error']}")
    else:
        lines.append(f"- Accelerate config: none, the defaults (no {config.get('path') or 'default config file'})")
    flags = env.get("flags", {})
    lines.append("- Environment: " + (", ".join(f"{k}={v}" for k, v in flags.items()) or "no HF/CUDA variables set"))
    lines.append(f"- Hub token: {env.get('hf_token', 'unknown')}")
    hub = env.get("huggingface_hub", {})
    shown = [f"{key.rstrip(' ?')}: {hub[key]}" for key in HUB_KEYS if key in hub]
    if shown:
        lines.append("- huggingface_hub: " + "; ".join(shown))
    lines.append("- Paths: " + ", ".join(f"{key} {value}" for key, value in env.get("paths", {}).items()))
    return "\n".join(lines)
