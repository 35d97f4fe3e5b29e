"""The training loop: steps, step events, the loss guard, evaluation, checkpoints, the final model.

The loss stays on the device between logging steps, so the host waits for the GPU only when it
logs. Everything the loop carries from step to step is a `LoopState`, which a checkpoint saves
(its `workbench_state.json`) and a resume restores.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from workbench.core.runs.best import is_better
from workbench.core.runs.folder import FINAL_DIR, STOP_FILE
from workbench.core.runs.protocol import Alert, CheckpointSaved, Evaluation, Step
from workbench.training import checkpoints
from workbench.training.configure import Setup, without_compile_prefix
from workbench.training.event_sink import RunEvents
from workbench.training.guards import LossWatch

# Test flags: make the loss NaN at this optimizer step (1-based), to exercise the guard; stop after
# this step as `workbench stop` would (deterministic stop/resume tests).
INJECT_NAN_ENV = "WORKBENCH_DEBUG_NAN_AT_STEP"
# Test flag: guard the loss as on a GPU (at logging steps only), so the CPU tests cover that path.
GPU_GUARD_ENV = "WORKBENCH_DEBUG_GUARD_AS_ON_GPU"
STOP_AT_ENV = "WORKBENCH_DEBUG_STOP_AT_STEP"


@dataclass
class LoopState:
    """Where the loop is; saved with each checkpoint under these names."""

    global_step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # batches of `epoch` already trained on
    best: dict[str, Any] | None = None  # {"name", "value", "step"}
    elapsed_s: float = 0.0
    recent_losses: list[float] = field(default_factory=list)
    last_metrics: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, saved: dict) -> LoopState:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in saved.items() if key in known})

    def to_dict(self) -> dict:
        return asdict(self)

    def next_position(self, batches_per_epoch: int) -> tuple[int, int]:
        """(epoch, batches to skip in it) for the next batch: after a finished epoch, the next one."""
        if self.batch_in_epoch >= batches_per_epoch:
            return self.epoch + 1, 0
        return self.epoch, self.batch_in_epoch


class StopRequest:
    """A stop asked for by `workbench stop` (a file in control/) or by SIGTERM/SIGINT."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / STOP_FILE
        self.signalled = False
        self.at_step = int(os.environ.get(STOP_AT_ENV, "0") or 0)

    def install_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.signalled = True

    def requested(self, step: int = 0) -> bool:
        return self.signalled or self.path.exists() or (self.at_step > 0 and step == self.at_step)


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


def guard_every_step(nan_policy: str, device_type: str) -> bool:
    """Read the loss back every step? Skipping needs it; on the CPU it costs nothing; on a GPU the
    stop policy checks at logging steps only, so the host never waits for the device in between."""
    return nan_policy == "skip" or device_type == "cpu"


def epoch_loader(accelerator, train_loader, epoch: int, skip: int):
    """The prepared train loader for `epoch`, less its first `skip` batches (a resume).

    Accelerate's loader sets the sampler's epoch from its own iteration counter when iterated,
    and that counter restarts at 0 in a resumed process (and in the skipping loader made from
    it): every epoch after a resume replayed the order of an earlier one. So both are told the
    epoch explicitly."""
    train_loader.set_epoch(epoch)
    if not skip:
        return train_loader
    loader = accelerator.skip_first_batches(train_loader, skip)
    loader.set_epoch(epoch)
    return loader


class Window:
    """What the steps since the last step event add up to, kept on the device."""

    def __init__(self, device) -> None:
        import torch

        self.loss = torch.zeros((), device=device)
        self.tokens = torch.zeros((), device=device, dtype=torch.long)
        self.samples = 0
        self.steps = 0
        self.counted = 0  # batches whose loss is in `loss` (a skipped step's is not)
        self.start = time.perf_counter()


def batch_rows(batch) -> int:
    """Examples in a collated batch (the first dimension of its first tensor)."""
    for value in batch.values():
        shape = getattr(value, "shape", None)
        if shape:
            return int(shape[0])
    return 1


class TrainingLoop:
    """One process's loop over a complete `Setup`; `train()` returns "finished" or "stopped"."""

    def __init__(self, setup: Setup, spec: dict, run_dir: Path, events: RunEvents, stop: StopRequest) -> None:
        self.setup, self.spec, self.run_dir, self.events, self.stop = setup, spec, run_dir, events, stop
        self.accelerator = setup.hardware.accelerator
        self.state = LoopState()
        self.stop_reason: str | None = None
        self.train_start = time.time()
        self.evaluated_step: int | None = None  # the step of the latest evaluation

    # Progress --------------------------------------------------------------------------------

    def epoch_float(self, global_step: int) -> float:
        return round(global_step / self.setup.steps_per_epoch, 4)

    def finish_window(self, window: Window, grad_norm) -> float | None:
        """Read the window's loss back to the host and write a step event; returns the loss, or
        None when every step of the window was skipped (then no step event: a skipped step has
        no loss, and writing 0.0 drew a false dip in the curve)."""
        import torch

        accelerator, multi = self.accelerator, self.accelerator.num_processes > 1
        global_step = self.state.global_step
        elapsed = max(time.perf_counter() - window.start, 1e-9)
        loss_sum = accelerator.reduce(window.loss, "mean") if multi else window.loss
        tokens = accelerator.reduce(window.tokens, "sum") if multi else window.tokens
        learning_rate = self.setup.scheduler.get_last_lr()[0]
        if multi:
            counted = int(accelerator.reduce(torch.tensor(window.counted, device=accelerator.device), "sum").item())
            counted //= accelerator.num_processes
        else:
            counted = window.counted
        if counted == 0:  # every step since the last event was skipped (nan_policy = "skip"): no loss to write
            if accelerator.is_main_process:
                print(f"step {global_step}/{self.setup.total_steps}: skipped (non-finite loss)", flush=True)
            return None
        loss = float(loss_sum.item()) / (counted / self.spec["training"]["gradient_accumulation_steps"])
        if self.spec["monitor"]["step_events"]:
            self.events.emit(
                Step(
                    step=global_step,
                    epoch=self.epoch_float(global_step),
                    loss=loss,
                    learning_rate=float(learning_rate),
                    grad_norm=float(grad_norm) if grad_norm is not None else None,
                    samples_per_s=window.samples * accelerator.num_processes / elapsed,
                    tokens_per_s=float(tokens.item()) / elapsed,
                    step_time_s=elapsed / max(window.steps, 1),
                )
            )
        if accelerator.is_main_process:
            print(
                f"step {global_step}/{self.setup.total_steps} epoch {self.epoch_float(global_step):.2f}"
                f" loss {loss:.4f} lr {learning_rate:.3g}",
                flush=True,
            )
        return loss

    def guard(self, watch: LossWatch, loss_value: float) -> bool:
        """Alerts for the loss; True when the run must stop (NaN/inf with the stop policy)."""
        step, nan_policy = self.state.global_step, self.spec["monitor"]["nan_policy"]
        verdict = watch.check(loss_value)
        if verdict.kind is None:
            return False
        if verdict.kind == "loss_spike":
            self.events.emit(Alert(kind=verdict.kind, message=verdict.message, step=step))
            return False
        action = "stopping" if nan_policy == "stop" else "skipping the step"
        self.events.emit(Alert(kind=verdict.kind, message=f"{verdict.message} at step {step}; {action}", step=step))
        return nan_policy == "stop"

    def stop_requested(self, logging_steps: int) -> bool:
        step = self.state.global_step
        if self.accelerator.num_processes == 1:
            return self.stop.requested(step)
        # Every process must stop at the same step: decide together on logging steps only.
        if step % logging_steps == 0:
            if self.stop.requested(step):
                self.accelerator.set_trigger()
            return self.accelerator.check_trigger()
        return False

    # The loop --------------------------------------------------------------------------------

    def log_first_step(self, global_step: int) -> None:
        """'first optimizer step done': its event time is when the first step finished on the device."""
        if self.accelerator.device.type == "cuda":
            import torch

            torch.cuda.synchronize()  # once: the step is queued on the GPU, not done, until it syncs
        self.events.log(f"first optimizer step done (step {global_step})")
        self.log_compile_cache()

    def log_compile_cache(self) -> None:
        """'compile cache: 14 hits, 0 misses ...' for a compiled run (the counts since the start)."""
        if not self.setup.hardware.compiling or not self.accelerator.is_main_process:
            return
        from workbench.training.caches import compile_cache_counts, describe_compile_cache

        try:
            self.events.log(describe_compile_cache(compile_cache_counts()))
        except Exception as error:  # counters moved in another torch version: say so, train on
            self.events.log(f"compile cache: counters unavailable ({type(error).__name__})", level="warning")

    def train(self) -> str:

        setup, state, accelerator, model = self.setup, self.state, self.accelerator, self.setup.model
        optimizer, scheduler, train_loader = setup.optimizer, setup.scheduler, setup.train_loader
        training, monitor = self.spec["training"], self.spec["monitor"]
        logging_steps, eval_steps, save_steps = (
            training["logging_steps"],
            training["eval_steps"],
            training["save_steps"],
        )
        accumulation = training["gradient_accumulation_steps"]
        max_grad_norm = training["max_grad_norm"]
        nan_policy = monitor["nan_policy"]
        guarded_as = "cuda" if os.environ.get(GPU_GUARD_ENV) else accelerator.device.type
        check_every_step = guard_every_step(nan_policy, guarded_as)
        inject_nan_at = int(os.environ.get(INJECT_NAN_ENV, "0") or 0)
        watch = LossWatch(monitor["loss_spike_factor"])
        watch.recent.extend(state.recent_losses)
        window = Window(accelerator.device)
        grad_norm = None
        self.train_start = time.time() - state.elapsed_s
        self.stop_reason = None
        first_step_pending = True  # logged once per process: the time from the command to training
        metrics_ready = False

        model.train()
        epoch, skip = state.next_position(len(train_loader))
        done = state.global_step >= setup.total_steps
        while not done and epoch < setup.num_epochs:
            loader = epoch_loader(accelerator, train_loader, epoch, skip)
            batch_in_epoch = skip
            skip = 0
            for batch in loader:
                with accelerator.accumulate(model):
                    if setup.hardware.mark_step is not None:
                        setup.hardware.mark_step()
                    if setup.hardware.mark_inputs is not None:
                        setup.hardware.mark_inputs(batch)
                    outputs = model(**batch)
                    loss = outputs.loss
                    if inject_nan_at and state.global_step + 1 == inject_nan_at:
                        loss = loss * float("nan")
                    skipped = False
                    if check_every_step and not math.isfinite(loss.item()):
                        if nan_policy == "skip":
                            self.events.emit(
                                Alert(
                                    kind="nan_loss" if math.isnan(loss.item()) else "inf_loss",
                                    message=f"The loss is {loss.item()} at step {state.global_step + 1};"
                                    " skipping the step",
                                    step=state.global_step + 1,
                                )
                            )
                            skipped = True
                        else:
                            window.loss += loss.detach() / accumulation
                            window.counted += 1
                            window.steps += 1
                            state.global_step += 1
                            self.finish_window(window, grad_norm)
                            self.guard(watch, float("nan") if math.isnan(loss.item()) else float("inf"))
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
                    window.loss += loss.detach() / accumulation
                    window.counted += 1
                window.tokens += (
                    batch["attention_mask"].sum() if "attention_mask" in batch else batch["input_ids"].numel()
                )
                window.samples += batch["input_ids"].shape[0]
                if not accelerator.sync_gradients:
                    continue
                state.global_step += 1
                window.steps += 1
                state.epoch, state.batch_in_epoch = epoch, batch_in_epoch
                global_step = state.global_step
                if first_step_pending:
                    first_step_pending = False
                    self.log_first_step(global_step)
                if not metrics_ready:
                    metrics_ready = self.wait_for_metrics(block=False)  # a failed import stops the run early
                stop_now = self.stop_requested(logging_steps)
                last = global_step >= setup.total_steps
                if global_step % logging_steps == 0 or stop_now or last:
                    loss_value = self.finish_window(window, grad_norm)
                    window = Window(accelerator.device)
                    if loss_value is not None and self.guard(watch, loss_value):
                        self.stop_reason = "nan"
                        break
                if eval_steps and training["eval_strategy"] == "steps" and global_step % eval_steps == 0 and not last:
                    self.evaluate()
                    window.start = time.perf_counter()
                if save_steps and global_step % save_steps == 0 and not last:
                    self.checkpoint()
                    window.start = time.perf_counter()
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
                # eval_steps may have just evaluated this very step: one evaluation event per step.
                evaluated_here = self.evaluated_step == state.global_step
                if training["eval_strategy"] != "no" and not evaluated_here:
                    self.evaluate()
                if not save_steps and not done:
                    self.checkpoint()
                window.start = time.perf_counter()
            epoch += 1
        state.elapsed_s = time.time() - self.train_start
        state.recent_losses = list(watch.recent)
        if self.stop_reason == "nan":
            raise NonFiniteLoss(state.global_step)
        if self.stop_reason == "stop":
            self.checkpoint()
            return "stopped"
        self.log_compile_cache()  # evaluation's graphs too
        self.save_final()
        return "finished"

    # Evaluation, checkpoints, the final model -------------------------------------------------

    def wait_for_metrics(self, block: bool = True) -> bool:
        """Whether the metric libraries are imported (in a thread since the set-up), waiting for
        them with `block`; their import error raised."""
        if self.setup.wait_for_metrics is None:
            return True
        return self.setup.wait_for_metrics(block)

    def evaluate(self) -> dict | None:
        """One pass over the validation data: the mean loss, the task's metrics, and its per-example
        predictions kept in the run folder (the newest `training.predictions_keep` evaluations)."""
        import torch

        setup, accelerator, model = self.setup, self.accelerator, self.setup.model
        if setup.eval_loader is None:
            return None
        global_step = self.state.global_step
        self.evaluated_step = global_step
        self.wait_for_metrics()
        evaluator = setup.make_evaluator()
        model.eval()
        # Each batch's mean loss weighted by its rows, as Trainer does: a short last batch counts less.
        loss_sum = torch.zeros((), device=accelerator.device)
        rows = torch.zeros((), device=accelerator.device)
        with torch.no_grad():
            for batch in setup.eval_loader:
                if setup.hardware.mark_step is not None:
                    setup.hardware.mark_step()
                if setup.hardware.mark_inputs is not None:
                    setup.hardware.mark_inputs(batch)
                outputs = model(**batch)
                if getattr(outputs, "loss", None) is not None:
                    count = batch_rows(batch)
                    loss_sum += outputs.loss.detach().float() * count
                    rows += count
                evaluator.add(batch, outputs, model)
        model.train()
        if accelerator.num_processes > 1:
            loss_sum = accelerator.reduce(loss_sum, "sum")
            rows = accelerator.reduce(rows, "sum")
        eval_loss = float(loss_sum.item()) / float(rows.item()) if float(rows.item()) else float("nan")
        result = evaluator.finish(eval_loss)
        metrics = {"eval_loss": eval_loss, **{key: float(value) for key, value in result.metrics.items()}}
        self.state.last_metrics = metrics
        extra = {}
        if accelerator.is_main_process:
            extra = self.keep_predictions(global_step, result)
        self.events.emit(Evaluation(step=global_step, epoch=self.epoch_float(global_step), metrics=metrics, **extra))
        if accelerator.is_main_process:
            print(f"eval step {global_step}: " + " ".join(f"{k} {v:.4f}" for k, v in metrics.items()), flush=True)
        name = self.spec["training"]["metric_for_best_model"] or setup.task.best_metric(
            self.spec["training"].get("metrics")
        )
        name = "eval_loss" if name == "loss" else name
        if name in metrics and is_better(name, metrics[name], (self.state.best or {}).get("value")):
            self.state.best = {"name": name, "value": metrics[name], "step": global_step}
        return metrics

    def keep_predictions(self, step: int, result) -> dict:
        """Write this evaluation's per-example records; the event's extra fields (path, samples)."""
        from workbench.core.runs import predictions

        extra: dict = {}
        if result.samples:
            extra["samples"] = result.samples
        keep = self.spec["training"].get("predictions_keep", 0)
        if not keep or not result.records:
            return extra
        try:
            path = predictions.write(self.run_dir, step, result.records, keep=keep)
        except OSError as error:
            self.events.log(f"Could not keep the predictions of step {step}: {error}", level="warning")
            return extra
        extra["predictions"] = str(path.relative_to(self.run_dir))
        return extra

    def checkpoint(self) -> None:
        accelerator, global_step = self.accelerator, self.state.global_step
        self.state.elapsed_s = time.time() - self.train_start
        temporary = checkpoints.temporary_folder(self.run_dir, global_step) if accelerator.is_main_process else None
        accelerator.wait_for_everyone()
        temporary = temporary or checkpoints.temporary_path(self.run_dir, global_step)
        accelerator.save_state(str(temporary))
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            path = checkpoints.commit(temporary, self.state.to_dict())
            checkpoints.rotate(self.run_dir, self.spec["training"]["save_total_limit"])
            self.events.emit(CheckpointSaved(step=global_step, path=str(path.relative_to(self.run_dir))))
        accelerator.wait_for_everyone()

    def resume(self) -> int | None:
        """Load the latest complete checkpoint; its step, or None when there is none."""
        checkpoint = checkpoints.latest_checkpoint(self.run_dir)
        if checkpoint is None:
            self.events.log("No checkpoint to resume from; starting from step 0", level="warning")
            return None
        self.accelerator.load_state(str(checkpoint))
        self.state = LoopState.from_dict(checkpoints.read_state(checkpoint))
        return self.state.global_step

    def save_final(self) -> None:
        accelerator, setup = self.accelerator, self.setup
        accelerator.wait_for_everyone()
        # Every process takes part: under FSDP this gathers the shards into one full state dict.
        state_dict = without_compile_prefix(accelerator.get_state_dict(setup.model))
        if accelerator.is_main_process:
            model = accelerator.unwrap_model(setup.model)
            model = getattr(model, "_orig_mod", model)  # torch.compile's wrapper

            from workbench.core.tasks import lora

            adapter = "peft" in sys.modules and lora.is_adapter_model(model)  # no peft import for a plain model

            def write(folder: Path) -> None:
                if adapter:  # the adapter and head config only (+ final/merged/ with model.lora.save_merged)
                    for note in lora.save_adapter(model, folder, state_dict, self.spec, setup.tokenizer):
                        self.events.log(note, level="warning")
                else:
                    model.save_pretrained(folder, state_dict=state_dict, safe_serialization=True)
                setup.tokenizer.save_pretrained(folder)

            checkpoints.save_folder_atomically(self.run_dir / FINAL_DIR, write)
            self.events.log(f"Saved the {'LoRA adapter' if adapter else 'model'} and tokenizer to final/")
