#!/usr/bin/env bash
# One prepared run for a lent GPU machine: the CUDA tests, the trainer's throughput, and longer training of
# the shipped enhance models, all inside one wall-clock deadline. Results land in $OUT (at most 8 files).
#
# Prepare on the machine that sends the checkout (both folders git-ignored, e.g. in .git/info/exclude):
#   .whl/  wheels of kornia and kornia_rs for the GPU machine's Python, e.g.
#          pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_17_x86_64 \
#              -d .whl kornia==0.9.0 kornia_rs==0.2.0
#          and .whl/site/ the *.dist-info folders of imggan, imggan-inpaint and imggan-enhance (pip wheel --no-deps
#          the three, pip install --no-deps --target T, copy T/*.dist-info): their entry points. The code itself
#          is imported from this checkout (weights included), so nothing is copied twice.
#   .gpu/train/  the training images of `imggan data fetch`; lossless WebP copies (cv2.IMWRITE_WEBP_QUALITY 101)
#          are pixel-identical and ~40 % smaller than the PNGs (the checkout travels with a size limit).
# Environment: OUT (results), DEADLINE (seconds from start for everything, default 520), DEVICE (cuda),
#   BATCH / CROP (training batch and crop side, default 32 / 128), PY (python3), RUNS (which runs, default
#   "A B C"; D E F train the upscalers), PROBE (seconds, default 40), SKIP_CHECKS (set: train only), WHEELS.
# Each run's steps are set so that its cosine learning-rate schedule ends inside the deadline: all runs first
# train PROBE seconds at once, their measured steps/s times the time left gives the step count.
# Inpainting (RUNS="I"): fine-tunes the shipped inpainter (converted to the resize head first when its card says
#   shuffle) with the default adversarial objective; its object-shaped holes come from .gpu/masks/train (copy
#   ROOT/masks/train of `imggan data fetch` there). Choose its checkpoint afterwards on the CPU with
#   benchmarks/inpaint_select.py (validation split), never on the benchmark's test split.
# Session 3 ran: DEADLINE=515 (A B C with the checks), then RUNS="D E F" SKIP_CHECKS=1 PROBE=25 DEADLINE=215.
# A CPU rehearsal (WHEELS: a folder holding kornia's py3 wheel and site/):
#   DEVICE=cpu BATCH=2 CROP=64 DEADLINE=150 PROBE=20 OUT=/tmp/o bash benchmarks/gpu_session.sh
set -u
START=$(date +%s)
OUT=${OUT:-/tmp/imggan-gpu-out}
DEADLINE=${DEADLINE:-520}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-32}
CROP=${CROP:-128}
PY=${PY:-python3}
RUNS=${RUNS:-"A B C"}
DATA=${DATA:-.gpu/train}
WORK=${WORK:-/tmp/imggan-gpu-runs}
WEIGHTS=plugins/imggan-enhance/imggan_enhance/weights
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$WORK"
LOG="$OUT/session.log"
elapsed() { echo $(($(date +%s) - START)); }
say() { echo "[$(elapsed) s] $*" | tee -a "$LOG"; }

WHEELS=${WHEELS:-$PWD/.whl}
if [ -d "$WHEELS" ]; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
        || { say "wheel install failed"; exit 1; }
    export PYTHONPATH="/tmp/site:$WHEELS/site:$PWD:$PWD/plugins/imggan-inpaint:$PWD/plugins/imggan-enhance"
fi
say "machine: $(nproc) CPUs; $(nvidia-smi -L 2>/dev/null | head -1)"
"$PY" - >>"$LOG" 2>&1 <<'EOF'
import torch, kornia, cv2, imggan.plugins as p
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-", "kornia", kornia.__version__, "cv2", cv2.__version__)
EOF
"$PY" -m imggan plugins >>"$LOG" 2>&1 || { say "imggan plugins failed"; cat "$LOG"; exit 1; }

if [ -z "${SKIP_CHECKS:-}" ]; then
# 1. CUDA tests (skipped, not failed, where no CUDA device is present)
say "gpu tests"
timeout 120 "$PY" -m pytest -q -m gpu -p no:cacheprovider tests plugins >"$OUT/gpu_tests.log" 2>&1
say "gpu tests exit $? : $(tail -1 "$OUT/gpu_tests.log")"

# 2. trainer throughput, eager (bf16 autocast on CUDA vs the fp32 reference loop)
say "throughput"
timeout 90 "$PY" benchmarks/train_throughput.py --device "$DEVICE" --steps 30 --warmup 5 >"$OUT/throughput.md" 2>&1
say "throughput exit $?"
fi

# 3. training runs: A = the shipped denoiser trained on, B = a wider denoiser from scratch, C = JPEG remover,
#    D / E = the x4 / x2 upscalers trained on, F = the sharp x4 variant's adversarial fine-tune trained on
#    (options after the common ones win: D and F train on larger crops)
common=(--data "$DATA" --device "$DEVICE" --quiet --set crop="$CROP" --set batch_size="$BATCH" --set amp=false
    --set lr_schedule=cosine --set ckpt_every=1000 --set keep_last=1 --set sample_every=0 --set log_every=20
    --set tensorboard=false --set threads=4 --set 'betas=[0.9, 0.999]' --set grad_clip=1.0 --set ema_beta=0.999)
run_args() {
    case $1 in
    A) echo "denoise --init $WEIGHTS/denoise.safetensors --set lr_g=1e-4 --set lr_warmup=200" ;;
    B) echo "denoise --set arch.width=48 --set arch.blocks=[2,2,2,3] --set arch.max_width=192 --set lr_g=5e-4 --set lr_warmup=500" ;;
    C) echo "denoise --init $WEIGHTS/denoise.safetensors --set degradation=jpeg --set jpeg_quality=[10,70] --set lr_g=2e-4 --set lr_warmup=200" ;;
    D) echo "upscale --init $WEIGHTS/upscale-x4.safetensors --set scale=4 --set crop=192 --set lr_g=2e-4 --set lr_warmup=200" ;;
    E) echo "upscale --init $WEIGHTS/upscale-x2.safetensors --set scale=2 --set lr_g=2e-4 --set lr_warmup=200" ;;
    I) echo "inpaint --init $INPAINT_INIT --set lr_g=1e-4 --set lr_d=2e-4 --set betas=[0.5,0.99] --set grad_clip=0.5 --set lr_warmup=100" ;;
    F) echo "upscale --init $WEIGHTS/upscale-sharp-x4.safetensors --set scale=4 --set crop=192 --loss l1=1,adv=0.01,fm=1 --set lr_g=1e-4 --set lr_d=2e-4 --set betas=[0.5,0.99] --set lr_warmup=100" ;;
    esac
}
train() {  # train NAME RUN_DIR STEPS SECONDS
    local -
    set -f  # the [..] of list values are no globs
    # shellcheck disable=SC2046
    local args
    args=$(run_args "$1")
    timeout -s TERM "$4" "$PY" -m imggan train ${args%% *} "${common[@]}" ${args#* } --out "$2" --steps "$3" >"$2.log" 2>&1
}

INPAINT_INIT=${INPAINT_INIT:-$WORK/inpaint-init.safetensors}
case " $RUNS " in *" I "*)
    "$PY" - "$INPAINT_INIT" >>"$LOG" 2>&1 <<'EOF'
import sys
from imggan.weights import load_weights, save_weights
from imggan_inpaint.models import build_generator, shuffle_to_resize
tensors, card = load_weights("plugins/imggan-inpaint/imggan_inpaint/weights/inpaint-small.safetensors")
if card["arch"].get("upsample", "shuffle") == "shuffle":  # the older head paints a 2-px grid: average it away
    tensors, card["arch"]["upsample"] = shuffle_to_resize(tensors), "resize"
generator = build_generator(card["arch"])
generator.load_state_dict(tensors)
save_weights(sys.argv[1], generator.state_dict(), card)
print("inpaint init:", sys.argv[1], card["arch"])
EOF
    ;;
esac

PROBE=${PROBE:-40}  # seconds of all runs at once, to measure their steps/s
say "probe ($PROBE s, all runs at once)"
for name in $RUNS; do rm -rf "$WORK/probe-$name"; train "$name" "$WORK/probe-$name" 1000000 "$PROBE" & done
wait
left=$((DEADLINE - $(elapsed) - 45))
declare -A STEPS
for name in $RUNS; do
    STEPS[$name]=$("$PY" - "$WORK/probe-$name/log.jsonl" "$left" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if '"g/total"' in line]
rows = rows[len(rows) // 3:] if len(rows) >= 3 else rows  # skip the warm-up
rate = (rows[-1]["step"] - rows[0]["step"]) / max(rows[-1]["time"] - rows[0]["time"], 1e-9) if len(rows) > 1 else 1.0
print(max(int(rate * float(sys.argv[2]) * 0.9), 100))
EOF
)
    say "run $name: $(run_args "$name") -> ${STEPS[$name]} steps in ~$left s"
done
for name in $RUNS; do rm -rf "$WORK/$name"; train "$name" "$WORK/$name" "${STEPS[$name]}" "$((left + 15))" & done
wait
say "training done"

# 4. export (a run stopped by the timeout exports its newest checkpoint) and pack
for name in $RUNS; do
    run="$WORK/$name"
    ls "$run"/export/*.safetensors >/dev/null 2>&1 || "$PY" -m imggan train "$(run_args "$name" | cut -d' ' -f1)" --out "$run" --export >>"$run.log" 2>&1
    "$PY" - "$run" <<'EOF'
import sys
from pathlib import Path
from safetensors.torch import load_file, save_file
from safetensors import safe_open
for path in Path(sys.argv[1]).glob("export/*.safetensors"):  # fp16 copies where fp32 would not come back (16 MiB)
    if path.stat().st_size > 15_500_000:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata()
        save_file({k: v.half() for k, v in load_file(str(path)).items()}, str(path), metadata=meta)
EOF
    tail -3 "$run/log.jsonl" >>"$LOG" 2>/dev/null
    (cd "$WORK" && tar czf "$OUT/run-$name.tgz" "$name"/export/*.safetensors "$name"/export/*.json "$name"/log.jsonl "$name.log" 2>>"$LOG")
    say "packed $name: $(ls -la "$OUT/run-$name.tgz" | awk '{print $5}') bytes"
done

# 5. if time is left: throughput with torch.compile
left=$((DEADLINE - $(elapsed) - 5))
if [ "$left" -gt 40 ] && [ -z "${SKIP_CHECKS:-}" ]; then
    say "throughput with compile ($left s left)"
    timeout "$left" "$PY" benchmarks/train_throughput.py --device "$DEVICE" --steps 30 --warmup 5 --compile \
        >"$OUT/throughput-compile.md" 2>&1
    say "compile throughput exit $?"
fi
say "done"
