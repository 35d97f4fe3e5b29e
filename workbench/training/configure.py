"""Setting a run up: the Accelerator, the tokenizer and data, the model and its head, the optimizer,
the scheduler and the data loaders, all prepared by Accelerate.

`make_accelerator` comes first (it says which process is the main one, so the child can open its
event sink); `build` then makes everything else and returns a complete `Setup`, so the loop never
probes for half-built objects.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from workbench.training.event_sink import RunEvents

# Devices with a fused AdamW kernel in torch. On the CPU the fused step is about ten times
# quicker than the default for-each one (22 M parameters: ~24 ms against ~240 ms), and it is
# what Trainer picks by default since torch 2.8.
FUSED_ADAMW_DEVICES = ("cuda", "cpu", "xpu", "mps")

# With torch.compile, batches are padded to a multiple of this (at least): at max_length 128 that
# is 4 sequence lengths, each compiled once, instead of one compile per multiple of 8.
COMPILE_BUCKET = 32
# With model.compile_dynamic, one graph serves every length: batches are padded to a multiple of
# training.pad_to_multiple_of, at least this (tensor cores want multiples of 8, and each length is a
# CUDA graph recorded of its own).
DYNAMIC_MULTIPLE = 8

COMPILED_PREFIX = "_orig_mod."


def resolve_model(name: str) -> str:
    from workbench.training.spec import EMBEDDED_MODEL

    if name == EMBEDDED_MODEL:
        from workbench.core.embedded import embedded_model_path

        return str(embedded_model_path())
    return name


def decay_groups(model, weight_decay: float) -> list[dict]:
    """No weight decay on biases and normalization weights (as Trainer does)."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if parameter.ndim < 2 or "norm" in name.lower() or name.endswith(".bias"):
            no_decay.append(parameter)
        else:
            decay.append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def wants_fused_adamw(training: dict, device_type: str) -> bool:
    return bool(training.get("fused_optimizer", True)) and device_type in FUSED_ADAMW_DEVICES


def compile_settings(model_spec: dict, device_type: str, dynamic: bool = False) -> dict | None:
    """Accelerate's TorchDynamoPlugin arguments for this spec, or None when not compiling.

    Static shapes: with the padding buckets there are a handful, and CUDA graphs ("reduce-overhead",
    the default) need one graph per shape anyway. On an H200, a BERT-base step at 128x64 went from
    44.9 ms eager and 30.4 ms compiled to 15.8 ms with CUDA graphs (benchmarks/gpu_profile.py): the
    step is bound by the host launching kernels, and a graph replay launches them all at once.
    """
    if not model_spec.get("torch_compile"):
        return None
    mode = model_spec.get("compile_mode") or "reduce-overhead"
    if mode == "reduce-overhead" and device_type != "cuda":
        mode = "default"  # CUDA graphs exist only on CUDA devices
    # dynamic (`compiles_dynamic`): None lets dynamo make the dimensions `mark_sequence_dynamic` marks symbolic.
    return {"backend": "inductor", "mode": mode, "dynamic": None if dynamic else False}


def compiles_dynamic(spec: dict) -> bool:
    """One graph for every sequence length (`model.compile_dynamic`, on by default): on an H200 a
    BERT-base job's warm start went from 26.5 s to 12.3 s before the first step and its steady rate
    up by 8% (benchmarks/RESULTS.md). Language models train on blocks of one length: static there."""
    model = spec.get("model") or {}
    fixed_length = model.get("head") in ("masked-lm", "causal-lm")
    return bool(model.get("torch_compile") and model.get("compile_dynamic") and not fixed_length)


def mark_sequence_dynamic(batch: dict) -> None:
    """Mark the sequence dimension of a batch's tensors as dynamic (before the compiled model's call),
    so the first compile is already the one graph for every length: without it, dynamo compiles the
    first length statically and only the second one dynamically (a second compile of the model)."""
    from torch._dynamo import maybe_mark_dynamic

    for value in batch.values():
        if getattr(value, "ndim", 0) >= 2:
            maybe_mark_dynamic(value, 1)


def pad_multiple(training: dict, compiling: bool, dynamic: bool = False) -> int | None:
    """What DataCollatorWithPadding pads each batch to a multiple of (None: the longest row)."""
    multiple = training["pad_to_multiple_of"]
    if compiling:
        multiple = max(multiple, DYNAMIC_MULTIPLE if dynamic else COMPILE_BUCKET)
    return multiple or None


def auto_buckets(length: int | None) -> list[int]:
    """The padding lengths of a compiled run: 32, 64, 96, 128, then 192, 256, 384, 512, ... (about
    1.5x apart) up to `length` (the longest sequence, always a bucket of its own)."""
    buckets, size = [], 32
    while length is None or size < length:
        buckets.append(size)
        if length is None and size >= 128:
            break
        size = size + 32 if size < 128 else (size * 3 // 2 if (size & (size - 1)) == 0 else size * 4 // 3)
    return buckets + ([length] if length else [])


def pad_buckets(spec: dict, compiling: bool) -> list[int]:
    """The lengths batches are padded up to (`data.pad_to_buckets`), or [] to pad to the longest row
    (a multiple of `training.pad_to_multiple_of`).

    An explicit list always applies; the default ([]) means `auto_buckets` when compiling, since with
    static shapes each distinct batch length is a graph of its own (a compile of up to a minute, and
    one more CUDA graph's memory). The longest sequence (`data.max_length`, a language model's block)
    is always the last bucket, and no bucket goes past it."""
    from workbench.training.spec import sequence_length

    length = sequence_length(spec)
    asked = sorted(set((spec.get("data") or {}).get("pad_to_buckets") or []))
    if not asked:
        return auto_buckets(length) if compiling and not compiles_dynamic(spec) else []
    if not length:
        return asked
    return [size for size in asked if size < length] + [length]


class BucketCollator:
    """Pads each batch up to the smallest bucket that holds its longest row: one task collator per
    bucket, each padding to a multiple of its bucket (a batch no longer than the bucket gets exactly
    its length; a longer one, which truncation prevents, a multiple of the last bucket)."""

    def __init__(self, buckets: list[int], make_collator) -> None:
        self.buckets = list(buckets)
        self.collators = {size: make_collator(size) for size in self.buckets}

    def bucket_for(self, longest: int) -> int:
        return next((size for size in self.buckets if size >= longest), self.buckets[-1])

    def __call__(self, features):
        lengths = [len(feature["input_ids"]) for feature in features if "input_ids" in feature]
        size = self.bucket_for(max(lengths)) if lengths else self.buckets[-1]
        return self.collators[size](features)


def make_collator(task, tokenizer, spec: dict, compiling: bool, model=None):
    """The task's collator, padding to the buckets when there are any."""
    buckets = pad_buckets(spec, compiling)
    if not buckets:
        dynamic = compiles_dynamic(spec)
        return task.collator(tokenizer, pad_multiple(spec["training"], compiling, dynamic), model)
    return BucketCollator(buckets, lambda size: task.collator(tokenizer, size, model))


def fsdp_layer_classes(model) -> list[str]:
    """The module classes FSDP shards as units: the model's own no-split modules, less any that
    holds the input embeddings.

    Accelerate 1.15 shards the input embeddings as a unit of their own after the auto-wrap; when
    the auto-wrap already took a module around them (BERT's `BertEmbeddings`), their weights are
    sharded twice and torch 2.11 fails in `DeviceMesh._concatenate` (seen on two H200s)."""
    names = set(getattr(model, "_no_split_modules", None) or [])
    embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    if embeddings is not None:
        names -= {
            type(module).__name__ for module in model.modules() if any(sub is embeddings for sub in module.modules())
        }
    return sorted(names)


def without_compile_prefix(state_dict: dict) -> dict:
    """A compiled model's state dict as the plain model's: Accelerate keeps torch.compile's wrapper
    when unwrapping, and its keys start with `_orig_mod.`, which `from_pretrained` does not know
    (the final model of a compiled run loaded with random weights)."""
    return {key.removeprefix(COMPILED_PREFIX): value for key, value in state_dict.items()}


def allow_recompiles(limit: int) -> None:
    """Raise torch.compile's per-function recompile limit (8 by default; past it, new shapes run
    eager). The option was called cache_size_limit before torch 2.6."""
    import torch._dynamo.config as dynamo_config

    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(dynamo_config, name):
            setattr(dynamo_config, name, max(getattr(dynamo_config, name), limit))
            return


def keep_one_graph_for_every_length(inductor_config=None) -> bool:
    """Keep inductor from guarding a graph for every length on the length; True where this torch has the option.

    Inductor fuses the two reductions of a layer norm's backward ("mix-order reduction") only above a size,
    a check it turns into the guard 128*768*length >= 5 Mi, so a shorter batch later in the epoch compiled
    the whole model again: on an H200 a BERT-base run compiled twice when its batches fell below length 54
    (43 s cold, 4.6 s from a warm cache; benchmarks/gpu_recompile.py). Non-strict mode fuses at every size."""
    if inductor_config is None:
        import torch._inductor.config as inductor_config
    triton = getattr(inductor_config, "triton", None)
    if not hasattr(triton, "mix_order_reduction_non_strict_mode"):  # older torch: no such option, no such guard
        return False
    triton.mix_order_reduction_non_strict_mode = True
    return True


def copies_without_waiting(training: dict, device_type: str) -> bool:
    """Copy each batch to the GPU without the host waiting for it (Accelerate's `non_blocking`).

    A blocking copy queues behind the previous step's kernels, so the host idled until the GPU was
    done, then the GPU idled while the host prepared the next step. From pinned memory the copy can be
    queued like a kernel (torch's pinned allocator keeps the buffer until the copy is done)."""
    return device_type == "cuda" and bool(training["dataloader_pin_memory"])


def loader_options(training: dict, device_type: str) -> dict:
    """DataLoader workers and pinned memory (pinning only helps copies to a GPU)."""
    return {
        "num_workers": training["dataloader_num_workers"],
        "pin_memory": bool(training["dataloader_pin_memory"]) and device_type == "cuda",
        "persistent_workers": training["dataloader_num_workers"] > 0,
    }


@dataclass
class Hardware:
    """The Accelerator and how the model runs on it."""

    accelerator: Any
    compiling: bool
    mark_step: Any  # torch.compiler.cudagraph_mark_step_begin under CUDA graphs, else None
    mark_inputs: Any = None  # mark_sequence_dynamic with model.compile_dynamic, else None


@dataclass
class Setup:
    """Everything the loop needs, prepared by Accelerate."""

    hardware: Hardware
    model: Any
    optimizer: Any
    scheduler: Any
    tokenizer: Any
    task: Any  # core.tasks.base.Task
    prepared: Any  # core.tasks.base.Prepared
    make_evaluator: Any  # () -> core.tasks.base.Evaluator, a fresh one per evaluation
    train_loader: Any
    eval_loader: Any | None
    sampler: Any  # training.sampling.EpochSampler
    train_rows: int
    total_steps: int
    steps_per_epoch: int
    num_epochs: int
    # (block=True) -> done: the thread importing the metric libraries, joined before the first
    # evaluation and polled at every step (its error raised): evaluate's import is off the critical path.
    wait_for_metrics: Any = None


def make_accelerator(spec: dict) -> Hardware:
    import torch
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, TorchDynamoPlugin

    training = spec["training"]
    device_type = "cuda" if torch.cuda.is_available() and not training["use_cpu"] else "cpu"
    dynamic = compiles_dynamic(spec)
    compile_kwargs = compile_settings(spec["model"], device_type, dynamic=dynamic)
    compiling = compile_kwargs is not None
    # A new iteration for CUDA graphs starts at each forward (eval runs between training steps).
    mark_step = (
        getattr(torch.compiler, "cudagraph_mark_step_begin", None) if compiling and device_type == "cuda" else None
    )
    if compiling:
        allow_recompiles(64)  # each padding bucket, the last batch, train and eval: one compile each
    if compiling and dynamic:
        keep_one_graph_for_every_length()
    accelerator = Accelerator(
        mixed_precision=training["mixed_precision"],
        gradient_accumulation_steps=training["gradient_accumulation_steps"],
        cpu=training["use_cpu"],
        dataloader_config=DataLoaderConfiguration(non_blocking=copies_without_waiting(training, device_type)),
        **({"dynamo_plugin": TorchDynamoPlugin(**compile_kwargs)} if compile_kwargs else {"dynamo_backend": "no"}),
    )
    mark_inputs = mark_sequence_dynamic if compiling and dynamic else None
    return Hardware(accelerator, compiling, mark_step, mark_inputs)


def _check_evaluator(make_evaluator, box: dict) -> None:
    try:
        make_evaluator()  # imports the metric libraries (evaluate, seqeval, …) and fails early
    except Exception as error:  # re-raised in the main thread
        box["error"] = error


def build(spec: dict, hardware: Hardware, events: RunEvents, run_dir=None) -> Setup:
    """Everything the loop needs; with `run_dir`, the tokenized data goes through the runs
    directory's cache (`caches.prepare_cached`)."""
    import torch
    from accelerate.utils import set_seed
    from transformers import AutoTokenizer

    from workbench.core.tasks import get_task, lora
    from workbench.training.preflight import check_loaded
    from workbench.training.schedules import get_scheduler
    from workbench.training.spec import sequence_length

    accelerator, training = hardware.accelerator, spec["training"]
    set_seed(training["seed"])
    task = get_task(spec["model"].get("head") or "sequence-classification")
    model_path = resolve_model(spec["model"]["name_or_path"])
    events.log(f"Loading the tokenizer and data ({spec['model']['name_or_path']}, {task.name})")
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    with accelerator.main_process_first():
        if run_dir is None:
            prepared = task.prepare(task.load_raw(spec["data"]), spec, tokenizer)
        else:
            from workbench.training.caches import prepare_cached

            prepared = prepare_cached(
                spec,
                tokenizer,
                task,
                model_path,
                run_dir,
                lambda: task.prepare(task.load_raw(spec["data"]), spec, tokenizer),
                events.log,
                write=accelerator.is_local_main_process,  # each machine its own runs directory
            )
    for note in prepared.notes:
        events.log(note, level="warning")
    labels = prepared.labels

    def make_evaluator():
        return task.evaluator(prepared, spec, tokenizer, accelerator)

    # Load the metric modules (evaluate's import is slow) while the model loads and training starts;
    # the loop polls it at each step and joins it before evaluating (`Setup.wait_for_metrics`).
    metrics_box: dict = {}
    metrics_thread = None
    if prepared.validation is not None and training["eval_strategy"] != "no":
        metrics_thread = threading.Thread(target=_check_evaluator, args=(make_evaluator, metrics_box), daemon=True)
        metrics_thread.start()

    described = f"{labels.num_labels} label(s)" if labels.num_labels else task.name
    events.log(f"Loading the model: {described}{' (regression)' if labels.regression else ''}")
    if spec["model"].get("from_config") and accelerator.device.type == "cuda" and accelerator.num_processes == 1:
        # Random weights drawn on the GPU: BERT-base's 110 M parameters initialised on the CPU took
        # seconds before the first step; Accelerate's prepare then has nothing to move.
        with torch.device(accelerator.device):
            model = task.load_model(spec, model_path, labels)
    else:
        model = task.load_model(spec, model_path, labels)
    model, counts = lora.apply(model, spec, task.name)
    if lora.enabled(spec["model"].get("lora")):
        events.log(f"LoRA: {counts.describe()}")
    check_loaded(model, tokenizer, sequence_length(spec))
    collator = make_collator(task, tokenizer, spec, hardware.compiling, model)
    if isinstance(collator, BucketCollator):
        events.log(f"Padding batches to {', '.join(map(str, collator.buckets))} tokens")
    train_loader, eval_loader, sampler = make_loaders(prepared, collator, training, hardware)
    optimizer = torch.optim.AdamW(
        decay_groups(model, training["weight_decay"]),
        lr=training["learning_rate"],
        betas=(training["adam_beta1"], training["adam_beta2"]),
        eps=training["adam_epsilon"],
        fused=True if wants_fused_adamw(training, accelerator.device.type) else None,
    )
    fsdp_plugin = getattr(accelerator.state, "fsdp_plugin", None)
    if fsdp_plugin is not None and not fsdp_plugin.transformer_cls_names_to_wrap:
        fsdp_plugin.transformer_cls_names_to_wrap = fsdp_layer_classes(model)
    model, optimizer, train_loader, eval_loader = accelerator.prepare(model, optimizer, train_loader, eval_loader)
    steps_per_epoch = max(1, math.ceil(len(train_loader) / training["gradient_accumulation_steps"]))
    if training["max_steps"] > 0:
        total_steps = training["max_steps"]
    else:
        total_steps = max(1, math.ceil(training["num_train_epochs"] * steps_per_epoch))
    # Accelerate steps a prepared scheduler once per process, so it is sized for all of them.
    scheduler = get_scheduler(
        training["lr_scheduler_type"],
        optimizer=optimizer,
        num_warmup_steps=math.ceil(training["warmup_ratio"] * total_steps) * accelerator.num_processes,
        num_training_steps=total_steps * accelerator.num_processes,
    )
    scheduler = accelerator.prepare(scheduler)

    def wait_for_metrics(block: bool = True) -> bool:
        """True once the metric libraries are imported; raises their import error. With
        block=False it never waits (the loop asks at every step, training goes on meanwhile)."""
        if metrics_thread is not None:
            if not block and metrics_thread.is_alive():
                return False
            metrics_thread.join()
        if "error" in metrics_box:
            raise metrics_box.pop("error")
        return True

    return Setup(
        hardware=hardware,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        tokenizer=tokenizer,
        task=task,
        prepared=prepared,
        make_evaluator=make_evaluator,
        train_loader=train_loader,
        eval_loader=eval_loader,
        sampler=sampler,
        train_rows=len(prepared.train),
        total_steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        num_epochs=math.ceil(total_steps / steps_per_epoch),
        wait_for_metrics=wait_for_metrics,
    )


def row_lengths(dataset) -> list[int]:
    """Tokens per row, read from the Arrow list offsets (no Python list per row: 100,000 rows in
    milliseconds rather than seconds)."""
    import pyarrow.compute as pc

    return pc.list_value_length(dataset.with_format("arrow")["input_ids"]).to_pylist()


def make_loaders(prepared, collator, training: dict, hardware: Hardware):
    """The train loader, the evaluation loader (None without validation data or evaluation) and the
    train loader's `EpochSampler` (the order of epoch e depends on the seed and e only).

    Each loader has a generator of its own: a DataLoader iterator draws its base seed from the
    global RNG otherwise, and a resumed run's extra iterator (the one that skips the batches
    already seen) then shifted every dropout mask after the resume."""
    import torch
    from torch.utils.data import DataLoader

    from workbench.training.sampling import EpochSampler

    train = prepared.train
    lengths = row_lengths(train) if training["group_by_length"] else None
    sampler = EpochSampler(len(train), training["seed"], lengths, training["per_device_train_batch_size"])
    common = {"collate_fn": collator, **loader_options(training, hardware.accelerator.device.type)}
    train_loader = DataLoader(
        train,
        batch_size=training["per_device_train_batch_size"],
        sampler=sampler,
        # Compiled (CUDA graphs): a last, smaller batch is one more shape to compile (about 30 s for
        # BERT-base on an H200), for at most batch-1 rows an epoch: leave it out, as Trainer's
        # dataloader_drop_last does.
        drop_last=hardware.compiling,
        generator=torch.Generator().manual_seed(training["seed"]),
        **common,
    )
    eval_loader = None
    if prepared.validation is not None and training["eval_strategy"] != "no":
        eval_loader = DataLoader(
            prepared.validation,
            batch_size=training["per_device_eval_batch_size"],
            shuffle=False,
            generator=torch.Generator().manual_seed(training["seed"]),
            **common,
        )
    return train_loader, eval_loader, sampler
