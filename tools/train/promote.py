#!/usr/bin/env python3
# Ships a trained model only when the C engine scores it above the shipped one.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Compare a candidate model with data/refsr-default.safetensors on the
validation pairs, with refsr-eval (the C engine, the metric of TTSR's
utils.calc_psnr_and_ssim), and replace the shipped file only when the
candidate is better with a related reference AND with the LR image as its
own reference (by --margin dB at least).  Both tables are written next to
the candidate (NAME.eval.md), so every milestone keeps its measured table.

  tools/train/promote.py .datasets/runs/v2/best.safetensors           # compare
  tools/train/promote.py .datasets/runs/v2/best.safetensors --ship    # and copy
"""

import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SHIPPED = os.path.join(REPO, "data", "refsr-default.safetensors")
COLUMNS = {"related": 4, "unrelated": 6, "self": 8}  # PSNR columns after '|' split


def evaluate(tool, weights, pairs, threads):
    """(markdown table, {column: mean PSNR-Y}) from refsr-eval."""
    out = subprocess.run([tool, "--weights", weights, "--threads", str(threads), pairs],
                         check=True, capture_output=True, text=True).stdout
    mean = next(line for line in out.splitlines() if line.startswith("| **mean**"))
    cells = mean.split("|")
    return out, {k: float(cells[i]) for k, i in COLUMNS.items()} | {"bicubic": float(cells[2])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("candidate")
    ap.add_argument("--eval", default=os.path.join(REPO, "build", "tools", "refsr-eval"))
    ap.add_argument("--pairs", default=os.path.join(REPO, ".datasets", "pairs", "val"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--margin", type=float, default=0.0,
                    help="dB the candidate must gain in both columns")
    ap.add_argument("--ship", action="store_true", help="copy it into data/ when it wins")
    args = ap.parse_args()
    tables = {}
    scores = {}
    for name, path in (("shipped", SHIPPED), ("candidate", args.candidate)):
        try:
            tables[name], scores[name] = evaluate(args.eval, path, args.pairs, args.threads)
        except (OSError, subprocess.CalledProcessError) as e:
            sys.exit(f"promote: refsr-eval failed on {path}: {getattr(e, 'stderr', e)}")
    with open(os.path.splitext(args.candidate)[0] + ".eval.md", "w") as f:
        for name in tables:
            f.write(f"## {name}\n\n{tables[name]}\n")
    for name in scores:
        print(f"{name:9s} " + "  ".join(f"{k} {v:.3f}" for k, v in scores[name].items()))
    gain = {k: scores["candidate"][k] - scores["shipped"][k] for k in ("related", "self")}
    better = all(g > args.margin for g in gain.values())
    print("gain " + "  ".join(f"{k} {g:+.3f} dB" for k, g in gain.items())
          + (": better" if better else ": not better, data/ unchanged"))
    if better and args.ship:
        shutil.copyfile(args.candidate, SHIPPED + ".tmp")
        os.replace(SHIPPED + ".tmp", SHIPPED)
        print(f"copied to {SHIPPED}")
    return 0 if better else 1


if __name__ == "__main__":
    sys.exit(main())
