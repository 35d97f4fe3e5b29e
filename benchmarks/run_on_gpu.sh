#!/usr/bin/env bash
# Runs the GPU benchmarks on a lent GPU machine (see benchmarks/RESULTS.md for how it was called).
# Expects wheels in .whl/ (datasets, evaluate, dill, multiprocess, fsspec, tomli_w, pyarrow) and
# .bench/ with tokenizer/ (the embedded model's tokenizer) and train.tsv (MRPC).
# Usage: bash benchmarks/run_on_gpu.sh one|profile|compile|precise|two   (results land in $OUT)
set -uo pipefail
mode=${1:-one}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
wheels=$(ls .whl/*.whl | grep -v pyarrow)
if ! python3 -c "import pyarrow, sys; sys.exit(int(pyarrow.__version__.split('.')[0]) < 24)" 2>/dev/null; then
    wheels="$wheels $(ls .whl/pyarrow-*.whl)"
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $wheels || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv | tee "$OUT/gpus.csv"
python3 -c "import torch, transformers, accelerate, datasets; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'datasets', datasets.__version__)" | tee "$OUT/versions.txt"
common=(--mrpc .bench/train.tsv --tokenizer .bench/tokenizer --steps 300 --warmup 60)
if [ "$mode" = one ]; then
    python3 benchmarks/gpu_throughput.py "${common[@]}" --batch 128 32 --overhead --json "$OUT/one_gpu.json" 2>&1 | grep -v -i "warn" | tee "$OUT/one_gpu.log"
elif [ "$mode" = precise ]; then
    python3 benchmarks/gpu_throughput.py "${common[@]}" --steps 600 --warmup 100 --batch 128 --skip-trainer --overhead --json "$OUT/overhead.json" 2>&1 | grep -v -i warn | tail -6 | tee "$OUT/overhead.log"
    timeout 200 python3 benchmarks/gpu_throughput.py "${common[@]}" --batch 128 --skip-trainer --compile --json "$OUT/compile.json" 2>&1 | grep -v -i warn | tail -6 | tee "$OUT/compile.log"
elif [ "$mode" = compile ]; then
    # Trainer, eager and torch.compile with CUDA graphs (the spec's default compile_mode), batch 128.
    python3 benchmarks/gpu_throughput.py "${common[@]}" --steps 500 --warmup 150 --batch 128 --compile --json "$OUT/compile.json" 2>&1 | grep -v -i "warn" | tail -8 | tee "$OUT/compile.log"
elif [ "$mode" = profile ]; then
    python3 benchmarks/gpu_profile.py --compile 2>&1 | grep -v -i "warn" | tee "$OUT/profile.log"
    python3 benchmarks/gpu_throughput.py "${common[@]}" --batch 128 --skip-trainer --compile --json "$OUT/compile.json" 2>&1 | grep -v -i "warn" | tail -8 | tee "$OUT/compile.log"
else
    python3 benchmarks/gpu_throughput.py "${common[@]}" --batch 128 --skip-trainer --processes 2 --fsdp --json "$OUT/two_gpu.json" 2>&1 | grep -v -i "warn" | tee "$OUT/two_gpu.log"
    python3 benchmarks/gpu_stop_resume.py --mrpc .bench/train.tsv --tokenizer .bench/tokenizer --processes 2 --steps 300 --stop-after 100 --json "$OUT/resume_ddp.json" 2>&1 | grep -v -i "warn" | tail -30 | tee "$OUT/resume_ddp.log"
    python3 benchmarks/gpu_stop_resume.py --mrpc .bench/train.tsv --tokenizer .bench/tokenizer --processes 2 --fsdp --steps 300 --stop-after 100 --json "$OUT/resume_fsdp.json" 2>&1 | grep -v -i "warn" | tail -30 | tee "$OUT/resume_fsdp.log"
fi
