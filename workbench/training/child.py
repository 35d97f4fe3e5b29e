"""The training child: `accelerate launch -m workbench.training.child --run-dir DIR [--resume]`.

The course's full training loop (AdamW, `get_scheduler`, `DataCollatorWithPadding`,
evaluation with `evaluate`) with Accelerate, writing the run folder's events as it goes.
Only the main process writes events and files. The loss stays on the device between
logging steps, so the host waits for the GPU only when it logs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import tomllib

from workbench.core.runs.protocol import (
    Alert,
    CheckpointSaved,
    Evaluation,
    Failed,
    Finished,
    RunStarted,
    Step,
)
from workbench.training import checkpoints
from workbench.training.event_sink import RunEvents
from workbench.training.guards import LossWatch, suggestion_for

# Test flag: make the loss NaN at this optimizer step (1-based), to exercise the guard.
INJECT_NAN_ENV = "WORKBENCH_DEBUG_NAN_AT_STEP"
STOP_FILE = "control/stop"


class StopRequest:
    """A stop asked for by `workbench stop` (a file in control/) or by SIGTERM/SIGINT."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / STOP_FILE
        self.signalled = False

    def install_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.signalled = True

    def requested(self) -> bool:
        return self.signalled or self.path.exists()


def versions() -> dict[str, str]:
    import accelerate
    import datasets
    import torch
    import transformers

    import workbench

    found = {
        "python": platform.python_version(),
        "workbench": workbench.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "accelerate": accelerate.__version__,
        "datasets": datasets.__version__,
    }
    if torch.version.cuda:
        found["cuda"] = torch.version.cuda
    return found


def devices(accelerator) -> list[dict]:
    import torch

    if accelerator.device.type == "cuda":
        return [
            {
                "type": "cuda",
                "index": index,
                "name": torch.cuda.get_device_name(index),
                "memory_total_mb": torch.cuda.get_device_properties(index).total_memory / 2**20,
            }
            for index in range(torch.cuda.device_count())
        ]
    return [
        {
            "type": accelerator.device.type,
            "name": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "threads": torch.get_num_threads(),
        }
    ]


def resolve_model(name: str) -> str:
    from workbench.training.spec import EMBEDDED_MODEL

    if name == EMBEDDED_MODEL:
        from workbench.core.embedded import embedded_model_path

        return str(embedded_model_path())
    return name


def head_options(labels) -> dict:
    """`from_pretrained` arguments for the head: one output for regression, else the class names.

    Passing `id2label=None` (as for regression before) leaves transformers 5's `num_labels` unset
    and the head's Linear fails with `empty(): argument 'size' ... NoneType`."""
    if labels.regression:
        return {"num_labels": 1, "problem_type": "regression"}
    id2label = {int(k): v for k, v in labels.id2label.items()}
    options = {"num_labels": labels.num_labels}
    if id2label:
        options.update(id2label=id2label, label2id={v: k for k, v in id2label.items()})
    if labels.num_labels > 1:
        options["problem_type"] = "single_label_classification"
    return options


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


# Devices with a fused AdamW kernel in torch. On the CPU the fused step is about ten times
# quicker than the default for-each one (22 M parameters: ~24 ms against ~240 ms), and it is
# what Trainer picks by default since torch 2.8.
FUSED_ADAMW_DEVICES = ("cuda", "cpu", "xpu", "mps")


def wants_fused_adamw(training: dict, device_type: str) -> bool:
    return bool(training.get("fused_optimizer", True)) and device_type in FUSED_ADAMW_DEVICES


def guard_every_step(nan_policy: str, device_type: str) -> bool:
    """Read the loss back every step? Skipping needs it; on the CPU it costs nothing; on a GPU the
    stop policy checks at logging steps only, so the host never waits for the device in between."""
    return nan_policy == "skip" or device_type == "cpu"


# With torch.compile, batches are padded to a multiple of this (at least): at max_length 128 that
# is 4 sequence lengths, each compiled once, instead of one compile per multiple of 8.
COMPILE_BUCKET = 32


def compile_settings(model_spec: dict, device_type: str) -> dict | None:
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
    return {"backend": "inductor", "mode": mode, "dynamic": False}


def pad_multiple(training: dict, compiling: bool) -> int | None:
    """What DataCollatorWithPadding pads each batch to a multiple of (None: the longest row)."""
    multiple = training["pad_to_multiple_of"]
    if compiling:
        multiple = max(multiple, COMPILE_BUCKET)
    return multiple or None


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


COMPILED_PREFIX = "_orig_mod."


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


def loader_options(training: dict, device_type: str) -> dict:
    """DataLoader workers and pinned memory (pinning only helps copies to a GPU)."""
    return {
        "num_workers": training["dataloader_num_workers"],
        "pin_memory": bool(training["dataloader_pin_memory"]) and device_type == "cuda",
        "persistent_workers": training["dataloader_num_workers"] > 0,
    }


def is_better(name: str, value: float, best: float | None) -> bool:
    if best is None:
        return True
    return value < best if "loss" in name else value > best


class Run:
    """One training process's loop; `run()` returns the final status."""

    def __init__(self, run_dir: Path, resume: bool) -> None:
        self.run_dir = run_dir
        self.resume = resume
        self.spec = tomllib.loads((run_dir / "spec.toml").read_text(encoding="utf-8"))
        self.run_id = run_dir.name
        self.stop = StopRequest(run_dir)

    def run(self) -> str:
        import torch
        from accelerate import Accelerator
        from accelerate.utils import TorchDynamoPlugin, set_seed

        started = time.time()
        spec, training = self.spec, self.spec["training"]
        device_type = "cuda" if torch.cuda.is_available() and not training["use_cpu"] else "cpu"
        compile_kwargs = compile_settings(spec["model"], device_type)
        self.compiling = compile_kwargs is not None
        # A new iteration for CUDA graphs starts at each forward (eval runs between training steps).
        self.mark_step = (
            getattr(torch.compiler, "cudagraph_mark_step_begin", None)
            if self.compiling and device_type == "cuda"
            else None
        )
        if self.compiling:
            allow_recompiles(64)  # each padding bucket, the last batch, train and eval: one compile each
        self.accelerator = accelerator = Accelerator(
            mixed_precision=training["mixed_precision"],
            gradient_accumulation_steps=training["gradient_accumulation_steps"],
            cpu=training["use_cpu"],
            **({"dynamo_plugin": TorchDynamoPlugin(**compile_kwargs)} if compile_kwargs else {"dynamo_backend": "no"}),
        )
        self.events = events = RunEvents(self.run_dir, accelerator.is_main_process)
        self.stop.install_handlers()
        set_seed(training["seed"])

        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model_path = resolve_model(spec["model"]["name_or_path"])
        events.log(f"Loading the tokenizer and data ({spec['model']['name_or_path']})")
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        from workbench.training import data as run_data

        with accelerator.main_process_first():
            tokenized, labels = run_data.prepare(spec, tokenizer)
        # Load the metric modules (evaluate's import is slow) while the model loads.
        metrics_box: dict = {}
        metrics_thread = threading.Thread(target=self._load_metrics, args=(labels.num_labels, metrics_box), daemon=True)
        metrics_thread.start()

        events.log(f"Loading the model: {labels.num_labels} label(s){' (regression)' if labels.regression else ''}")
        model = AutoModelForSequenceClassification.from_pretrained(
            model_path,
            attn_implementation=spec["model"].get("attn_implementation") or None,
            # A checkpoint with a head of another size (2 classes, trained here for regression) gets a new head.
            ignore_mismatched_sizes=True,
            **head_options(labels),
        )

        train_loader, eval_loader = self._loaders(tokenized, tokenizer, accelerator)
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
        num_epochs = math.ceil(total_steps / steps_per_epoch)

        from transformers import get_scheduler

        # Accelerate steps a prepared scheduler once per process, so it is sized for all of them.
        scheduler = get_scheduler(
            training["lr_scheduler_type"],
            optimizer=optimizer,
            num_warmup_steps=math.ceil(training["warmup_ratio"] * total_steps) * accelerator.num_processes,
            num_training_steps=total_steps * accelerator.num_processes,
        )
        scheduler = accelerator.prepare(scheduler)

        state = {
            "global_step": 0,
            "epoch": 0,
            "batch_in_epoch": 0,
            "best": None,
            "elapsed_s": 0.0,
            "recent_losses": [],
            "last_metrics": {},
        }
        resumed_from = None
        if self.resume:
            checkpoint = checkpoints.latest_checkpoint(self.run_dir)
            if checkpoint is None:
                events.log("No checkpoint to resume from; starting from step 0", level="warning")
            else:
                accelerator.load_state(str(checkpoint))
                state.update(checkpoints.read_state(checkpoint))
                resumed_from = state["global_step"]
                if state["batch_in_epoch"] >= len(train_loader):
                    state["epoch"] += 1
                    state["batch_in_epoch"] = 0

        metrics_thread.join()
        if "error" in metrics_box:
            raise metrics_box["error"]
        self.metrics = metrics_box["metrics"]
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.tokenizer, self.labels = tokenizer, labels
        self.eval_loader = eval_loader
        self.total_steps, self.steps_per_epoch, self.num_epochs = total_steps, steps_per_epoch, num_epochs
        self.state = state

        events.emit(
            RunStarted(
                run_id=self.run_id,
                spec=spec,
                versions=versions(),
                devices=devices(accelerator),
                num_processes=accelerator.num_processes,
                total_steps=total_steps,
                num_epochs=float(num_epochs),
                steps_per_epoch=steps_per_epoch,
                pid=os.getpid(),
                resumed_from_step=resumed_from,
            )
        )
        events.log(
            f"Training: {len(tokenized['train'])} rows, {num_epochs} epoch(s) of {steps_per_epoch} step(s),"
            f" {total_steps} steps on {accelerator.device.type} x{accelerator.num_processes}"
            f" (load {time.time() - started:.1f} s)"
        )
        interval = spec["monitor"]["system_sample_interval_s"]
        if accelerator.is_main_process and interval > 0:
            from workbench.training.system import SystemMonitor, run_root_process

            monitor = SystemMonitor(events.emit, interval, root=run_root_process(self.run_dir))
            events.add_background(monitor)  # stopped and joined before the final event
            monitor.start()
        return self._train(train_loader)

    def _load_metrics(self, num_labels: int, box: dict) -> None:
        try:
            from workbench.training.evaluation import MetricSet

            box["metrics"] = MetricSet(self.spec["training"]["metrics"], num_labels)
        except Exception as error:  # re-raised in the main thread
            box["error"] = error

    def _loaders(self, tokenized, tokenizer, accelerator):
        from torch.utils.data import DataLoader
        from transformers import DataCollatorWithPadding

        from workbench.training.sampling import EpochSampler

        training = self.spec["training"]
        collator = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=pad_multiple(training, self.compiling))
        train = tokenized["train"]
        lengths = [len(ids) for ids in train["input_ids"]] if training["group_by_length"] else None
        self.sampler = EpochSampler(len(train), training["seed"], lengths, training["per_device_train_batch_size"])
        common = {"collate_fn": collator, **loader_options(training, accelerator.device.type)}
        train_loader = DataLoader(
            train, batch_size=training["per_device_train_batch_size"], sampler=self.sampler, **common
        )
        eval_loader = None
        if "validation" in tokenized and training["eval_strategy"] != "no":
            eval_loader = DataLoader(
                tokenized["validation"], batch_size=training["per_device_eval_batch_size"], shuffle=False, **common
            )
        return train_loader, eval_loader

    # The loop -------------------------------------------------------------------------------

    def _train(self, train_loader) -> str:
        import torch

        accelerator, model, optimizer, scheduler = self.accelerator, self.model, self.optimizer, self.scheduler
        events, state, spec = self.events, self.state, self.spec
        training, monitor = spec["training"], spec["monitor"]
        logging_steps, eval_steps, save_steps = (
            training["logging_steps"],
            training["eval_steps"],
            training["save_steps"],
        )
        step_events = monitor["step_events"]
        accumulation = training["gradient_accumulation_steps"]
        max_grad_norm = training["max_grad_norm"]
        nan_policy = monitor["nan_policy"]
        check_every_step = guard_every_step(nan_policy, accelerator.device.type)
        inject_nan_at = int(os.environ.get(INJECT_NAN_ENV, "0") or 0)
        watch = LossWatch(monitor["loss_spike_factor"])
        watch.recent.extend(state.get("recent_losses", []))
        multi = accelerator.num_processes > 1

        device = accelerator.device
        window_loss = torch.zeros((), device=device)
        window_tokens = torch.zeros((), device=device, dtype=torch.long)
        window_samples, window_steps, window_start = 0, 0, time.perf_counter()
        grad_norm = None
        train_start = time.time() - state["elapsed_s"]
        global_step = state["global_step"]
        self.stop_reason = None

        def finish_window():
            """Read the window's loss back to the host and write a step event; returns the loss."""
            nonlocal window_loss, window_tokens, window_samples, window_steps, window_start
            elapsed = max(time.perf_counter() - window_start, 1e-9)
            loss_sum = accelerator.reduce(window_loss, "mean") if multi else window_loss
            tokens = accelerator.reduce(window_tokens, "sum") if multi else window_tokens
            loss = float(loss_sum.item()) / max(window_steps, 1)
            if step_events:
                events.emit(
                    Step(
                        step=global_step,
                        epoch=self._epoch_float(global_step),
                        loss=loss,
                        learning_rate=float(scheduler.get_last_lr()[0]),
                        grad_norm=float(grad_norm) if grad_norm is not None else None,
                        samples_per_s=window_samples * accelerator.num_processes / elapsed,
                        tokens_per_s=float(tokens.item()) / elapsed,
                        step_time_s=elapsed / max(window_steps, 1),
                    )
                )
            if accelerator.is_main_process:
                print(
                    f"step {global_step}/{self.total_steps} epoch {self._epoch_float(global_step):.2f}"
                    f" loss {loss:.4f} lr {scheduler.get_last_lr()[0]:.3g}",
                    flush=True,
                )
            window_loss = torch.zeros((), device=device)
            window_tokens = torch.zeros((), device=device, dtype=torch.long)
            window_samples, window_steps, window_start = 0, 0, time.perf_counter()
            return loss

        def guard(loss_value: float) -> bool:
            """Alerts for the loss; True when the run must stop (NaN/inf with the stop policy)."""
            verdict = watch.check(loss_value)
            if verdict.kind is None:
                return False
            if verdict.kind == "loss_spike":
                events.emit(Alert(kind=verdict.kind, message=verdict.message, step=global_step))
                return False
            action = "stopping" if nan_policy == "stop" else "skipping the step"
            events.emit(
                Alert(kind=verdict.kind, message=f"{verdict.message} at step {global_step}; {action}", step=global_step)
            )
            return nan_policy == "stop"

        model.train()
        epoch = state["epoch"]
        skip = state["batch_in_epoch"]
        done = global_step >= self.total_steps
        while not done and epoch < self.num_epochs:
            self.sampler.set_epoch(epoch)
            loader = accelerator.skip_first_batches(train_loader, skip) if skip else train_loader
            batch_in_epoch = skip
            skip = 0
            for batch in loader:
                with accelerator.accumulate(model):
                    if self.mark_step is not None:
                        self.mark_step()
                    outputs = model(**batch)
                    loss = outputs.loss
                    if inject_nan_at and global_step + 1 == inject_nan_at:
                        loss = loss * float("nan")
                    skipped = False
                    if check_every_step and not math.isfinite(loss.item()):
                        if nan_policy == "skip":
                            events.emit(
                                Alert(
                                    kind="nan_loss" if math.isnan(loss.item()) else "inf_loss",
                                    message=f"The loss is {loss.item()} at step {global_step + 1}; skipping the step",
                                    step=global_step + 1,
                                )
                            )
                            skipped = True
                        else:
                            window_loss += loss.detach() / accumulation
                            window_steps += 1
                            global_step += 1
                            finish_window()
                            guard(float("nan") if math.isnan(loss.item()) else float("inf"))
                            self.stop_reason = "nan"
                            break
                    if not skipped:
                        accelerator.backward(loss)
                        if accelerator.sync_gradients and max_grad_norm > 0:
                            grad_norm = accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
                        optimizer.step()
                        scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                batch_in_epoch += 1
                if not skipped:
                    window_loss += loss.detach() / accumulation
                window_tokens += (
                    batch["attention_mask"].sum() if "attention_mask" in batch else batch["input_ids"].numel()
                )
                window_samples += batch["input_ids"].shape[0]
                if not accelerator.sync_gradients:
                    continue
                global_step += 1
                window_steps += 1
                state.update(global_step=global_step, epoch=epoch, batch_in_epoch=batch_in_epoch)
                stop_now = self._stop_requested(global_step, logging_steps, multi)
                last = global_step >= self.total_steps
                if global_step % logging_steps == 0 or stop_now or last:
                    loss_value = finish_window()
                    if guard(loss_value):
                        self.stop_reason = "nan"
                        break
                if eval_steps and training["eval_strategy"] == "steps" and global_step % eval_steps == 0 and not last:
                    self._evaluate(global_step)
                    window_start = time.perf_counter()
                if save_steps and global_step % save_steps == 0 and not last:
                    self._checkpoint(global_step, train_start)
                    window_start = time.perf_counter()
                if stop_now:
                    self.stop_reason = "stop"
                    break
                if last:
                    done = True
                    break
            if self.stop_reason:
                break
            epoch_finished = batch_in_epoch >= len(train_loader)
            if epoch_finished or done:
                if training["eval_strategy"] != "no":
                    self._evaluate(global_step)
                if not save_steps and not done:
                    self._checkpoint(global_step, train_start)
                window_start = time.perf_counter()
            epoch += 1
        state["elapsed_s"] = time.time() - train_start
        state["recent_losses"] = list(watch.recent)
        if self.stop_reason == "nan":
            raise NonFiniteLoss(global_step)
        if self.stop_reason == "stop":
            self._checkpoint(global_step, train_start)
            return self._finish("stopped", global_step)
        self._save_final()
        return self._finish("finished", global_step)

    def _stop_requested(self, global_step: int, logging_steps: int, multi: bool) -> bool:
        if not multi:
            return self.stop.requested()
        # Every process must stop at the same step: decide together on logging steps only.
        if global_step % logging_steps == 0:
            if self.stop.requested():
                self.accelerator.set_trigger()
            return self.accelerator.check_trigger()
        return False

    def _epoch_float(self, global_step: int) -> float:
        return round(global_step / self.steps_per_epoch, 4)

    def _evaluate(self, global_step: int) -> dict | None:
        import torch

        if self.eval_loader is None:
            return None
        accelerator, model = self.accelerator, self.model
        model.eval()
        predictions, references = [], []
        loss_sum = torch.zeros((), device=accelerator.device)
        batches = 0
        with torch.no_grad():
            for batch in self.eval_loader:
                if self.mark_step is not None:
                    self.mark_step()
                outputs = model(**batch)
                loss_sum += outputs.loss.detach()
                batches += 1
                logits = outputs.logits
                predicted = logits.squeeze(-1) if self.labels.regression else logits.argmax(dim=-1)
                predicted, labels = accelerator.gather_for_metrics((predicted, batch["labels"]))
                predictions.append(predicted.float().cpu() if self.labels.regression else predicted.cpu())
                references.append(labels.cpu())
        model.train()
        if accelerator.num_processes > 1:
            loss_sum = accelerator.reduce(loss_sum, "mean")
        metrics = {"eval_loss": float(loss_sum.item()) / max(batches, 1)}
        metrics.update(self.metrics.compute(torch.cat(predictions).tolist(), torch.cat(references).tolist()))
        self.state["last_metrics"] = metrics
        self.events.emit(Evaluation(step=global_step, epoch=self._epoch_float(global_step), metrics=metrics))
        if accelerator.is_main_process:
            print(f"eval step {global_step}: " + " ".join(f"{k} {v:.4f}" for k, v in metrics.items()), flush=True)
        name = self.spec["training"]["metric_for_best_model"] or (self.metrics.names or ["eval_loss"])[0]
        name = "eval_loss" if name == "loss" else name
        if name in metrics and is_better(name, metrics[name], (self.state["best"] or {}).get("value")):
            self.state["best"] = {"name": name, "value": metrics[name], "step": global_step}
        return metrics

    def _checkpoint(self, global_step: int, train_start: float) -> None:
        accelerator = self.accelerator
        self.state["elapsed_s"] = time.time() - train_start
        temporary = checkpoints.temporary_folder(self.run_dir, global_step) if accelerator.is_main_process else None
        accelerator.wait_for_everyone()
        temporary = temporary or self.run_dir / "checkpoints" / f".tmp-checkpoint-{global_step}"
        accelerator.save_state(str(temporary))
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            path = checkpoints.commit(temporary, dict(self.state, global_step=global_step))
            checkpoints.rotate(self.run_dir, self.spec["training"]["save_total_limit"])
            self.events.emit(CheckpointSaved(step=global_step, path=str(path.relative_to(self.run_dir))))
        accelerator.wait_for_everyone()

    def _save_final(self) -> None:
        accelerator = self.accelerator
        accelerator.wait_for_everyone()
        # Every process takes part: under FSDP this gathers the shards into one full state dict.
        state_dict = without_compile_prefix(accelerator.get_state_dict(self.model))
        if accelerator.is_main_process:
            model = accelerator.unwrap_model(self.model)
            model = getattr(model, "_orig_mod", model)  # torch.compile's wrapper

            def write(folder: Path) -> None:
                model.save_pretrained(folder, state_dict=state_dict, safe_serialization=True)
                self.tokenizer.save_pretrained(folder)

            checkpoints.save_folder_atomically(self.run_dir / "final", write)
            self.events.log("Saved the model and tokenizer to final/")

    def _finish(self, status: str, global_step: int) -> str:
        summary = build_summary(self, status, global_step)
        peak = peak_gpu_memory_mb()
        if peak is not None:
            summary["peak_gpu_memory_mb"] = peak
        if self.accelerator.is_main_process:
            write_summary(self.run_dir, summary)
        self.events.final(Finished(status=status, summary=summary))
        return status


class NonFiniteLoss(RuntimeError):
    def __init__(self, step: int) -> None:
        super().__init__(
            f'The loss became NaN or infinite at step {step}; training stopped (monitor.nan_policy = "stop")'
        )
        self.step = step


NAN_SUGGESTION = (
    "Lower training.learning_rate, keep training.max_grad_norm on (1.0), use bf16 instead of fp16,"
    ' or set monitor.nan_policy = "skip" to skip such steps.'
)


def build_summary(
    run: Run | None, status: str, global_step: int, run_dir: Path | None = None, spec: dict | None = None
) -> dict:
    spec = run.spec if run is not None else (spec or {})
    state = run.state if run is not None and hasattr(run, "state") else {}
    data = spec.get("data", {})
    return {
        "status": status,
        "run_id": (run.run_dir if run is not None else run_dir).name,
        "model": spec.get("model", {}).get("name_or_path"),
        "dataset": data.get("dataset") or Path(data.get("train_file", "")).name,
        "head": spec.get("model", {}).get("head"),
        "steps": global_step,
        "epochs": round(global_step / run.steps_per_epoch, 4)
        if run is not None and hasattr(run, "steps_per_epoch")
        else None,
        "train_runtime_s": round(state.get("elapsed_s", 0.0), 3),
        "final_metrics": state.get("last_metrics", {}),
        "best_metric": state.get("best"),
        "hyperparameters": spec.get("training", {}),
        "versions": safe_versions() if run is not None else {},
    }


def peak_gpu_memory_mb() -> float | None:
    """Peak memory the caching allocator handed out on this process's GPU, or None on the CPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def safe_versions() -> dict[str, str]:
    try:
        return versions()
    except ImportError as error:
        return {"error": str(error)}


def write_summary(run_dir: Path, summary: dict) -> None:
    temporary = run_dir / "summary.json.tmp"
    temporary.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    temporary.replace(run_dir / "summary.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench.training.child")
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    run = Run(args.run_dir.resolve(), args.resume)
    try:
        run.run()
        return 0
    except BaseException as error:  # every failure becomes a Failed event, then the process exits non-zero
        events = getattr(run, "events", None)
        is_main = events is None or events.enabled
        if is_main:
            if events is None:
                events = RunEvents(run.run_dir, True)
            suggestion = NAN_SUGGESTION if isinstance(error, NonFiniteLoss) else suggestion_for(error)
            message = str(error) if isinstance(error, NonFiniteLoss) else f"{type(error).__name__}: {error}"
            step = getattr(run, "state", {}).get("global_step", 0)
            summary = build_summary(run, "failed", step)
            try:
                write_summary(run.run_dir, summary)
            except OSError:
                pass
            events.final(Failed(error=message, traceback=traceback.format_exc(), suggestion=suggestion))
            print(traceback.format_exc(), file=sys.stderr, flush=True)
            if suggestion:
                print(suggestion, file=sys.stderr, flush=True)
        return 1
    finally:
        events = getattr(run, "events", None)
        if events is not None:
            events.close()


if __name__ == "__main__":
    raise SystemExit(main())
