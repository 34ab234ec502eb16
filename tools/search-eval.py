#!/usr/bin/env python3
"""search-eval.py — what the search choices cost or gain in quality, on
pairs made from photos, through the refsr command.
Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

  search-eval.py zoom REFSR PHOTO...   reference scales on wide/tele pairs
  search-eval.py fast REFSR PHOTO...   fast against exact search

zoom: each photo is the scene seen by a tele camera.  The wide shot is the
scene reduced 2× (HR); the LR image is HR reduced 4×; the tele reference
is the middle half of the scene at full resolution, so its texture is at
twice the scale of HR's.  The same reference reduced 2× ("matched") is
what a user would have to make by hand.  Rows: PSNR-Y of bicubic, and of
refsr with the tele reference at --ref-scales 1, 0.5 and auto, and with
the matched reference at 1 and auto (auto must cost nothing there).

fast: HR is the left 60 % of the photo, the reference its right 60 % (a
fifth shared), LR is HR reduced 4×; LR at most 120×120 so that the exact
search stays affordable.  Rows: PSNR-Y of exact and fast, the fraction of
positions whose index differs, and the mean S lost (from --dump).

Pillow's bicubic makes every reduction, as the engine's Ref↓ does; PSNR-Y
is the one of tools/metrics.c (TTSR's).  Needs numpy and Pillow.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

LUMA = np.array([65.738, 129.057, 25.064]) / 256.0


def psnr_y(a, b):
    d = (a.astype(np.float64) - b.astype(np.float64)) / 255.0
    mse = np.mean((d @ LUMA) ** 2)
    return float("inf") if mse == 0 else -10.0 * np.log10(mse)


def reduce(img, factor):
    w, h = img.size
    return img.resize((round(w / factor), round(h / factor)), Image.BICUBIC)


def crop4(img, scale=4):
    w, h = img.size
    return img.crop((0, 0, w // scale * scale, h // scale * scale))


def read_dump(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name in ("S", "idx"):
        info = header[name]
        start, end = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        out[name] = np.frombuffer(body[start:end], dtype=dtype)
    return out


def run(refsr, lr, refs, out, *flags):
    cmd = [refsr, "-q", "-t", "2", "-o", out]
    for r in refs:
        cmd += ["-r", r]
    start = time.monotonic()
    subprocess.run(cmd + list(flags) + [lr], check=True)
    return time.monotonic() - start


def score(hr, path):
    return psnr_y(np.asarray(hr), np.asarray(Image.open(path).convert("RGB")))


def zoom_case(refsr, photo, tmp):
    scene = crop4(Image.open(photo).convert("RGB"), 8)
    w, h = scene.size
    hr = reduce(scene, 2)
    lr = reduce(hr, 4)
    tele = scene.crop((w // 4, h // 4, w // 4 + w // 2, h // 4 + h // 2))
    matched = reduce(tele, 2)
    files = {}
    for name, img in (("lr", lr), ("tele", tele), ("matched", matched)):
        files[name] = os.path.join(tmp, name + ".png")
        img.save(files[name])
    bicubic = lr.resize(hr.size, Image.BICUBIC)
    row = [psnr_y(np.asarray(hr), np.asarray(bicubic))]
    out = os.path.join(tmp, "sr.png")
    for ref, scales in (("tele", "1"), ("tele", "0.5"), ("tele", "auto"),
                        ("matched", "1"), ("matched", "auto")):
        run(refsr, files["lr"], [files[ref]], out, "--search", "exact",
            "--ref-scales", scales)
        row.append(score(hr, out))
    return f"{lr.size[0]}×{lr.size[1]}", row


def fast_case(refsr, photo, tmp):
    img = Image.open(photo).convert("RGB")
    w, h = img.size
    hr = img.crop((0, 0, int(0.6 * w), h))
    ref = img.crop((w - int(0.6 * w), 0, w, h))
    if hr.size[0] > 480 or hr.size[1] > 480:
        hr = hr.crop((0, 0, min(hr.size[0], 480), min(hr.size[1], 480)))
        ref = ref.crop((0, 0, min(ref.size[0], 480), min(ref.size[1], 480)))
    hr = crop4(hr)
    lr = reduce(hr, 4)
    files = {n: os.path.join(tmp, n + ".png") for n in ("lr", "ref")}
    lr.save(files["lr"])
    ref.save(files["ref"])
    result = {}
    for mode in ("exact", "fast"):
        out = os.path.join(tmp, mode + ".png")
        dump = os.path.join(tmp, mode + ".safetensors")
        seconds = run(refsr, files["lr"], [files["ref"]], out, "--search",
                      mode, "--ref-scales", "1", "--dump", dump)
        result[mode] = (score(hr, out), read_dump(dump), seconds)
    differ = np.mean(result["exact"][1]["idx"] != result["fast"][1]["idx"])
    s_loss = np.mean(result["exact"][1]["S"] - result["fast"][1]["S"])
    return (f"{lr.size[0]}×{lr.size[1]}", f"{ref.size[0]}×{ref.size[1]}",
            result["exact"][0], result["fast"][0], differ, s_loss,
            result["exact"][2], result["fast"][2])


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("zoom", "fast"):
        sys.exit(__doc__)
    kind, refsr, photos = sys.argv[1], sys.argv[2], sys.argv[3:]
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("SCRATCH")) as tmp:
        if kind == "zoom":
            print("| photo | LR | bicubic | tele ×1 | tele ×0.5 | tele auto "
                  "| matched ×1 | matched auto |")
            print("|---|---|---|---|---|---|---|---|")
            for photo in photos:
                size, row = zoom_case(refsr, photo, tmp)
                rows.append(row)
                print(f"| {os.path.basename(photo)} | {size} | "
                      + " | ".join(f"{v:.2f}" for v in row) + " |",
                      flush=True)
            mean = np.mean(np.array(rows), axis=0)
            print("| **mean** | | " + " | ".join(f"**{v:.2f}**" for v in mean)
                  + " |")
        else:
            print("| photo | LR | Ref | exact | fast | Δ dB | index differs "
                  "| mean S loss | exact s | fast s |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for photo in photos:
                lr, ref, e, f, differ, s_loss, te, tf = fast_case(refsr, photo,
                                                                  tmp)
                rows.append((e, f, differ, s_loss, te, tf))
                print(f"| {os.path.basename(photo)} | {lr} | {ref} | {e:.2f} "
                      f"| {f:.2f} | {f - e:+.3f} | {100 * differ:.1f} % "
                      f"| {s_loss:.4f} | {te:.1f} | {tf:.1f} |", flush=True)
            m = np.mean(np.array(rows), axis=0)
            print(f"| **mean** | | | **{m[0]:.2f}** | **{m[1]:.2f}** "
                  f"| **{m[1] - m[0]:+.3f}** | **{100 * m[2]:.1f} %** "
                  f"| **{m[3]:.4f}** | {m[4]:.1f} | {m[5]:.1f} |")


if __name__ == "__main__":
    main()
