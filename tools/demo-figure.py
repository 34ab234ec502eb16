#!/usr/bin/env python3
# demo-figure.py DEMO-DIR OUT.png [SR.png ...] — the README's picture: one
# region of the demo, enlarged 4× by Pillow's bicubic, by refsr, and the
# ground truth, side by side (each shown at 2× with nearest neighbour so
# pixels stay visible).  Needs python3-pil.  Inputs: hr.png, lr.png and
# sr.png of refsr-make-demo and refsr; more SR.png names (in DEMO-DIR) put
# several results between bicubic and the ground truth, e.g. two models.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
import os
import sys

from PIL import Image

BOX = (96, 96, 224, 224)  # a 128×128 region of the 384×384 results
GAP = 6


def main(demo, out, results=("sr.png",)):
    lr = Image.open(os.path.join(demo, "lr.png")).convert("RGB")
    panels = ([lr.resize((lr.width * 4, lr.height * 4), Image.BICUBIC)]
              + [Image.open(os.path.join(demo, r)).convert("RGB") for r in results]
              + [Image.open(os.path.join(demo, "hr.png")).convert("RGB")])
    size = (BOX[2] - BOX[0]) * 2
    n = len(panels)
    figure = Image.new("RGB", (n * size + (n - 1) * GAP, size), "white")
    for i, panel in enumerate(panels):
        crop = panel.crop(BOX).resize((size, size), Image.NEAREST)
        figure.paste(crop, (i * (size + GAP), 0))
    figure.save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:] or ("sr.png",))
