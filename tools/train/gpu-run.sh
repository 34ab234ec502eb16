#!/bin/bash
# Trains the full TTSR configuration on a lent GPU machine, one 10-minute command at a time.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
#
#   tools/train/gpu-run.sh prepare          here: photos + validation pairs
#                                           (+ the last returned checkpoint) into
#                                           .datasets/gpu-in/; prints the device call
#   tools/train/gpu-run.sh train [OPTIONS]  there, from the repository root: pairs,
#                                           training, results under $OUT
#   tools/train/gpu-run.sh collect DIR      here: joins what came back (DIR) into
#                                           .datasets/gpu-out/model.safetensors
#
# train options: --minutes M (training loop budget, default 7), --deadline S (the
# whole command's, default 560 s), --dry-run (the same path on CPU: 1+1+1+1,
# n_feats 8, 2 iterations, 1 thread, tiny crops), --objective rec|full (train.py's:
# full adds the perceptual, transferal perceptual and WGAN-GP terms).
# Environment (the test points these at temporary folders):
#   GPU_RUN_PHOTOS  photo root (default ../shared/datasets)
#   GPU_RUN_IN      what travels (default .datasets/gpu-in)
#   GPU_RUN_OUTDIR  collected results, previous checkpoint (default .datasets/gpu-out)
#   GPU_RUN_HR_SIZE, GPU_RUN_VAL_SIZE, GPU_RUN_PER_IMAGE  make_pairs sizes (160, 192, 4)
#   PYTHON          interpreter (default python3)
# See data/README.md, "GPU run".
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}
IN=${GPU_RUN_IN:-$REPO/.datasets/gpu-in}
OUTDIR=${GPU_RUN_OUTDIR:-$REPO/.datasets/gpu-out}
PHOTOS=${GPU_RUN_PHOTOS:-$REPO/../shared/datasets}
HR_SIZE=${GPU_RUN_HR_SIZE:-160}
VAL_SIZE=${GPU_RUN_VAL_SIZE:-192}
PER_IMAGE=${GPU_RUN_PER_IMAGE:-4}
LIMIT=$((64 * 1024 * 1024))

die() { echo "gpu-run: $*" >&2; exit 1; }

prepare() {
    [ -d "$PHOTOS/t91" ] || die "no photos under $PHOTOS (set GPU_RUN_PHOTOS)"
    rm -rf "$IN"
    mkdir -p "$IN"
    # Validation: the 19 Set5/Set14 pairs made here, losslessly, by the same
    # make_pairs.py call as local runs: the scores stay comparable with the
    # local ones, and the 192-pixel crops (3.7 MiB) are smaller than the
    # photos (5.6 MiB).
    local src
    src=$(mktemp -d)
    ln -s "$(cd "$PHOTOS/set5" && pwd)" "$src/set5"
    ln -s "$(cd "$PHOTOS/set14" && pwd)" "$src/set14"
    "$PY" "$HERE/make_pairs.py" --src "$src" --out "$IN/valpairs" \
        --val-size "$VAL_SIZE" --hr-size "$HR_SIZE" >/dev/null
    rm -rf "$src" "$IN/valpairs/train"
    # The previous run's checkpoint: F16 weights + the iteration count.
    if [ -f "$OUTDIR/model.safetensors" ] && [ -f "$OUTDIR/state.json" ]; then
        mkdir -p "$IN/ckpt"
        cp "$OUTDIR/model.safetensors" "$OUTDIR/state.json" "$IN/ckpt/"
        echo "checkpoint: $OUTDIR (iteration $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"]["iter"])' "$OUTDIR/state.json"))"
    else
        echo "checkpoint: none in $OUTDIR (the run starts from the shipped model, grown to 16+16+8+4)"
    fi
    local tree carried total
    tree=$(cd "$REPO" && git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
    # Training photos within what the transfer leaves (64 MiB less the
    # working tree, the validation pairs, the checkpoint and 4 MiB for the
    # tree to grow): see gpu_run.py photos.
    local used
    used=$((tree + $(du -sb "$IN" | cut -f1) + 4 * 1024 * 1024))
    "$PY" "$HERE/gpu_run.py" photos "$PHOTOS" "$IN/photos" $((LIMIT - used))
    carried=$(du -sb "$IN" | cut -f1)
    total=$((tree + carried))
    awk -v t="$tree" -v c="$carried" -v n="${IN#"$REPO"/}" 'BEGIN {
        m = 1048576; printf "size: working tree %.1f MiB + %s %.1f MiB = %.1f MiB (limit 64 MiB)\n",
        t / m, n, c / m, (t + c) / m }'
    [ "$total" -le "$LIMIT" ] || die "over the 64 MiB transfer limit"
    case $IN in
        "$REPO"/*) ;;
        *) echo "note: $IN is outside the repository; the device run needs it at .datasets/gpu-in" ;;
    esac
    echo "device run: carry [\"${IN#"$REPO"/}\"]"
    echo "            command \"bash tools/train/gpu-run.sh train\"  timeout_s 600"
}

train() {
    local minutes=7 deadline=560 dry=0 objective=rec
    while [ $# -gt 0 ]; do
        case $1 in
            --minutes) minutes=$2; shift 2 ;;
            --deadline) deadline=$2; shift 2 ;;
            --dry-run) dry=1; shift ;;
            --objective) objective=$2; shift 2 ;;
            *) die "train: unknown option $1" ;;
        esac
    done
    [ -d "$IN/photos" ] || die "no $IN/photos: run 'prepare' first (and carry it)"
    if [ -z "${OUT:-}" ]; then
        [ "$dry" = 1 ] || die "OUT is not set"
        OUT=$(mktemp -d)
    fi
    mkdir -p "$OUT"
    local work
    work=$(mktemp -d)
    # Everything printed also goes to $OUT/train.log.
    exec > >(tee -a "$OUT/train.log") 2>&1
    local tee_pid=$!
    echo "gpu-run train: $(date -u) minutes $minutes dry-run $dry OUT $OUT work $work"
    local t0 jobs cfg
    t0=$(date +%s)
    jobs=$(nproc 2>/dev/null || echo 4)
    if [ "$dry" = 1 ]; then
        jobs=1
        cfg=(--config 1+1+1+1 --n-feats 8 --batch 2 --lr-crop 8 --device cpu
             --threads 1 --log-every 1)
        export GPU_RUN_RESUME_BATCHES=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
    else
        cfg=(--config 16+16+8+4 --n-feats 64 --batch 9 --lr-crop 40 --device cuda
             --log-every 50)
        command -v nvidia-smi >/dev/null && nvidia-smi -L || true
    fi
    # Pairs: make_pairs.py on $jobs chunks of the photos at once.
    "$PY" "$HERE/gpu_run.py" chunks "$IN/photos" "$work/chunks" "$jobs"
    mkdir -p "$work/pairs/train"
    seq 0 $((jobs - 1)) | xargs -P "$jobs" -I{} "$PY" "$HERE/make_pairs.py" \
        --src "$work/chunks/{}/photos" --out "$work/pairs/train/{}" \
        --hr-size "$HR_SIZE" --per-image "$PER_IMAGE" >/dev/null
    "$PY" "$HERE/gpu_run.py" merge "$work/pairs" "$jobs"
    cp -r "$IN/valpairs/val" "$work/pairs/val"
    echo "pairs: $(($(date +%s) - t0)) s"
    local run=$work/run
    # --warmup 300 as the local recipe: counted from iteration 0, so a resumed
    # run past it has none (gpu_run.py resume gives it a gentle restart).
    local args=(--pairs "$work/pairs" --run "$run" "${cfg[@]}" --f16
                --warmup 300 --val-minutes 3 --objective "$objective")
    # A first run starts from the shipped model grown to the full depth
    # (identity ResBlocks: it begins at the shipped model's quality); the
    # dry run's tiny width cannot hold it.
    local init=(--init main)
    [ "$dry" = 1 ] && init=(--init structured)
    if [ -f "$IN/ckpt/model.safetensors" ]; then
        "$PY" "$HERE/gpu_run.py" resume "$run" "$IN/ckpt" -- "${args[@]}"
        # train.py initialises before it loads RUN/last.pt: the same weights.
        init=(--init "$IN/ckpt/model.safetensors")
    fi
    # The whole command ends by --deadline seconds (default 560, inside the
    # device's 600): train.py gets what is left less 25 s for packing, and its
    # training loop that less 100 s (start-up: imports, CUDA, loading the
    # pairs; the final validation and export), at most --minutes.
    local limit
    limit=$((deadline - ($(date +%s) - t0) - 25))
    [ "$limit" -gt 120 ] || die "only $limit s left for train.py: raise --deadline"
    minutes=$(awk -v m="$minutes" -v l="$limit" 'BEGIN {
        c = (l - 100) / 60; if (c < m) m = c; if (m < 0.1) m = 0.1; printf "%.2f", m }')
    echo "train.py: --minutes $minutes, stopped by SIGTERM after $limit s"
    if [ "$dry" = 1 ]; then
        local it=0
        [ -f "$IN/ckpt/state.json" ] && it=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"]["iter"])' "$IN/ckpt/state.json")
        args+=(--max-iters $((it + 2)) --minutes 1)
    else
        args+=(--minutes "$minutes")
    fi
    # train.py stops itself after --minutes (plus a validation and the
    # export); the timeout's SIGTERM is a backstop it also stops cleanly on.
    timeout -k 20 "$limit" "$PY" "$HERE/train.py" "${args[@]}" "${init[@]}" || {
        rc=$?
        echo "train.py exited $rc"
        [ -f "$run/model.safetensors" ] || exit "$rc"
    }
    "$PY" "$HERE/gpu_run.py" pack "$run" "$OUT"
    rm -rf "$work"
    echo "gpu-run train: done in $(($(date +%s) - t0)) s"
    "$PY" "$HERE/gpu_run.py" check "$OUT"
    exec >/dev/null 2>&1
    wait "$tee_pid" 2>/dev/null || true
}

collect() {
    [ $# -eq 1 ] || die "collect DIR (the folder the device's files came back in)"
    [ -f "$1/state.json" ] || die "$1/state.json missing"
    "$PY" "$HERE/gpu_run.py" join "$1" "$OUTDIR"
    "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import st_io
t, m = st_io.read(sys.argv[2])
print("collect: %s loads: %d tensors, config %s n_feats %s, iteration %s, val %s" % (
    sys.argv[2], len(t), m.get("config"), m.get("n_feats"), m.get("iteration"), m.get("val_psnr_y")))' \
        "$HERE" "$OUTDIR/model.safetensors"
}

case ${1:-} in
    prepare) shift; prepare "$@" ;;
    train) shift; train "$@" ;;
    collect) shift; collect "$@" ;;
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
