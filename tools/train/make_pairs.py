#!/usr/bin/env python3
# Builds deterministic reference-SR training and validation pairs from photos.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Make (HR, reference) pairs for training TTSR.

Each sample is an HR crop and a reference drawn from a curriculum of kinds
(--mix), so the network learns to use the reference at every similarity and
scale it will meet:
  self   the HR crop itself (the paper's level-1 similarity);
  exact  the same content shifted by up to half a crop (whole pixels),
         nothing else changed (the paper's "high similarity");
  view   another view of the scene: shifted, scaled x0.8-1.25, rotated
         +-10 degrees, brightness/contrast jitter (the released model's data);
  zoom   the same scene at another zoom, x0.5-2 (log-uniform; as far as the
         photo allows), rotated +-5 degrees, with jitter.
Unrelated references and the LR image as its own reference (the Urban100
protocol) are drawn by the trainer at training time.  LR images are not
stored for training: they are PIL bicubic /4 of HR and the trainer derives
them.

Output (under --out, keep it git-ignored; never commit images):
  train/NNNNN_hr.png, train/NNNNN_ref.png, train/manifest.json
  val/NAME_hr.png, NAME_lr.png, NAME_ref.png, NAME_unrelated.png,
  val/manifest.json
Same --seed, same files.
"""

import argparse
import glob
import json
import math
import os

import numpy as np
from PIL import Image

TRAIN_SETS = ("t91", "bsds500-train", "bsds500-test")
VAL_SETS = ("set5", "set14")


def load_rgb(path):
    # Set14 holds some greyscale photos; the network wants 3 channels.
    return Image.open(path).convert("RGB")


# Reference kinds: (scale range, max rotation in degrees, jitter).
VIEWS = {"exact": ((1.0, 1.0), 0.0, False),
         "view": ((0.8, 1.25), 10.0, True),
         "zoom": ((0.5, 2.0), 5.0, True)}


def random_view(rng, img, center, size, max_shift, scales=(0.8, 1.25), degrees=10.0):
    """A size x size view of img around center + shift, scaled and rotated.

    Scale log-uniform in `scales` (clipped to what the photo holds) and angle
    in +-degrees; the centre is pulled back inside the photo so the view
    needs no padding.
    """
    scale = math.exp(rng.uniform(math.log(scales[0]), math.log(scales[1])))
    angle = math.radians(rng.uniform(-degrees, degrees))
    if scales[1] > 1.25:  # keep a zoomed-out window inside the photo
        fits = min(img.size) / (size * (abs(math.cos(angle)) + abs(math.sin(angle))))
        scale = min(scale, max(fits, 1.0))
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    # Half extent of the rotated, scaled window in source pixels.
    half = 0.5 * size * (abs(cos) + abs(sin))
    cx = center[0] + rng.uniform(-max_shift, max_shift)
    cy = center[1] + rng.uniform(-max_shift, max_shift)
    cx = min(max(cx, half), img.width - half) if img.width > 2 * half else img.width / 2
    cy = min(max(cy, half), img.height - half) if img.height > 2 * half else img.height / 2
    # PIL AFFINE maps output (x, y) to input (a x + b y + c, d x + e y + f).
    o = 0.5 * size
    if scales == (1.0, 1.0) and degrees == 0.0:
        # A whole-pixel shift samples the photo's own pixels: the reference
        # keeps its full sharpness (any shift, not only multiples of 4).
        cx, cy = round(cx - o) + o, round(cy - o) + o
    coeffs = (cos, -sin, cx - cos * o + sin * o,
              sin, cos, cy - sin * o - cos * o)
    return img.transform((size, size), Image.AFFINE, coeffs,
                         resample=Image.BICUBIC)


def jitter(rng, img):
    """Brightness/contrast change about the mean, clipped to uint8."""
    a = np.asarray(img).astype(np.float32)
    contrast = rng.uniform(0.8, 1.2)
    brightness = rng.uniform(-20.0, 20.0)
    mean = a.mean()
    a = (a - mean) * contrast + mean + brightness
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))


def pick_kind(u, mix):
    """The kind whose share of the cumulative `mix` holds u in [0, 1)."""
    total = 0.0
    for kind, share in mix:
        total += share
        if u < total:
            return kind
    return mix[-1][0]


def make_reference(rng, img, box, size, mix):
    """Returns (reference image, description dict).  One uniform draw picks
    the kind, so a mix of views only gives the same files as before."""
    x0, y0 = box
    hr = img.crop((x0, y0, x0 + size, y0 + size))
    kind = pick_kind(rng.uniform(), mix)
    if kind == "self":
        return hr, {"kind": "self"}
    scales, degrees, jittered = VIEWS[kind]
    center = (x0 + 0.5 * size, y0 + 0.5 * size)
    ref = random_view(rng, img, center, size, 0.5 * size, scales, degrees)
    return (jitter(rng, ref) if jittered else ref), {"kind": kind}


def parse_mix(text):
    """"self:0.1,exact:0.15,view:0.45,zoom:0.3" -> normalised [(kind, share)]."""
    mix = []
    for part in text.split(","):
        kind, _, share = part.partition(":")
        if kind not in ("self",) + tuple(VIEWS) or not share:
            raise ValueError(f"--mix: '{part}' is not KIND:SHARE with KIND in "
                             "self, exact, view, zoom")
        mix.append((kind, float(share)))
    total = sum(s for _, s in mix)
    if total <= 0 or any(s < 0 for _, s in mix):
        raise ValueError("--mix: shares must be >= 0 with a positive sum")
    return [(k, s / total) for k, s in mix]


def list_photos(root, sets, min_side):
    photos = []
    for name in sets:
        for path in sorted(glob.glob(os.path.join(root, name, "*"))):
            with Image.open(path) as im:
                if min(im.size) >= min_side:
                    photos.append(path)
    return photos


def make_train(args, out_dir):
    photos = list_photos(args.src, TRAIN_SETS, args.hr_size)
    os.makedirs(out_dir, exist_ok=True)
    manifest, n = [], 0
    for pi, path in enumerate(photos):
        img = load_rgb(path)
        for k in range(args.per_image):
            # Seeded per (photo, k): output does not depend on visiting order.
            rng = np.random.default_rng([args.seed, pi, k])
            x0 = int(rng.integers(0, img.width - args.hr_size + 1))
            y0 = int(rng.integers(0, img.height - args.hr_size + 1))
            ref, info = make_reference(rng, img, (x0, y0), args.hr_size,
                                       args.mix)
            hr = img.crop((x0, y0, x0 + args.hr_size, y0 + args.hr_size))
            hr.save(os.path.join(out_dir, f"{n:05d}_hr.png"))
            ref.save(os.path.join(out_dir, f"{n:05d}_ref.png"))
            info.update(id=f"{n:05d}", photo=os.path.relpath(path, args.src),
                        box=[x0, y0])
            manifest.append(info)
            n += 1
    return manifest, len(photos)


def make_val(args, out_dir):
    photos = list_photos(args.src, VAL_SETS, args.val_size)
    os.makedirs(out_dir, exist_ok=True)
    refs, names = [], []
    size = args.val_size
    for pi, path in enumerate(photos):
        img = load_rgb(path)
        rng = np.random.default_rng([args.seed, 1000003, pi])
        x0, y0 = (img.width - size) // 2, (img.height - size) // 2
        hr = img.crop((x0, y0, x0 + size, y0 + size))
        ref, _ = make_reference(rng, img, (x0, y0), size, [("view", 1.0)])
        name = "%s-%s" % (os.path.basename(os.path.dirname(path)),
                          os.path.splitext(os.path.basename(path))[0])
        hr.save(os.path.join(out_dir, f"{name}_hr.png"))
        hr.resize((size // 4, size // 4), Image.BICUBIC).save(
            os.path.join(out_dir, f"{name}_lr.png"))
        ref.save(os.path.join(out_dir, f"{name}_ref.png"))
        refs.append(ref)
        names.append(name)
    # The unrelated reference is the next photo's reference: same statistics,
    # different scene, so the gap to it measures texture transfer.
    manifest = []
    for i, name in enumerate(names):
        j = (i + 1) % len(names)
        refs[j].save(os.path.join(out_dir, f"{name}_unrelated.png"))
        manifest.append({"id": name, "unrelated_from": names[j]})
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    ap.add_argument("--src", default=os.path.join(repo, "..", "shared", "datasets"))
    ap.add_argument("--out", default=os.path.join(repo, ".datasets", "pairs"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-image", type=int, default=4)
    ap.add_argument("--hr-size", type=int, default=160)
    ap.add_argument("--val-size", type=int, default=192)
    ap.add_argument("--mix", default="self:0.1,exact:0.15,view:0.45,zoom:0.3",
                    help="shares of the training reference kinds (see above); "
                         "the first model's data was self:0.15,view:0.85")
    args = ap.parse_args()
    try:
        args.mix = parse_mix(args.mix)
    except ValueError as e:
        ap.error(str(e))
    if args.hr_size % 4 or args.val_size % 4:
        ap.error("--hr-size and --val-size must be multiples of 4")
    train, n_photos = make_train(args, os.path.join(args.out, "train"))
    val = make_val(args, os.path.join(args.out, "val"))
    meta = {"seed": args.seed, "hr_size": args.hr_size, "val_size": args.val_size,
            "mix": args.mix, "per_image": args.per_image}
    for sub, items in (("train", train), ("val", val)):
        with open(os.path.join(args.out, sub, "manifest.json"), "w") as f:
            json.dump({"params": meta, "samples": items}, f, indent=1)
    print(f"train: {len(train)} pairs from {n_photos} photos; val: {len(val)} pairs")


if __name__ == "__main__":
    main()
