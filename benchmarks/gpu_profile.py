"""Where the time of one BERT-base training step goes on the GPU: host-bound or GPU-bound?

For fixed shapes (batch x sequence length), times bf16 training steps (fused AdamW, SDPA) in
eager mode and with torch.compile, and uses the PyTorch profiler to sum the GPU kernel time of
a step. GPU busy = kernel time / wall time per step; when it is far below 100 %, the step is
bound by the host (Python and kernel launches), not by the GPU, and MFU cannot rise.

    python benchmarks/gpu_profile.py [--shapes 128x64 128x128 512x128]
        [--compile | --modes eager default reduce-overhead] [--breakdown]

--breakdown: the GPU time of a step by kind of kernel (matrix multiplies, attention, inductor's fused
Triton kernels, the optimizer and gradient clipping, embeddings, the rest), with the matrix multiplies'
achieved TFLOP/s (6 x the encoder's Linear weights x tokens, over their kernel time): what bounds MFU
once the host no longer does. Use it with a mode without CUDA graphs ("default": the same kernels
as "reduce-overhead", each visible to the profiler).
"""

from __future__ import annotations

import argparse
import json
import time

# Kernel-name fragments -> kind (first match wins; names lower-cased).
KINDS = (
    ("attention", ("fmha", "flash", "attention", "efficient_attention", "cutlass_sm80_mem")),
    ("matmul", ("gemm", "nvjet", "xmma", "cutlass", "cublas", "splitk", "sm90_")),
    ("optimizer+clip", ("adam", "multi_tensor", "foreach", "norm_kernel", "lpnorm", "clamp")),
    ("embedding", ("embedding", "index", "scatter", "gather")),
    ("inductor triton", ("triton",)),
)


def kind_of(name: str) -> str:
    lowered = name.lower()
    return next((kind for kind, parts in KINDS if any(part in lowered for part in parts)), "other")


def breakdown(prof, steps: int) -> dict[str, float]:
    """GPU milliseconds per step by kind of kernel."""
    totals: dict[str, float] = {}
    for event in prof.key_averages():
        if event.self_device_time_total <= 0:
            continue
        kind = kind_of(event.key)
        totals[kind] = totals.get(kind, 0.0) + event.self_device_time_total / 1000 / steps
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def one_shape(batch: int, length: int, mode: str, kinds: bool = False, padded: bool = False) -> dict:
    """mode: "eager", or a torch.compile mode ("default", "reduce-overhead": CUDA graphs)."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(num_labels=2, attn_implementation="sdpa")).cuda()
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True)
    step_model = model if mode == "eager" else torch.compile(model, mode=mode, dynamic=False)
    ids = torch.randint(1000, 30000, (batch, length), device="cuda")
    mask = torch.ones_like(ids)
    if padded:  # rows of 70-100% of the length, as a length-grouped batch of real text (a masked attention)
        lengths = torch.randint(int(length * 0.7), length + 1, (batch, 1), device="cuda")
        mask = (torch.arange(length, device="cuda")[None, :] < lengths).long()
    labels = torch.randint(0, 2, (batch,), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = step_model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(15):
        step()
    torch.cuda.synchronize()
    steps = 30
    started = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    wall = (time.perf_counter() - started) / steps
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(5):
            step()
        torch.cuda.synchronize()
    kernel_us = sum(e.self_device_time_total for e in prof.key_averages()) / 5
    tokens_per_s = batch * length / wall
    by_kind = breakdown(prof, 5) if kinds else {}
    # The encoder's Linear weights (no embeddings: a lookup, not a matrix multiply).
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    result = {
        "shape": f"{batch}x{length}",
        "mode": mode,
        "step_ms": wall * 1000,
        "gpu_kernel_ms": kernel_us / 1000,
        "gpu_busy": kernel_us / 1e6 / wall,
        "tokens_per_s": tokens_per_s,
        "mfu": 6 * parameters * tokens_per_s / 989e12,
        "kinds_ms": by_kind,
        "matmul_tflops": (6 * linear * batch * length / (by_kind["matmul"] / 1000) / 1e12)
        if by_kind.get("matmul")
        else None,
    }
    del model, optimizer, step_model
    torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["32x64", "128x64", "128x128", "512x128"])
    parser.add_argument(
        "--compile", action="store_true", help="also with torch.compile (same as --modes eager default)"
    )
    parser.add_argument("--modes", nargs="+", choices=["eager", "default", "reduce-overhead", "max-autotune"])
    parser.add_argument("--breakdown", action="store_true", help="GPU time per step by kind of kernel")
    parser.add_argument("--padded", action="store_true", help="rows of 70-100%% of the length (a padding mask)")
    args = parser.parse_args()
    modes = args.modes or (["eager", "default"] if args.compile else ["eager"])
    rows = []
    for shape in args.shapes:
        batch, length = map(int, shape.split("x"))
        for mode in modes:
            row = one_shape(batch, length, mode, kinds=args.breakdown, padded=args.padded)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{'shape':<10}{'mode':>16}{'step ms':>9}{'GPU ms':>8}{'GPU busy':>9}{'tokens/s':>11}{'MFU':>7}")
    for r in rows:
        print(
            f"{r['shape']:<10}{r['mode']:>16}{r['step_ms']:>9.1f}{r['gpu_kernel_ms']:>8.1f}"
            f"{r['gpu_busy']:>9.0%}{r['tokens_per_s']:>11.0f}{r['mfu']:>7.1%}"
        )
    for r in rows:
        if r["kinds_ms"]:
            total = r["gpu_kernel_ms"]
            parts = ", ".join(f"{kind} {ms:.2f} ms ({ms / total:.0%})" for kind, ms in r["kinds_ms"].items())
            tflops = f"; matrix multiplies at {r['matmul_tflops']:.0f} TFLOP/s" if r["matmul_tflops"] else ""
            print(f"{r['shape']} {r['mode']}: {parts}{tflops}")


if __name__ == "__main__":
    main()
