#!/usr/bin/env python3
# Helpers of gpu-run.sh: pack photos, split pairs work, resume, split/join weights.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Subcommands used by tools/train/gpu-run.sh (see there and data/README.md).

photos SRC DST BYTES  train photos to DST/<set>/ within BYTES (PNG -> JPEG q95 4:4:4,
                      JPEG as is or, over budget, q90)
chunks SRC DST N      N source trees of symlinks (DST/k/photos/<set>/) for parallel make_pairs
merge PAIRS N         PAIRS/train/manifest.json listing the pairs of every chunk
resume RUN CKPT -- TRAIN_ARGS
                      RUN/last.pt from CKPT/model.safetensors + state.json: the
                      weights, a fresh Adam whose second moment is re-estimated
                      from a few batches, the iteration count
pack RUN OUT          OUT/model-NN.safetensors (<= 15 MiB each), state.json, scores.json
join DIR DST          DST/model.safetensors + state.json from the parts in DIR
check OUT             the device's limits on returned files (count, size, names, depth)
"""

import glob
import json
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import st_io  # noqa: E402

MIB = 1 << 20
PART_LIMIT = 15 * MIB      # one returned file: <= 16 MiB, with a margin
OUT_FILES, OUT_FILE, OUT_TOTAL = 8, 16 * MIB, 64 * MIB
TRAIN_SETS = ("t91", "bsds500-train", "bsds500-test")


def cmd_photos(src, dst, budget):
    """Training photos into DST/<set>/ within `budget` bytes: PNGs become
    JPEG q95 without chroma subsampling; BSDS500's JPEGs (about q92, 4:2:0)
    are copied, or, when that is over budget (with a checkpoint carried),
    re-encoded at q90 4:2:0 (three quarters of the size; the 4x downscale
    to LR hides the second generation's artefacts)."""
    from PIL import Image

    def pack(requality):
        n = size = 0
        for name in TRAIN_SETS:
            os.makedirs(os.path.join(dst, name), exist_ok=True)
            for path in sorted(glob.glob(os.path.join(src, name, "*"))):
                base, ext = os.path.splitext(os.path.basename(path))
                out = os.path.join(dst, name, base + ".jpg")
                if ext.lower() not in (".jpg", ".jpeg"):
                    Image.open(path).convert("RGB").save(out, quality=95, subsampling=0)
                elif requality:
                    Image.open(path).convert("RGB").save(out, quality=90, subsampling=2)
                else:
                    with open(path, "rb") as f, open(out, "wb") as g:
                        g.write(f.read())
                n += 1
                size += os.path.getsize(out)
        return n, size

    n, size = pack(False)
    how = "JPEGs copied"
    if size > budget:
        n, size = pack(True)
        how = "JPEGs re-encoded at q90"
    print(f"photos: {n} training photos, {size / MIB:.1f} MiB ({how}; "
          f"budget {budget / MIB:.1f} MiB)")
    if size > budget:
        raise SystemExit("photos: over budget even re-encoded")


def cmd_chunks(src, dst, n):
    photos = []
    for name in TRAIN_SETS:
        photos += [(name, p) for p in sorted(glob.glob(os.path.join(src, name, "*")))]
    for k in range(n):
        for name, path in photos[k::n]:
            d = os.path.join(dst, str(k), "photos", name)
            os.makedirs(d, exist_ok=True)
            os.symlink(os.path.abspath(path), os.path.join(d, os.path.basename(path)))
    print(f"chunks: {len(photos)} photos in {n} chunks")


def cmd_merge(pairs, n):
    """Chunk k's pairs stay in PAIRS/train/k/train/; the manifest ids carry
    the folder ("k/train/00012"), which TrainSet joins onto PAIRS/train."""
    samples, params = [], None
    for k in range(n):
        path = os.path.join(pairs, "train", str(k), "train", "manifest.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            m = json.load(f)
        params = m["params"]
        for s in m["samples"]:
            s["id"] = f"{k}/train/{s['id']}"
            samples.append(s)
    if not samples:
        raise SystemExit("merge: no training pairs (photos smaller than --hr-size?)")
    with open(os.path.join(pairs, "train", "manifest.json"), "w") as f:
        json.dump({"params": params, "samples": samples}, f, indent=1)
    print(f"merge: {len(samples)} training pairs")


def cmd_resume(run, ckpt, train_args, batches=8):
    """A resumable RUN/last.pt from the returned weights.  Adam's moments are
    not carried (they would double the transfer); a fresh Adam's first steps
    are lr * sign(g) in every weight, which knocks a trained model about, and
    train.py's --warmup counts from iteration 0, not from a resume.  So the
    second moment is re-estimated here: the mean squared gradient of
    `batches` batches (no step taken), stored with bias correction at the
    carried iteration count; the first moment starts at zero, so the steps
    grow over ~10 iterations as momentum rebuilds: a warm-up."""
    import random
    import torch
    sys.argv = ["train.py"] + train_args + ["--init", os.path.join(ckpt, "model.safetensors")]
    import train
    args = train.parse_args()
    model, opt, scaler, _, objective = train.setup(args)
    with open(os.path.join(ckpt, "state.json")) as f:
        state = json.load(f)["state"]
    # A sample of 64 pairs is enough for the estimate and loads in a second
    # (TrainSet takes ids as paths relative to its folder; absolute ones pass).
    folder = os.path.join(args.pairs, "train")
    with open(os.path.join(folder, "manifest.json")) as f:
        samples = json.load(f)["samples"]
    rng = random.Random(args.seed * 7919 + state["iter"])
    sub = os.path.join(run, "resume-sample")
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "manifest.json"), "w") as f:
        json.dump({"samples": [dict(s, id=os.path.join(os.path.abspath(folder), s["id"]))
                               for s in rng.sample(samples, min(64, len(samples)))]}, f)
    trainset = train.TrainSet(sub)
    params = [p for p in model.parameters() if p.requires_grad]
    sq = [torch.zeros_like(p) for p in params]
    for _ in range(batches):
        data = train.batch(trainset, rng, args)
        sr = model(data["lr"], data["lrsr"], data["ref"], data["refsr"])
        loss = torch.nn.functional.l1_loss(sr.float(), data["hr"])
        model.zero_grad(set_to_none=True)
        loss.backward()
        for s, p in zip(sq, params):
            if p.grad is not None:
                s += p.grad.detach() ** 2 / batches
    model.zero_grad(set_to_none=True)
    steps = max(int(state["iter"]), 1000)
    b1, b2 = opt.param_groups[0]["betas"]
    in_opt = {id(p) for g in opt.param_groups for p in g["params"]}
    fresh = 0
    for s, p in zip(sq, params):
        if id(p) in in_opt and not bool((s > 0).any()):
            fresh += 1  # no gradient seen: Adam's own start (step 0) for it
        elif id(p) in in_opt:
            opt.state[p] = {"step": torch.tensor(float(steps)),
                            "exp_avg": torch.zeros_like(p),
                            "exp_avg_sq": s * (1.0 - b2 ** steps)}
    os.makedirs(run, exist_ok=True)
    train.save_checkpoint(os.path.join(run, "last.pt"), model, opt, scaler, objective, state)
    print(f"resume: RUN/last.pt at iteration {state['iter']}, Adam second moment "
          f"from {batches} batches, first moment zero ({fresh} tensors without a "
          f"gradient start fresh)")


def split_parts(tensors, limit=PART_LIMIT):
    parts, cur, size = [], {}, 0
    for k, v in tensors.items():
        if cur and size + v.nbytes > limit:
            parts.append(cur)
            cur, size = {}, 0
        cur[k] = v
        size += v.nbytes
    if cur:
        parts.append(cur)
    return parts


def cmd_pack(run, out):
    import torch
    tensors, meta = st_io.read(os.path.join(run, "model.safetensors"))
    tensors = {k: v.astype(np.float16) for k, v in tensors.items()}
    ck = torch.load(os.path.join(run, "last.pt"), map_location="cpu", weights_only=False)
    parts = split_parts(tensors)
    for i, part in enumerate(parts):
        st_io.write(os.path.join(out, f"model-{i:02d}.safetensors"), part,
                    dict(meta, part=f"{i + 1}/{len(parts)}"))
    with open(os.path.join(out, "state.json"), "w") as f:
        json.dump({"state": ck["state"], "parts": len(parts), "meta": meta}, f, indent=1)
    with open(os.path.join(out, "scores.json"), "w") as f:
        json.dump({"iteration": ck["state"]["iter"],
                   "val_psnr_y": json.loads(meta.get("val_psnr_y", "{}"))}, f, indent=1)
    print(f"pack: iteration {ck['state']['iter']}, {len(parts)} weight part(s)")


def cmd_join(src, dst):
    with open(os.path.join(src, "state.json")) as f:
        info = json.load(f)
    tensors = {}
    for i in range(info["parts"]):
        part, _ = st_io.read(os.path.join(src, f"model-{i:02d}.safetensors"))
        tensors.update(part)
    os.makedirs(dst, exist_ok=True)
    tmp = os.path.join(dst, "model.safetensors.tmp")
    st_io.write(tmp, tensors, info["meta"])
    os.replace(tmp, os.path.join(dst, "model.safetensors"))
    with open(os.path.join(dst, "state.json"), "w") as f:
        json.dump(info, f, indent=1)
    for name in ("train.log", "scores.json"):
        if os.path.exists(os.path.join(src, name)):
            with open(os.path.join(src, name), "rb") as f, \
                    open(os.path.join(dst, name), "wb") as g:
                g.write(f.read())
    print(f"join: {dst}/model.safetensors ({len(tensors)} tensors, iteration "
          f"{info['state']['iter']})")


def check_out(out):
    """Problems of OUT against the device's return limits ([] if none)."""
    problems, files, total = [], [], 0
    for root, dirs, names in os.walk(out):
        depth = os.path.relpath(root, out).count(os.sep) + (root != out)
        if depth > 2:
            problems.append(f"{root}: deeper than 2 folders")
        for n in dirs + names:
            if not re.fullmatch(r"[A-Za-z0-9._-]+", n):
                problems.append(f"{n}: name outside [A-Za-z0-9._-]")
        for n in names:
            p = os.path.join(root, n)
            if os.path.islink(p) or not os.path.isfile(p):
                problems.append(f"{p}: not a plain file")
                continue
            files.append(p)
            size = os.path.getsize(p)
            total += size
            if size > OUT_FILE:
                problems.append(f"{p}: {size} bytes > 16 MiB")
    if len(files) > OUT_FILES:
        problems.append(f"{len(files)} files > {OUT_FILES}")
    if total > OUT_TOTAL:
        problems.append(f"{total} bytes in all > 64 MiB")
    return problems, files, total


def cmd_check(out):
    problems, files, total = check_out(out)
    for p in problems:
        print("check: " + p)
    print(f"check: {len(files)} files, {total / MIB:.1f} MiB"
          + ("" if problems else ", within the device's limits"))
    return 1 if problems else 0


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    cmd, rest = argv[0], argv[1:]
    if cmd == "photos":
        cmd_photos(rest[0], rest[1], int(rest[2]))
    elif cmd == "chunks":
        cmd_chunks(rest[0], rest[1], int(rest[2]))
    elif cmd == "merge":
        cmd_merge(rest[0], int(rest[1]))
    elif cmd == "resume":
        sep = rest.index("--")
        cmd_resume(rest[0], rest[1], rest[sep + 1:],
                   batches=int(os.environ.get("GPU_RUN_RESUME_BATCHES", "8")))
    elif cmd == "pack":
        cmd_pack(*rest)
    elif cmd == "join":
        cmd_join(*rest)
    elif cmd == "check":
        return cmd_check(*rest)
    else:
        raise SystemExit(f"unknown subcommand {cmd}\n{__doc__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
