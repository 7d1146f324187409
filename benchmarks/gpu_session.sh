#!/usr/bin/env bash
# One prepared run for a lent GPU machine: the CUDA tests, the trainer's throughput, and longer training of
# the shipped models (enhance, inpaint, generate), all inside one wall-clock deadline. Results land in $OUT (at most 8 files).
#
# Prepare on the machine that sends the checkout (both folders git-ignored, e.g. in .git/info/exclude):
#   .whl/  wheels of kornia and kornia_rs for the GPU machine's Python, e.g.
#          pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_17_x86_64 \
#              -d .whl kornia==0.9.0 kornia_rs==0.2.0
#          and .whl/site/ the *.dist-info folders of imggan and of every head under plugins/ (pip wheel --no-deps
#          each, pip install --no-deps --target T, copy T/*.dist-info): their entry points. The code itself
#          is imported from this checkout (every plugins/*/ folder is on PYTHONPATH, weights included), so
#          nothing is copied twice.
#   .gpu/train/  the training images of `imggan data fetch`; lossless WebP copies (cv2.IMWRITE_WEBP_QUALITY 101)
#          are pixel-identical and ~40 % smaller than the PNGs (the checkout travels with a size limit).
# Environment: OUT (results), DEADLINE (seconds from start for everything, default 520), DEVICE (cuda),
#   BATCH / CROP (training batch and crop side, default 32 / 128), PY (python3), THREADS (per run, 4),
#   RUNS (which runs, default "A B C"; D E F train the upscalers, I the inpainter, G the generators),
#   PROBE (seconds, default 40), SKIP_CHECKS (set: train only), WHEELS.
# Each run's steps are set so that its cosine learning-rate schedule ends inside the deadline: all runs first
# train PROBE seconds at once, their measured steps/s times the time left gives the step count.
# Inpainting (RUNS="I"): fine-tunes the shipped inpainter (converted to the resize head first when its card says
#   shuffle, and given the zero-initialised texture head when its card has no noise) with the default
#   adversarial objective (hole_l1, hole_grad, hole_pattern, hole_swd, adv, fm); its object-shaped holes
#   come from .gpu/masks/train (copy ROOT/masks/train of `imggan data fetch` there). Choose its checkpoint
#   afterwards on the CPU with benchmarks/inpaint_select.py (validation split), never on the test split.
# Generation (RUNS="G"): one run per model card in plugins/imggan-generate/imggan_generate/weights/*.json
#   (G-digits, G-faces, ...), each the card's own `imggan train generate` command from scratch (its data,
#   resolution, conditioning, architecture and optimiser settings as recorded; scikit-learn's digits and
#   scikit-image's LFW subset ship inside those packages, which the GPU image has), with only the run's
#   bookkeeping replaced (--out, --steps from the probe, --device, threads, logging, checkpoints: 8 of them,
#   each with its sample grid and the recipe's validation scores (eval/swd, eval/label_acc) in log.jsonl;
#   GEN_EVAL_S, default 10, is the time allowed per scoring). The checkpoint is chosen on those scores by the
#   cards' rule (lowest SWD to the validation split among those with label accuracy >= 0.97) and exported;
#   run-G-NAME.tgz holds export/generate.safetensors/.json, that checkpoint, log.jsonl, config.json and the
#   sample grids, so `python -m imggan.cards RUN/export/generate.safetensors GEN_WEIGHTS --name NAME --file NAME
#   --command "..." --run RUN ...` ships it on the CPU after the samples were looked at and benchmarks/generate.py
#   scored it on the test split.
# Style (RUNS="S"): trains the `swamp` style (the shipped card's recipe: StyleNet with its fixed colour stage,
#   norm_eps 1e-2) from scratch on the GPU's larger batches; copy ~/.cache/imggan/runs/style/refs/train-swamp.jpg
#   (Wesnoth story art swamp-02.jpg; `imggan data fetch --style-refs` makes it) to .gpu/style/ first. Not yet run on a GPU; the CPU rehearsal
#   DEVICE=cpu RUNS=S SKIP_CHECKS=1 DEADLINE=150 PROBE=20 THREADS=1 BATCH=4 DATA=~/.cache/imggan/data/train
#   trained 181 steps and packed run-S.tgz (export with its colour stage). Only the last checkpoint is kept
#   (common's keep_last=1): score it on the CPU with benchmarks/style.py --split val --trained
#   RUN/export/stylize.safetensors (validation contents) against the shipped card's figures, never on the test split.
# Session 3 ran: DEADLINE=515 (A B C with the checks), then RUNS="D E F" SKIP_CHECKS=1 PROBE=25 DEADLINE=215.
# A CPU rehearsal (WHEELS: a folder holding kornia's py3 wheel and site/):
#   DEVICE=cpu BATCH=2 CROP=64 DEADLINE=150 PROBE=20 OUT=/tmp/o bash benchmarks/gpu_session.sh
#   DEVICE=cpu RUNS=G SKIP_CHECKS=1 DEADLINE=240 PROBE=40 THREADS=1 GEN_EVAL_S=20 OUT=/tmp/o bash benchmarks/gpu_session.sh
set -u
START=$(date +%s)
OUT=${OUT:-/tmp/imggan-gpu-out}
DEADLINE=${DEADLINE:-520}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-32}
CROP=${CROP:-128}
PY=${PY:-python3}
THREADS=${THREADS:-4}  # torch threads per run (a CPU rehearsal on a shared machine: 1)
RUNS=${RUNS:-"A B C"}
DATA=${DATA:-.gpu/train}
WORK=${WORK:-/tmp/imggan-gpu-runs}
WEIGHTS=plugins/imggan-enhance/imggan_enhance/weights
GEN_WEIGHTS=plugins/imggan-generate/imggan_generate/weights
export PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$WORK"
LOG="$OUT/session.log"
elapsed() { echo $(($(date +%s) - START)); }
say() { echo "[$(elapsed) s] $*" | tee -a "$LOG"; }

WHEELS=${WHEELS:-$PWD/.whl}
if [ -d "$WHEELS" ]; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
        || { say "wheel install failed"; exit 1; }
    PYTHONPATH="/tmp/site:$WHEELS/site:$PWD"
    for head in "$PWD"/plugins/*/; do PYTHONPATH="$PYTHONPATH:${head%/}"; done
    export PYTHONPATH
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
timeout 240 "$PY" benchmarks/train_throughput.py --device "$DEVICE" --steps 30 --warmup 5 >"$OUT/throughput.md" 2>&1  # both sizes
say "throughput exit $?"
fi

# 3. training runs: A = the shipped denoiser trained on, B = a wider denoiser from scratch, C = JPEG remover,
#    D / E = the x4 / x2 upscalers trained on, F = the sharp x4 variant's adversarial fine-tune trained on
#    (options after the common ones win: D and F train on larger crops)
common=(--data "$DATA" --device "$DEVICE" --quiet --set crop="$CROP" --set batch_size="$BATCH" --set amp=false
    --set lr_schedule=cosine --set ckpt_every=1000 --set keep_last=1 --set sample_every=0 --set log_every=20
    --set tensorboard=false --set threads="$THREADS" --set 'betas=[0.9, 0.999]' --set grad_clip=1.0 --set ema_beta=0.999)
run_args() {
    case $1 in
    A) echo "denoise --init $WEIGHTS/denoise.safetensors --set lr_g=1e-4 --set lr_warmup=200" ;;
    B) echo "denoise --set arch.width=48 --set arch.blocks=[2,2,2,3] --set arch.max_width=192 --set lr_g=5e-4 --set lr_warmup=500" ;;
    C) echo "denoise --init $WEIGHTS/denoise.safetensors --set degradation=jpeg --set jpeg_quality=[10,70] --set lr_g=2e-4 --set lr_warmup=200" ;;
    D) echo "upscale --init $WEIGHTS/upscale-x4.safetensors --set scale=4 --set crop=192 --set lr_g=2e-4 --set lr_warmup=200" ;;
    E) echo "upscale --init $WEIGHTS/upscale-x2.safetensors --set scale=2 --set lr_g=2e-4 --set lr_warmup=200" ;;
    I) echo "inpaint --init $INPAINT_INIT --set lr_g=1e-4 --set lr_d=2e-4 --set betas=[0.5,0.99] --set grad_clip=0.5 --set lr_warmup=100" ;;
    G-*) cat "$WORK/$1.args" ;;  # written from the model card below
    S) echo "style --style .gpu/style/train-swamp.jpg --name swamp --set crop=96 --set lr_g=1e-3 --set lr_d=2e-4 --set betas=[0.5,0.99] --set grad_clip=0 --set ema_beta=0.99 --set lr_warmup=100" ;;
    F) echo "upscale --init $WEIGHTS/upscale-sharp-x4.safetensors --set scale=4 --set crop=192 --loss l1=1,adv=0.01,fm=1 --set lr_g=1e-4 --set lr_d=2e-4 --set betas=[0.5,0.99] --set lr_warmup=100" ;;
    esac
}
train() {  # train NAME RUN_DIR STEPS SECONDS
    local -
    set -f  # the [..] of list values are no globs
    # shellcheck disable=SC2046
    local args
    args=$(run_args "$1")
    local base=("${common[@]}")
    case $1 in G-*)  # the card's own settings; 8 checkpoints, each with its sample grid and validation scores
        local every=$(($3 / 8 > 50 ? $3 / 8 : 50))
        base=(--device "$DEVICE" --quiet --set tensorboard=false --set threads="$THREADS" --set log_every=20
            --set sample_every="$every" --set ckpt_every="$every" --set keep_last=8) ;;
    esac
    timeout -s TERM "$4" "$PY" -m imggan train ${args%% *} "${base[@]}" ${args#* } --out "$2" --steps "$3" >"$2.log" 2>&1
}

# G expands into one run per generation model card: its recorded command minus the run's bookkeeping
case " $RUNS " in *" G "*)
    gen_runs=""
    for card in "$GEN_WEIGHTS"/*.json; do
        name="G-$(basename "$card" .json)"
        "$PY" - "$card" >"$WORK/$name.args" 2>>"$LOG" <<'EOF'
import json, shlex, sys
card = json.load(open(sys.argv[1]))
words = shlex.split(card.get("command") or (card.get("commands") or [""])[0])  # old cards: command; core: commands
assert words[:3] == ["imggan", "train", "generate"] and card.get("task") == "generate", card.get("command")
dropped_values = {"--out", "--steps", "--device", "--init"}  # the run's own (from scratch, steps from the probe)
dropped_sets = {"threads", "tensorboard", "sample_every", "ckpt_every", "keep_last", "log_every", "progress", "device"}
kept, i = [], 3
while i < len(words):
    word = words[i]
    if word in dropped_values:
        i += 2
        continue
    if word == "--set" and words[i + 1].split("=", 1)[0] in dropped_sets:
        i += 2
        continue
    if word not in ("--quiet", "-q", "--resume"):
        kept.append(word)
    i += 1
assert not any(" " in w for w in kept), kept  # the script splits the arguments on spaces
print("generate", *kept)
EOF
        if [ -s "$WORK/$name.args" ]; then gen_runs="$gen_runs $name"; else say "skipped $card: no usable command"; fi
    done
    RUNS=$(echo " $RUNS " | sed "s/ G / $gen_runs /; s/^ *//; s/ *$//")
    say "G runs:$gen_runs"
    ;;
esac

INPAINT_INIT=${INPAINT_INIT:-$WORK/inpaint-init.safetensors}
case " $RUNS " in *" I "*)
    "$PY" - "$INPAINT_INIT" >>"$LOG" 2>&1 <<'EOF'
import sys
from imggan.weights import load_weights, save_weights
from imggan_inpaint.models import add_texture_head, build_generator, shuffle_to_resize
tensors, card = load_weights("plugins/imggan-inpaint/imggan_inpaint/weights/inpaint-small.safetensors")
if card["arch"].get("upsample", "shuffle") == "shuffle":  # the older head paints a 2-px grid: average it away
    tensors, card["arch"]["upsample"] = shuffle_to_resize(tensors), "resize"
if not card["arch"].get("noise"):  # no texture head yet: add it, zero-initialised (same fills until trained)
    card["arch"]["noise"] = True
    tensors = add_texture_head(tensors, build_generator(card["arch"]))
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
GEN_EVAL_S=${GEN_EVAL_S:-10}  # seconds a G run spends on each of its 8 validation scorings (not in the probe)
for name in $RUNS; do
    budget=$left
    case $name in G-*) budget=$((left - 9 * GEN_EVAL_S > 30 ? left - 9 * GEN_EVAL_S : 30)) ;; esac
    STEPS[$name]=$("$PY" - "$WORK/probe-$name/log.jsonl" "$budget" <<'EOF'
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if '"g/total"' in line] if os.path.exists(sys.argv[1]) else []
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
pack_generator() {  # G runs: export the checkpoint chosen on the validation scores, pack it with the run's record
    local name=$1 run="$WORK/$1" chosen
    chosen=$("$PY" - "$run/log.jsonl" "$run/checkpoints" <<'EOF'
import json, sys
from pathlib import Path
scores = {}
for line in open(sys.argv[1]):
    row = json.loads(line)
    if "eval/swd" in row and Path(sys.argv[2], f"step-{row['step']:08d}.safetensors").is_file():
        scores[row["step"]] = row
labelled = {s: r for s, r in scores.items() if r.get("eval/label_acc", 1.0) >= 0.97} or scores
# the cards' rule: the lowest SWD to the validation split among checkpoints whose samples are of their labels
print(min(labelled, key=lambda s: labelled[s]["eval/swd"]) if labelled else "")
EOF
)
    if [ -n "$chosen" ]; then
        say "$name: checkpoint $chosen chosen on the validation scores: $(grep "\"step\": $chosen, .*eval/" "$run/log.jsonl")"
        "$PY" -m imggan train generate --out "$run" --export --checkpoint "$chosen" >>"$run.log" 2>&1
    else
        say "$name: no scored checkpoint; exporting the newest"
        "$PY" -m imggan train generate --out "$run" --export >>"$run.log" 2>&1
        chosen=$(ls "$run"/checkpoints/step-*.safetensors 2>/dev/null | tail -1 | sed 's/.*step-0*//; s/\.safetensors//')
    fi
    local ckpt
    ckpt=$(printf 'step-%08d' "${chosen:-0}")
    (cd "$WORK" && tar czf "$OUT/run-$name.tgz" "$name"/export/generate.safetensors "$name"/export/generate.json "$name"/log.jsonl \
        "$name"/config.json "$name"/samples "$name"/checkpoints/"$ckpt".* "$name.log" 2>>"$LOG")
    say "packed $name (checkpoint $chosen): $(ls -la "$OUT/run-$name.tgz" | awk '{print $5}') bytes"
}
for name in $RUNS; do
    run="$WORK/$name"
    case $name in G-*) pack_generator "$name"; continue ;; esac
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
