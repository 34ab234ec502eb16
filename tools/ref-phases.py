#!/usr/bin/env python3
# ref-phases.py REF OUTDIR [STEP] — the reference shifted by 0..3 pixels.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Writes OUTDIR/phase-XY.png: REF cropped by 4 pixels a side, starting at
(X, Y) for X, Y in 0, STEP, ... < 4 (STEP 1: 16 files, 2: 4 files).

TTSR's hard attention matches 3x3 patches of LR-resolution features, so
it copies reference texture in 4-pixel steps: texture as fine as grain or
noise lines up with the result only when the reference's offset from the
image is a multiple of 4, and is otherwise copied 1-3 pixels off, which a
model trained on L1 smooths away.  Given these copies as references
(refsr -r OUTDIR/phase-00.png -r ...), the search picks, position by
position, the copy whose phase lines the texture up.  The price: the
search and the reference features are STEP-dependent multiples (16x with
STEP 1) of one reference's.  Needs python3-pil."""

import os
import sys

from PIL import Image


def main(ref_path, out_dir, step=1):
    if step not in (1, 2):
        sys.exit("ref-phases: STEP must be 1 or 2")
    ref = Image.open(ref_path)
    if min(ref.size) < 16:
        sys.exit(f"ref-phases: {ref_path} is too small ({ref.width}×{ref.height})")
    os.makedirs(out_dir, exist_ok=True)
    for y in range(0, 4, step):
        for x in range(0, 4, step):
            ref.crop((x, y, ref.width - 4 + x, ref.height - 4 + y)).save(
                os.path.join(out_dir, f"phase-{x}{y}.png"))


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: ref-phases.py REF OUTDIR [STEP]")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 1)
