#!/usr/bin/env python3
# gpu-run.sh end to end on CPU: prepare -> train --dry-run -> collect, twice.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""On a tiny procedural photo tree in a temporary folder (never the real
.datasets): the returned files obey the device's limits, the collected
model loads with st_io and has the 1+1+1+1 keys, and a second run resumes
from the first's checkpoint.  Exit 0 / 1; without PyTorch, numpy or Pillow
77 (meson "skip"), or 1 under CI=true."""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from testenv import unavailable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    import numpy as np
    import torch
    from PIL import Image
except ImportError as e:
    unavailable(f"PyTorch, numpy or Pillow missing ({e})")

import gpu_run
import st_io
import ttsr

FAILED = []


def check(ok, what):
    print(("ok     " if ok else "FAILED ") + what)
    if not ok:
        FAILED.append(what)


def photo(rng, w, h):
    """Smooth colour gradients, stripes and noise: texture for the crops."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    f = rng.uniform(0.05, 0.3, 3)
    img = np.stack([127 + 100 * np.sin(f[c] * x + (c + 1) * 0.02 * y) for c in range(3)], -1)
    img += rng.normal(0, 12, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def make_photos(root):
    rng = np.random.default_rng(5)
    for name, n, ext, size in (("t91", 3, "png", (96, 88)),
                               ("bsds500-train", 2, "jpg", (120, 80)),
                               ("bsds500-test", 2, "jpg", (80, 120)),
                               ("set5", 2, "png", (72, 72)),
                               ("set14", 1, "png", (80, 68))):
        os.makedirs(os.path.join(root, name))
        for i in range(n):
            photo(rng, *size).save(os.path.join(root, name, f"p{i}.{ext}"))


def sh(env, *args):
    r = subprocess.run(["bash", os.path.join(HERE, "gpu-run.sh"), *args], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = r.stdout.splitlines()
    print("\n".join("    | " + line for line in (lines if r.returncode else lines[-12:])))
    check(r.returncode == 0, f"gpu-run.sh {' '.join(args)} exits 0 (got {r.returncode})")
    return r.stdout


def state_iter(path):
    with open(path) as f:
        return json.load(f)["state"]["iter"]


def one_round(env, tmp, k):
    out = os.path.join(tmp, f"out{k}")
    env = dict(env, OUT=out)
    sh(env, "prepare")
    log = sh(env, "train", "--dry-run")
    problems, files, _ = gpu_run.check_out(out)
    check(not problems, f"round {k}: returned files within the device limits {problems}")
    names = sorted(os.path.basename(f) for f in files)
    check({"train.log", "state.json", "scores.json", "model-00.safetensors"} <= set(names),
          f"round {k}: returned {names}")
    sh(env, "collect", out)
    return log, out


def main():
    expected = list(ttsr.TTSR([1, 1, 1, 1], 8).export_state())
    with tempfile.TemporaryDirectory() as tmp:
        make_photos(os.path.join(tmp, "photos"))
        env = dict(os.environ, GPU_RUN_PHOTOS=os.path.join(tmp, "photos"),
                   GPU_RUN_IN=os.path.join(tmp, "in"),
                   GPU_RUN_OUTDIR=os.path.join(tmp, "gpu-out"),
                   GPU_RUN_HR_SIZE="32", GPU_RUN_VAL_SIZE="64", GPU_RUN_PER_IMAGE="1",
                   PYTHON=sys.executable, TMPDIR=tmp)
        collected = os.path.join(tmp, "gpu-out")

        log, _ = one_round(env, tmp, 1)
        check("starting from --init structured" in log, "round 1 starts from --init structured")
        tensors, meta = st_io.read(os.path.join(collected, "model.safetensors"))
        check(list(tensors) == expected, "collected model has the 1+1+1+1 n_feats 8 keys, in order")
        check(all(v.dtype == np.float16 for v in tensors.values()), "collected weights are F16")
        check(ttsr.config_from_state(tensors) == ([1, 1, 1, 1], 8), "config_from_state 1+1+1+1/8")
        it1 = state_iter(os.path.join(collected, "state.json"))
        check(it1 == 2 and meta.get("iteration") == "2", f"round 1 ends at iteration 2 ({it1})")

        log, _ = one_round(env, tmp, 2)
        check(os.path.exists(os.path.join(tmp, "in", "ckpt", "model.safetensors")),
              "round 2 carries the checkpoint")
        check("resumed from" in log and "at iteration 2" in log, "round 2 resumes at iteration 2")
        it2 = state_iter(os.path.join(collected, "state.json"))
        check(it2 == 4, f"round 2 continues to iteration 4 ({it2})")
        tensors2, _ = st_io.read(os.path.join(collected, "model.safetensors"))
        check(list(tensors2) == expected and any(
            not np.array_equal(tensors[k], tensors2[k]) for k in expected),
            "round 2's weights moved on from round 1's")

        # Parts: a model over the part limit splits and joins back bit for bit.
        big = {f"t{i}": np.full((1 << 19,), i, np.float16) for i in range(5)}
        parts = gpu_run.split_parts(big, limit=(1 << 20) * 2)
        check(len(parts) == 3 and sum(len(p) for p in parts) == 5, "split_parts: 5 MiB in 2 MiB parts")
    if FAILED:
        print(f"{len(FAILED)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
