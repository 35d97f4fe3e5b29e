#!/usr/bin/env bash
# Issue 16's missing quality measurements in one GPU command (one H200, 16 cores, about 8 minutes):
#   1. clm   causal-LM perplexity, workbench vs Trainer: a GPT-2 "small" from a config (the embedded
#            tokenizer) trained on all of WikiText-2 valid, evaluated on all of test, blocks of 128
#   2. lora  the GPT-2 trained by the workbench in 1 adapted to Tiny Shakespeare (speeches; the last
#            10% held out): workbench model.lora vs peft + Trainer (same LoraConfig, eval loss within 2%),
#            and full fine-tuning of the same base (peak GPU memory of each process)
#   3. s2s   summarization, workbench vs Seq2SeqTrainer, trained on DialogSum test's 1,500 (dialogue,
#            reference) pairs, ROUGE on dev's 500 every epoch: a T5 "small" from a config (from scratch)
#      b2b   and, beside it, a BERT2BERT warm-started from the embedded MiniLM (its fp16 copy in
#            .bench/minilm-fp16, cast to float32): pretrained weights, so its summaries follow the input
# The sides of a step run side by side on the GPU (separate processes: quality does not depend on the
# timing, and each process reports its own peak memory: torch.cuda.max_memory_allocated, the
# workbench's from its run's summary.json), each under a time limit, writing $OUT/<step>-<side>.json
# (the rows so far if stopped) and .log; $OUT/<step>.json/.txt merge them; $OUT/summary.txt ends it.
#
#   bash benchmarks/run_16_on_gpu.sh --pack   # here: copy data and tokenizer into .bench/issue16
#   bash benchmarks/run_16_on_gpu.sh          # on the GPU machine (carry .whl, .bench/issue16 and
#                                             # .bench/minilm-fp16: 61.6 MB in all)
#   TINY=1 bash benchmarks/run_16_on_gpu.sh   # the same steps with tiny sizes on the CPU (a check)
set -uo pipefail
PACK=.bench/issue16
if [ "${1:-}" = --pack ]; then
    shared=${SHARED:-/work/shared/data}
    rm -rf "$PACK" && mkdir -p "$PACK/lm/wikitext-2" "$PACK/lm/tinyshakespeare" "$PACK/dialogsum"
    cp "$shared"/lm/wikitext-2/{valid,test}.txt "$PACK/lm/wikitext-2/"
    cp "$shared"/lm/tinyshakespeare/input.txt "$PACK/lm/tinyshakespeare/"
    cp "$shared"/summarization/dialogsum/dialogsum.{dev,test}.jsonl "$PACK/dialogsum/"
    python -c "
import sys
from transformers import AutoTokenizer
from workbench.core.embedded import embedded_model_path
AutoTokenizer.from_pretrained(str(embedded_model_path())).save_pretrained(sys.argv[1])" "$PACK/tokenizer" || exit 1
    du -sh "$PACK" .whl
    exit 0
fi
[ -d "$PACK/tokenizer" ] || { echo "no $PACK: run 'bash benchmarks/run_16_on_gpu.sh --pack' first"; exit 2; }
OUT=${OUT:-/tmp/out16}
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/*.txt
ENCODER=${ENCODER:-.bench/minilm-fp16}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if ! python3 -c "import peft, datasets, rouge_score, nltk, sacrebleu, tomli_w" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site16 .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site16:$PWD
else
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
python3 -c "import torch, transformers, accelerate, datasets, peft; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'datasets', datasets.__version__, 'peft', peft.__version__)" | tee "$OUT/versions.txt"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee -a "$OUT/versions.txt"

WORK=${WORK:-/tmp/work16}
rm -rf "$WORK" && mkdir -p "$WORK"
if [ "${TINY:-0}" = 1 ]; then
    CLM=(--preset tiny --train-rows 60 --eval-rows 20 --epochs 1 --block-size 64 --batch 8 --cpu)
    LORA=(--train-rows 40 --eval-rows 10 --epochs 1 --block-size 64 --batch 8 --cpu)
    S2S=(--preset tiny --train-rows 24 --eval-rows 8 --epochs 2 --batch 8 --generation-max-length 16 --cpu)
    B2B=(--train-rows 24 --eval-rows 8 --epochs 1 --batch 8 --generation-max-length 16 --cpu --lr 5e-5)
    LIMITS=(900 900 1200)
else
    # sizes chosen to fit about 8 minutes on one H200 in fp32 (the limits stop a step that runs over)
    CLM=(--preset small --epochs 5 --block-size 128)
    LORA=(--epochs 3 --block-size 128)
    S2S=(--preset small --epochs 6 --batch 16 --eval-batch 128 --generation-max-length 64)
    B2B=(--epochs 4 --batch 16 --eval-batch 128 --generation-max-length 64 --lr 5e-5)
    LIMITS=(170 110 200)
fi
filter() { grep -v -i -E "warn|^\s*$|it/s\]|Writing model shards|examples/s\]|^Map|^Loading"; }
started=$SECONDS
PIDS=()
side() {  # step, side, limit, command...: one side of a step, in the background (the sides of a step
    local name=$1 tag=$2 limit=$3  # share the GPU; each process measures its own peak memory)
    shift 3
    timeout "$limit" "$@" --json "$OUT/$name-$tag.json" > "$OUT/$name-$tag.log" 2>&1 &
    PIDS+=($!)
}
finish() {  # step, task for the merge: wait for the sides, stop what a time limit left, merge the rows
    local name=$1 task=$2 t0=$3 pid rc
    for pid in "${PIDS[@]}"; do
        wait "$pid"
        rc=$?
        [ "$rc" = 0 ] || echo "   a $name side exited $rc (124: its time limit)" | tee -a "$OUT/steps.txt"
    done
    PIDS=()
    for pidfile in "$WORK"/*/runs/*/pid; do  # workbench runs live in their own sessions
        if [ -f "$pidfile" ] && [ ! -f "$(dirname "$pidfile")/summary.json" ]; then
            kill "$(cat "$pidfile")" 2>/dev/null
        fi
    done
    merge "$name" "$task"
    echo "== $name: $((SECONDS - t0)) s" | tee -a "$OUT/steps.txt"
}
merge() {  # step, task: its sides' logs and their rows merged into one table
    local name=$1 task=$2 log
    for log in "$OUT/$name"-*.log; do
        echo "-- $(basename "$log")"
        filter < "$log" | tail -12
    done
    python3 benchmarks/task_quality.py --task "$task" --merge "$OUT/$name"-*.json --json "$OUT/$name.json" \
        > "$OUT/$name.txt" 2>&1
    cat "$OUT/$name.txt"
}

echo "== clm: causal-LM perplexity, workbench and Trainer side by side"
t0=$SECONDS
for which in workbench trainer; do
    side clm "$which" "${LIMITS[0]}" python3 benchmarks/quality_lm.py --task clm "${CLM[@]}" --which "$which" \
        --tokenizer "$PACK/tokenizer" --data "$PACK/lm/wikitext-2" --workdir "$WORK/clm-$which"
done
finish clm clm "$t0"

echo "== lora: the workbench's GPT-2 from clm adapted to Tiny Shakespeare"
t0=$SECONDS
base=$(ls -d "$WORK"/clm-workbench/runs/*/final 2>/dev/null | head -1)
if [ -n "$base" ]; then
    for row in workbench-lora trainer-lora workbench-full; do
        side lora "$row" "${LIMITS[1]}" python3 benchmarks/quality_lm.py --task clm --lora-r 8 --lora-alpha 16 \
            --lora-dropout 0.05 --lora-rows "$row" --model "$base" "${LORA[@]}" \
            --adapt-file "$PACK/lm/tinyshakespeare/input.txt" --workdir "$WORK/lora-$row"
    done
    finish lora clm "$t0"
else
    echo "== lora: skipped (no trained GPT-2 from the clm step)" | tee -a "$OUT/steps.txt"
fi

echo "== s2s, b2b: DialogSum summarization (T5 from scratch; BERT2BERT warm-started), four processes"
t0=$SECONDS
for which in workbench trainer; do
    side s2s "$which" "${LIMITS[2]}" python3 benchmarks/quality_seq2seq.py --task summarization \
        --summaries test3-to-dev "${S2S[@]}" --which "$which" --tokenizer "$PACK/tokenizer" \
        --data "$PACK/dialogsum" --workdir "$WORK/s2s-$which"
    if [ -f "$ENCODER/config.json" ]; then
        side b2b "$which" "${LIMITS[2]}" python3 benchmarks/quality_seq2seq.py --task summarization \
            --summaries test3-to-dev "${B2B[@]}" --which "$which" --warm-start "$ENCODER" \
            --data "$PACK/dialogsum" --workdir "$WORK/b2b-$which"
    fi
done
finish s2s summarization "$t0"
[ -f "$ENCODER/config.json" ] && merge b2b summarization
[ -f "$ENCODER/config.json" ] || echo "== b2b: skipped (no $ENCODER)" | tee -a "$OUT/steps.txt"

{
    echo "== summary ($((SECONDS - started)) s in all)"
    cat "$OUT/versions.txt" "$OUT/steps.txt"
    for name in clm lora s2s b2b; do
        [ -f "$OUT/$name.txt" ] && grep -E "^(final|LoRA final|mean|warning|(workbench|trainer)-(lora|full)(:| uses))" "$OUT/$name.txt"
    done
} | tee "$OUT/summary.txt"
