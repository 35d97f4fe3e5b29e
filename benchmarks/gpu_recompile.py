"""Why a compiled run with one graph for every length compiles twice (GPU).

A workbench run with `model.compile_dynamic` (BERT-base, batch 128, lengths falling from 104 to
32 within the first mega-batch) logs a second whole compile around the step where the batch
length first drops to 48: 43 s cold, 4.6 s from a warm cache. This replays that sequence of
lengths on the same kernels (bf16 autocast, fused AdamW, gradient clipping, inductor with
`reduce-overhead`, the sequence dimension marked as the workbench marks it) and prints each
step's time and dynamo's recompile count, for each way of marking the dimension:

    maybe     torch._dynamo.maybe_mark_dynamic, inductor's defaults (the workbench before the fix)
    nonstrict the same with configure.keep_one_graph_for_every_length (what the workbench does now)
    unbacked  torch._dynamo.decorators.mark_unbacked: no guard may depend on the length

    TORCH_LOGS=recompiles python benchmarks/gpu_recompile.py --marks maybe nonstrict unbacked

Found on an H200 (torch 2.11): `maybe` recompiles at length 48 on the guard
`98304*input_ids.size()[1] >= 5242880` (inductor's mix-order reduction size check), 42 s;
`unbacked` fails to compile (RecursionError in BERT's position ids).
"""

from __future__ import annotations

import argparse
import json
import time

LENGTHS = [104, 80, 72, 64, 56, 48, 40, 32, 104, 56, 48]


def one_variant(mark: str, lengths: list[int], batch: int) -> dict:
    import torch
    import torch._dynamo
    import torch._inductor.config as inductor_config
    from transformers import BertConfig, BertForSequenceClassification

    torch._dynamo.reset()
    inductor_config.triton.mix_order_reduction_non_strict_mode = False
    if mark == "nonstrict":
        from workbench.training.configure import keep_one_graph_for_every_length

        keep_one_graph_for_every_length()
    torch.manual_seed(0)
    config = BertConfig(num_labels=2, problem_type="single_label_classification")
    model = BertForSequenceClassification(config).cuda().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True)
    compiled = torch.compile(model, backend="inductor", mode="reduce-overhead", dynamic=None)
    times = []
    for length in lengths:
        ids = torch.randint(1000, config.vocab_size, (batch, length), device="cuda")
        real = torch.randint(int(length * 0.7), length + 1, (batch, 1), device="cuda")
        mask = (torch.arange(length, device="cuda")[None, :] < real).long()
        inputs = {
            "input_ids": ids,
            "attention_mask": mask,
            "token_type_ids": torch.zeros_like(ids),
            "labels": torch.randint(0, 2, (batch,), device="cuda"),
        }
        for value in inputs.values():
            if value.ndim >= 2:
                if mark == "unbacked":
                    torch._dynamo.decorators.mark_unbacked(value, 1)
                else:
                    torch._dynamo.maybe_mark_dynamic(value, 1)
        torch.cuda.synchronize()
        start = time.perf_counter()
        torch.compiler.cudagraph_mark_step_begin()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = compiled(**inputs).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        times.append(round(time.perf_counter() - start, 3))
    from torch._dynamo.utils import counters

    return {
        "mark": mark,
        "step_s": dict(zip([str(n) + f"#{i}" for i, n in enumerate(lengths)], times)),
        "frames_compiled": dict(counters["stats"]),
        "recompiles": sum(counters["recompiles"].values()) if "recompiles" in counters else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    marks = ["maybe", "nonstrict", "unbacked"]
    parser.add_argument("--marks", nargs="+", choices=marks, default=marks[:2])
    parser.add_argument("--lengths", nargs="+", type=int, default=LENGTHS)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    for mark in args.marks:
        try:
            print(json.dumps(one_variant(mark, args.lengths, args.batch)), flush=True)
        except Exception as error:  # one variant failing must not lose the other
            print(json.dumps({"mark": mark, "error": f"{type(error).__name__}: {error}"[:2000]}), flush=True)


if __name__ == "__main__":
    main()
