"""The engine's pure parts, without a child process: sampler, guards, checkpoints, launch command, samples."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import pytest

from workbench.training import checkpoints
from workbench.training.guards import OOM_SUGGESTION, LossWatch, suggestion_for
from workbench.training.runs import child_environment, launch_command, model_short_name, new_run_id
from workbench.training.spec import default_spec

# Sampler -------------------------------------------------------------------------------------


def test_epoch_order_depends_only_on_seed_and_epoch():
    from workbench.training.sampling import EpochSampler

    sampler = EpochSampler(50, seed=42)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert sorted(first) == list(range(50)) and first != second
    again = EpochSampler(50, seed=42)
    again.set_epoch(1)
    assert list(again) == second  # a resumed run rebuilds the same order


def test_group_by_length_makes_batches_of_similar_length():
    from workbench.training.sampling import EpochSampler

    lengths = [((i * 37) % 97) + 3 for i in range(400)]
    sampler = EpochSampler(400, seed=0, lengths=lengths, batch_size=8)
    order = list(sampler)
    assert sorted(order) == list(range(400))
    assert lengths[order[0]] == max(lengths)  # the longest batch comes first: memory errors show at once

    def padding(indices):
        batches = [indices[i : i + 8] for i in range(0, len(indices), 8)]
        return sum(max(lengths[j] for j in b) * len(b) - sum(lengths[j] for j in b) for b in batches)

    assert padding(order) < padding(list(EpochSampler(400, seed=0)))


# Guards --------------------------------------------------------------------------------------


def test_loss_watch_flags_nan_inf_and_spikes():
    watch = LossWatch(spike_factor=3.0, window=5, warmup=3)
    assert watch.check(float("nan")).kind == "nan_loss"
    assert watch.check(float("inf")).kind == "inf_loss"
    for loss in (1.0, 0.9, 1.1):
        assert watch.check(loss).kind is None
    spike = watch.check(4.0)
    assert spike.kind == "loss_spike" and "4" in spike.message
    assert LossWatch(spike_factor=0).check(1e9).kind is None


def test_out_of_memory_gets_a_suggestion():
    class OutOfMemoryError(RuntimeError):
        pass

    assert suggestion_for(OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")) == OOM_SUGGESTION
    assert "per_device_train_batch_size" in OOM_SUGGESTION and "max_length" in OOM_SUGGESTION
    assert "gradient_accumulation_steps" in OOM_SUGGESTION
    assert suggestion_for(ValueError("bad")) is None


# Checkpoints ---------------------------------------------------------------------------------


def test_checkpoints_are_atomic_and_rotated(tmp_path):
    for step in (10, 20, 30):
        temporary = checkpoints.temporary_folder(tmp_path, step)
        (temporary / "model.safetensors").write_text("weights")
        checkpoints.commit(temporary, {"global_step": step})
    half_written = checkpoints.temporary_folder(tmp_path, 40)  # a crash mid-save leaves only a hidden tmp folder
    (half_written / "model.safetensors").write_text("partial")
    assert [step for step, _ in checkpoints.checkpoints(tmp_path)] == [10, 20, 30]
    removed = checkpoints.rotate(tmp_path, keep=2)
    assert [p.name for p in removed] == ["checkpoint-10"]
    assert checkpoints.latest_checkpoint(tmp_path).name == "checkpoint-30"
    assert checkpoints.read_state(checkpoints.latest_checkpoint(tmp_path)) == {"global_step": 30}
    assert checkpoints.rotate(tmp_path, keep=0) == []


# Launching -----------------------------------------------------------------------------------


def test_launch_command_on_cpu_and_on_gpus(tmp_path):
    spec = default_spec()
    cpu = launch_command(spec, tmp_path, gpus=0)
    # One process: the child itself, no launcher; the CPU threads it would have set are passed on.
    assert cpu[:5] == [sys.executable, "-m", "workbench.training.child", "--run-dir", str(tmp_path)]
    assert cpu[cpu.index("--cpu-threads") + 1].isdigit()
    one_gpu = launch_command(spec, tmp_path, resume=True, gpus=1)
    assert one_gpu == [sys.executable, "-m", "workbench.training.child", "--run-dir", str(tmp_path), "--resume"]
    spec["training"].update(num_processes=4, mixed_precision="bf16")
    gpu = launch_command(spec, tmp_path, resume=True, gpus=2)
    assert "--multi_gpu" in gpu and "--cpu" not in gpu
    assert gpu[gpu.index("--num_processes") + 1] == "2"  # no more processes than GPUs
    assert gpu[gpu.index("--mixed_precision") + 1] == "bf16"
    assert gpu[-1] == "--resume"


def test_child_can_import_workbench_without_install():
    env = child_environment()
    import workbench

    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(Path(workbench.__file__).resolve().parents[1])


def test_run_ids():
    spec = default_spec(model="/models/bert-base-uncased/")
    run_id = new_run_id(spec, now=0)
    assert run_id.split("-")[2:4] == ["bert", "base"] and len(run_id.split("-")[-1]) == 4
    assert model_short_name("embedded") == "minilm"
    assert model_short_name("org/My Model!") == "My-Model"


# GPU-only paths, checked on the CPU ----------------------------------------------------------


def test_fused_adamw_where_torch_has_the_kernel():
    from workbench.training.configure import wants_fused_adamw

    assert wants_fused_adamw({"fused_optimizer": True}, "cuda")
    assert wants_fused_adamw({"fused_optimizer": True}, "cpu")
    assert not wants_fused_adamw({"fused_optimizer": True}, "meta")
    assert not wants_fused_adamw({"fused_optimizer": False}, "cuda")


def test_no_host_sync_per_step_on_gpus_unless_skipping():
    from workbench.training.loop import guard_every_step

    assert not guard_every_step("stop", "cuda")
    assert guard_every_step("skip", "cuda")
    assert guard_every_step("stop", "cpu")


def test_torch_compile_uses_cuda_graphs_on_gpus_with_static_shapes():
    from workbench.training.configure import compile_settings

    model = default_spec()["model"]
    assert compile_settings(model, "cuda") is None  # off by default
    model["torch_compile"] = True
    assert compile_settings(model, "cuda") == {"backend": "inductor", "mode": "reduce-overhead", "dynamic": False}
    assert compile_settings(model, "cpu")["mode"] == "default"  # no CUDA graphs off CUDA
    model["compile_mode"] = "max-autotune"
    assert compile_settings(model, "cuda")["mode"] == "max-autotune"
    del model["compile_mode"]  # a spec written before the option existed
    assert compile_settings(model, "cuda")["mode"] == "reduce-overhead"


def test_compiled_runs_pad_batches_to_few_lengths():
    from workbench.training.configure import COMPILE_BUCKET, pad_multiple

    training = default_spec()["training"]
    assert pad_multiple(training, compiling=False) == 8
    assert pad_multiple(training, compiling=True) == COMPILE_BUCKET == 32
    training["pad_to_multiple_of"] = 0
    assert pad_multiple(training, compiling=False) is None
    assert pad_multiple(training, compiling=True) == 32
    training["pad_to_multiple_of"] = 64
    assert pad_multiple(training, compiling=True) == 64


def test_one_graph_for_every_length_pads_as_the_spec_says_but_never_to_the_row():
    from workbench.training.configure import pad_multiple

    training = default_spec()["training"]
    assert pad_multiple(training, compiling=True, dynamic=True) == 8
    training["pad_to_multiple_of"] = 16
    assert pad_multiple(training, compiling=True, dynamic=True) == 16
    training["pad_to_multiple_of"] = 0  # each length is a CUDA graph: a floor keeps them few
    assert pad_multiple(training, compiling=True, dynamic=True) == 8


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # importing torch._dynamo touches torch.jit
def test_a_compiled_models_weights_are_saved_under_the_plain_models_names():
    import torch

    from workbench.training.configure import without_compile_prefix

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    compiled = torch.compile(model)  # wrapping compiles nothing until called
    assert all(key.startswith("_orig_mod.") for key in compiled.state_dict())
    assert list(without_compile_prefix(compiled.state_dict())) == list(model.state_dict())
    assert list(without_compile_prefix(model.state_dict())) == list(model.state_dict())


def test_compiled_runs_may_recompile_for_each_shape(monkeypatch):
    import torch._dynamo.config as dynamo_config

    from workbench.training.configure import allow_recompiles

    name = "recompile_limit" if hasattr(dynamo_config, "recompile_limit") else "cache_size_limit"
    monkeypatch.setattr(dynamo_config, name, 8)
    allow_recompiles(64)
    assert getattr(dynamo_config, name) == 64
    allow_recompiles(16)  # never lowers it
    assert getattr(dynamo_config, name) == 64


def test_fsdp_shards_layers_but_not_the_module_around_the_embeddings():
    from transformers import BertConfig, BertForSequenceClassification

    from workbench.training.configure import fsdp_layer_classes

    model = BertForSequenceClassification(
        BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37, vocab_size=100)
    )
    assert "BertEmbeddings" in set(model._no_split_modules)
    assert fsdp_layer_classes(model) == ["BertLayer"]


def test_pinned_memory_and_workers_only_where_they_help():
    from workbench.training.configure import loader_options

    training = default_spec()["training"]
    assert loader_options(training, "cuda") == {"num_workers": 0, "pin_memory": True, "persistent_workers": False}
    assert loader_options(training, "cpu")["pin_memory"] is False
    training["dataloader_num_workers"] = 4
    assert loader_options(training, "cuda")["persistent_workers"] is True


def test_batches_reach_a_gpu_without_the_host_waiting_only_from_pinned_memory():
    from workbench.training.configure import copies_without_waiting, make_accelerator

    training = default_spec()["training"]
    assert copies_without_waiting(training, "cuda") is True
    assert copies_without_waiting(training, "cpu") is False
    training["dataloader_pin_memory"] = False
    assert copies_without_waiting(training, "cuda") is False  # a pageable copy cannot overlap anyway
    spec = default_spec()
    spec["training"]["use_cpu"] = True
    assert make_accelerator(spec).accelerator.non_blocking is False


def test_decay_groups_skip_bias_and_norms(tiny_model_dir):
    from transformers import AutoModelForSequenceClassification

    from workbench.training.configure import decay_groups

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2)
    decay, no_decay = decay_groups(model, 0.01)
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(not names[id(p)].endswith(".bias") for p in decay["params"])
    assert any("LayerNorm" in names[id(p)] for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


class FakeNvml:
    """Stands in for pynvml: two GPUs, one of them running a process of ours."""

    NVML_TEMPERATURE_GPU = 0

    class NVMLError(Exception):
        pass

    class Memory:
        used, total = 2 * 2**30, 80 * 2**30

    class Rates:
        gpu = 87

    class Process:
        def __init__(self, pid, used):
            self.pid, self.usedGpuMemory = pid, used

    def __init__(self, our_pid):
        self.our_pid = our_pid

    def nvmlDeviceGetName(self, handle):
        return b"NVIDIA H200"

    def nvmlDeviceGetMemoryInfo(self, handle):
        return self.Memory()

    def nvmlDeviceGetUtilizationRates(self, handle):
        return self.Rates()

    def nvmlDeviceGetPowerUsage(self, handle):
        if handle == 1:
            raise self.NVMLError("not supported")
        return 350_000

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 61

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        return [self.Process(self.our_pid, 1024 * 2**20), self.Process(999999, 4 * 2**30)] if handle == 0 else []


def test_system_sample_without_nvidia_driver_still_has_cpu_data():
    from workbench.training.system import GpuReader, SystemMonitor

    reader = GpuReader()  # this machine has no NVIDIA driver
    monitor = SystemMonitor(lambda sample: None, interval=1.0, gpus=reader)
    sample = monitor.sample()
    if reader.error is None:
        pytest.skip("an NVIDIA driver is present")
    assert sample.gpu_error.startswith("NVML not available") and sample.gpus == []
    assert sample.rss_mb > 10 and sample.cpu_percent >= 0 and sample.ram_total_mb > 0


def test_system_sample_reads_every_gpu_and_our_processes_memory():
    from workbench.training.system import GpuReader, SystemMonitor

    reader = GpuReader.__new__(GpuReader)
    reader.error, reader.handles, reader.nvml = None, [0, 1], FakeNvml(os.getpid())
    sample = SystemMonitor(lambda s: None, gpus=reader).sample()
    assert [gpu.index for gpu in sample.gpus] == [0, 1]
    first, second = sample.gpus
    assert first.name == "NVIDIA H200" and first.utilization == 87 and first.power_w == 350
    assert first.memory_total_mb == 80 * 1024 and first.process_memory_mb == 1024  # not the other process's 4 GiB
    assert second.power_w is None and second.process_memory_mb is None
    assert sample.gpu_error is None


def test_the_run_root_is_the_launcher_the_run_folder_names(tmp_path):
    """Every rank's processes count, even when the elastic agent put each rank in its own session."""
    import psutil

    from workbench.training.system import run_root_process

    ancestors = psutil.Process().parents()
    launcher = ancestors[1] if len(ancestors) > 1 else ancestors[0]
    (tmp_path / "pid").write_text(str(launcher.pid), encoding="utf-8")
    assert run_root_process(tmp_path).pid == launcher.pid
    (tmp_path / "pid").write_text("4194999", encoding="utf-8")  # not an ancestor: the old rules
    assert run_root_process(tmp_path).pid in (os.getpid(), os.getppid())
    (tmp_path / "pid").write_text("not a pid", encoding="utf-8")
    assert run_root_process(tmp_path).pid in (os.getpid(), os.getppid())
    assert run_root_process(None).pid in (os.getpid(), os.getppid())


def test_system_monitor_thread_emits_samples():
    from workbench.training.system import SystemMonitor

    samples = []
    monitor = SystemMonitor(samples.append, interval=0.05)
    monitor.start()
    try:
        deadline = time.monotonic() + 5
        while len(samples) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        monitor.stop()
    assert len(samples) >= 2 and all(math.isfinite(s.rss_mb) for s in samples)


def test_resumed_epoch_sees_exactly_the_batches_not_yet_seen():
    """The data position: rebuild the epoch's order, skip the batches already trained on."""
    import torch
    from accelerate import Accelerator
    from torch.utils.data import DataLoader

    from workbench.training.sampling import EpochSampler

    accelerator = Accelerator(cpu=True)
    data = list(range(100))

    def loader():
        sampler = EpochSampler(len(data), seed=42)
        sampler.set_epoch(2)
        return sampler, accelerator.prepare(DataLoader(data, batch_size=8, sampler=sampler))

    _, full = loader()
    whole_epoch = [batch.tolist() for batch in full]
    _, fresh = loader()  # a new process after a resume
    resumed = [batch.tolist() for batch in accelerator.skip_first_batches(fresh, 5)]
    assert resumed == whole_epoch[5:]
    assert torch.tensor(sum(whole_epoch, [])).sort().values.tolist() == data


def test_cpu_threads_follow_omp_num_threads_then_the_cores_this_process_may_use(monkeypatch):
    import psutil

    from workbench.training.runs import cpu_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert cpu_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: 16 if logical else 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert cpu_threads() == 2, "pinned to two cores of an 8-core machine: two threads, not eight"
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert cpu_threads() == 8


def test_a_spec_built_in_code_keeps_relative_paths_working_from_the_run_folder(tmp_path, monkeypatch):
    from workbench.training.runs import prepare_spec

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("text,label\nhello,0\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    spec = default_spec(data="data/train.csv")
    spec["data"].update(text_column="text", label_column="label")
    full = prepare_spec(spec)
    assert full["data"]["train_file"] == str((tmp_path / "data" / "train.csv").resolve())
    assert spec["data"]["train_file"] == "data/train.csv", "the caller's spec is not changed"


def test_a_rotation_killed_half_way_leaves_a_name_the_next_start_cleans(tmp_path, monkeypatch):
    import shutil

    for step in (10, 20, 30):
        checkpoints.commit(checkpoints.temporary_folder(tmp_path, step), {"global_step": step})
        (tmp_path / "checkpoints" / f"checkpoint-{step}" / "model.safetensors").write_text("weights")
    old_style = tmp_path / "checkpoints" / "checkpoint-5"  # half-deleted before the rename step existed
    old_style.mkdir()
    (old_style / "optimizer.bin").write_text("state")

    def killed(path, ignore_errors=False):
        raise KeyboardInterrupt  # the process dies inside rmtree

    monkeypatch.setattr(shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.rotate(tmp_path, keep=2)
    monkeypatch.undo()
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == [".deleting-checkpoint-10", "checkpoint-20", "checkpoint-30", "checkpoint-5"]
    assert [step for step, _ in checkpoints.checkpoints(tmp_path)] == [20, 30]
    removed = checkpoints.clean_leftovers(tmp_path)
    assert sorted(p.name for p in removed) == [".deleting-checkpoint-10", "checkpoint-5"]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["checkpoint-20", "checkpoint-30"]


def test_disk_full_is_recognised_through_torchs_wrapping():
    import errno

    from workbench.training.guards import DISK_FULL_SUGGESTION, disk_full_message, is_disk_full

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed") from inner
    except RuntimeError as wrapped:
        assert is_disk_full(wrapped) and suggestion_for(wrapped) == DISK_FULL_SUGGESTION
    assert not is_disk_full(ValueError("bad"))
    assert disk_full_message(Path("/")).startswith("No space left on device: ") and "free on the disk of /" in (
        disk_full_message(Path("/"))
    )


# Evaluation loss ------------------------------------------------------------------------------


def test_eval_loss_is_the_mean_over_examples_whatever_the_batch_size(tiny_model_dir):
    """Each batch's mean loss is weighted by its rows (as Trainer does), so a short last batch does not
    count as much as a full one: 10 examples in batches of 4 (4, 4, 2) give the loss of one batch of 10."""
    import torch
    from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, PreTrainedTokenizerFast

    from workbench.training.evaluate_model import run_batches
    from workbench.training.loop import batch_rows

    class MeanOnly:
        def add(self, batch, outputs, model):
            pass

        def finish(self, eval_loss):
            return type("Result", (), {"metrics": {}})()

    tokenizer = PreTrainedTokenizerFast.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    texts = [("good " * (1 + row % 5)).strip() if row % 2 else ("bad " * (1 + row % 3)).strip() for row in range(10)]
    rows = [dict(tokenizer(text), labels=row % 2) for row, text in enumerate(texts)]
    collator = DataCollatorWithPadding(tokenizer)
    losses = {}
    for size in (4, 10):
        _, metrics = run_batches(model, rows, collator, MeanOnly(), batch_size=size, device="cpu")
        losses[size] = metrics["eval_loss"]
    with torch.no_grad():
        each = [model(**collator([row])).loss.item() for row in rows]
    assert losses[4] == pytest.approx(sum(each) / len(each), abs=1e-5)
    assert losses[10] == pytest.approx(losses[4], abs=1e-5)
    assert batch_rows({"input_ids": torch.zeros(3, 7), "labels": torch.zeros(3)}) == 3


def test_one_graph_for_every_length_sets_the_inductor_options_this_torch_has():
    from types import SimpleNamespace

    from workbench.training.configure import keep_one_graph_for_every_length

    current = SimpleNamespace(triton=SimpleNamespace(mix_order_reduction_non_strict_mode=False))
    assert keep_one_graph_for_every_length(current) is True
    assert current.triton.mix_order_reduction_non_strict_mode is True
    older = SimpleNamespace(triton=SimpleNamespace())  # a torch without the option (nor its guard)
    assert keep_one_graph_for_every_length(older) is False
    assert not hasattr(older.triton, "mix_order_reduction_non_strict_mode")
