"""Fixtures for the report tests: a fixed environment (no host details on screen), and a fake token."""

from __future__ import annotations

import pytest

# A token of the Hub's shape (hf_ + 34 letters and digits); never a real one.
FAKE_TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"

FIXED_ENVIRONMENT = {
    "workbench": "0.1.0",
    "platform": "Linux-6.1-x86_64-with-glibc2.36",
    "python": {"version": "3.11.7", "implementation": "CPython", "executable": "/usr/bin/python3"},
    "cpu": {"logical_cores": 8, "physical_cores": 4, "ram_gb": 31.2},
    "libraries": {"torch": "2.13.0", "transformers": "5.24.0", "datasets": "5.2.0", "accelerate": "1.15.0"},
    "torch": {"version": "2.13.0", "cuda": "12.8", "cudnn": "91002", "accelerator": "CUDA"},
    "gpus": {
        "source": "nvml",
        "driver": "570.86.15",
        "cuda_driver": "12.8",
        "devices": [{"index": 0, "name": "NVIDIA H200", "memory_total_mb": 143771}],
    },
    "accelerate_config": {"path": "/etc/accelerate.yaml", "found": False},
    "flags": {"HF_HUB_OFFLINE": "1"},
    "hf_token": "no token",
    "paths": {"runs_dir": "/data/runs"},
    "huggingface_hub": {"Installation method": "pip", "ENDPOINT": "https://huggingface.co"},
}


@pytest.fixture
def fixed_environment() -> dict:
    import copy

    return copy.deepcopy(FIXED_ENVIRONMENT)
