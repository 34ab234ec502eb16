#!/usr/bin/env python3
# The C engine and tools/train/ttsr.py give the same output for the same
# weights and inputs.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""test_engine_parity.py REFSR WEIGHTS...

Runs the `refsr` command with --dump on a fixture image pair (case b: odd
sizes, a reference cropped to multiples of 4) for each weights file, runs
the PyTorch model of tools/train on the same uint8 inputs preprocessed with
Pillow, and compares with the fixture README's tolerances: idx exact where
the top-2 margin is >= 1e-4, S within 1e-5 there, sr within 1e-4 at every
value.  Where an index differs (a near-tie), sr is compared in oracle mode:
the PyTorch model is run again with the engine's idx injected.  Every check
reports how many values it compared; comparing none is a failure.

Exit 0 / 1.  A weights file named on the command line that does not exist
is a failure.  Without PyTorch, numpy, Pillow or the fixtures: 77 (meson
"skip"), or 1 under CI=true.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "tests")]
from testenv import unavailable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image
except ImportError as e:
    unavailable(f"PyTorch, numpy or Pillow missing ({e})")

import pngtool
import st_io
from test_parity import FIXTURES, load_model

MARGIN_EPS, S_TOL, SR_TOL = 1e-4, 1e-5, 1e-4


def to_tensor(u8):
    x = u8.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return torch.from_numpy(x.transpose(2, 0, 1)[None].copy())


def preprocess(lr, ref):
    """The four network inputs, as the official Trainer.test makes them."""
    h, w = lr.shape[:2]
    H, W = ref.shape[0] // 4 * 4, ref.shape[1] // 4 * 4
    ref = ref[:H, :W]
    resize = lambda a, size: np.array(Image.fromarray(a).resize(size, Image.BICUBIC))
    lrsr = resize(lr, (4 * w, 4 * h))
    refsr = resize(resize(ref, (W // 4, H // 4)), (W, H))
    return [to_tensor(a) for a in (lr, lrsr, ref, refsr)]


def top2_margin(model, lrsr, refsr):
    q = F.normalize(F.unfold(model.LTE((lrsr + 1) / 2)[2], 3, padding=1), dim=1)
    k = F.normalize(F.unfold(model.LTE((refsr + 1) / 2)[2], 3, padding=1), dim=1)
    top = torch.topk(torch.bmm(k.transpose(1, 2), q)[0], 2, dim=0).values
    return (top[0] - top[1]).numpy()


def check(refsr_cli, weights, lr_png, ref_png, lr, ref, tmp):
    dump = os.path.join(tmp, "dump.safetensors")
    subprocess.run([refsr_cli, "-q", "--threads", "1", "--weights", weights,
                    "-r", ref_png, "--ref-scales", "1", "--search", "exact",
                    "-o", os.path.join(tmp, "sr.png"),
                    "--dump", dump, lr_png], check=True)
    c, _ = st_io.read(dump)
    model = load_model(weights)
    x_lr, x_lrsr, x_ref, x_refsr = preprocess(lr, ref)
    with torch.no_grad():
        S, idx, t3, t2, t1 = model.textures(x_lrsr, x_ref, x_refsr)
        margin = top2_margin(model, x_lrsr, x_refsr)
    idx = idx.numpy().reshape(-1)
    differ = idx != c["idx"]
    stable = margin >= MARGIN_EPS
    n_stable = int(stable.sum())
    name = os.path.basename(weights)
    bad = int(np.count_nonzero(differ & stable))
    results = [(f"{name} idx", bad == 0 and n_stable > 0,
                f"{bad} of {n_stable} positions with margin >= {MARGIN_EPS} "
                f"differ; {int(differ.sum())} of {idx.size} in all")]
    s_diff = np.abs(S.numpy().reshape(-1) - c["S"].reshape(-1))[stable]
    s_err = float(s_diff.max()) if s_diff.size else float("inf")
    results.append((f"{name} S", s_err <= S_TOL and s_diff.size > 0,
                    f"max diff {s_err:.3g} over {s_diff.size} positions"))
    if differ.any():  # near-ties went the other way: inject the engine's idx
        with torch.no_grad():
            S, _, t3, t2, t1 = model.textures(
                x_lrsr, x_ref, x_refsr, idx=torch.from_numpy(c["idx"]).view(1, -1))
        how = f"oracle mode, the engine's idx injected ({int(differ.sum())} differ)"
    else:
        how = "idx identical"
    with torch.no_grad():
        sr = model.MainNet(x_lr, S, t3, t2, t1).numpy()
    sr_diff = np.abs(sr - c["sr"])
    sr_err = float(sr_diff.max()) if sr_diff.size else float("inf")
    results.append((f"{name} sr", sr_err <= SR_TOL and sr_diff.size > 0
                    and sr.shape == c["sr"].shape,
                    f"max diff {sr_err:.3g} over all {sr_diff.size} values ({how})"))
    return results


def main():
    if len(sys.argv) < 3:
        print("usage: test_engine_parity.py REFSR WEIGHTS...")
        return 1
    refsr_cli, weights = sys.argv[1], sys.argv[2:]
    case = os.path.join(FIXTURES, "case-b.safetensors")
    if not os.path.exists(case):
        unavailable(f"fixture {case} not found")
    torch.set_num_threads(1)
    data, _ = st_io.read(case)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        pngs = []
        for key in ("lr_u8", "ref_u8"):
            path = os.path.join(tmp, key + ".png")
            pngtool.main(["pngtool", "from-fixture", case, key, path])
            pngs.append(path)
        for w in weights:
            if not os.path.exists(w):
                results = [(os.path.basename(w), False, f"weights file {w} not found")]
            else:
                try:
                    results = check(refsr_cli, w, *pngs, data["lr_u8"],
                                    data["ref_u8"], tmp)
                except (OSError, subprocess.CalledProcessError) as e:
                    results = [(os.path.basename(w), False, f"refsr failed: {e}")]
            for check_name, ok, detail in results:
                print(f"{'ok  ' if ok else 'FAIL'} {check_name}: {detail}")
                passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
