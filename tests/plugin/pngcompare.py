#!/usr/bin/env python3
"""pngcompare.py — compares the plug-in's exported PNGs with the refsr
command's (standard library only: the GIMP test needs no imaging package).
Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

  pngcompare.py colour A.png B.png
      same size, same bit depth, same number of colour channels (grey or
      RGB), and every colour value identical; alpha, if any, is not
      compared here
  pngcompare.py deep A16.png B8.png MAXFRACTION
      A is 16-bit, B 8-bit, same size and colour channels: every colour
      value of A lies within B's 8-bit rounding step, up to A's own
      rounding (|A/65535 - B/255| <= 0.5/255 + 0.5/65535), so A rounded to
      8 bits differs from B by at most 1, and in at most MAXFRACTION of the
      values
  pngcompare.py close A.png B.png MAXDIFF MINPSNR
      same size, bit depth and colour channels; every colour value within
      MAXDIFF (in steps of the bit depth) and the PSNR at least MINPSNR dB
  pngcompare.py alpha LR.png OUT.png SCALE
      OUT's alpha is LR's enlarged SCALE times: equal within 1/255 wherever
      LR's alpha is constant over the 5x5 pixels around the source point
      (the interpolation's reach), and the mean alpha within 1/255
"""
import math
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def unfilter(raw, width, height, bpp):
    stride = width * bpp
    out, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        out.append(line)
        prev = line
    return out


def read_png(path):
    """Returns (width, height, channels, has_alpha, depth, rows of ints)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", payload)
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + n
    if depth not in (8, 16) or ctype not in CHANNELS or interlace:
        raise SystemExit(f"{path}: unsupported PNG ({depth} bit, type {ctype})")
    nch = CHANNELS[ctype]
    size = depth // 8
    rows = unfilter(zlib.decompress(idat), w, h, nch * size)
    fmt = ">%dH" % (w * nch) if size == 2 else None
    values = [list(struct.unpack(fmt, bytes(r))) if fmt else list(r) for r in rows]
    return w, h, nch, ctype in (4, 6), depth, values


def colour_pairs(a, b):
    """(values of A, values of B, description) for the colour channels."""
    wa, ha, na, alpha_a, da, ra = a
    wb, hb, nb, alpha_b, db, rb = b
    if (wa, ha) != (wb, hb):
        raise SystemExit(f"sizes differ: {wa}x{ha} and {wb}x{hb}")
    ca, cb = na - alpha_a, nb - alpha_b
    if ca != cb:
        raise SystemExit(f"colour channels differ: {ca} and {cb}")
    va = [row[x * na + c] for row in ra for x in range(wa) for c in range(ca)]
    vb = [row[x * nb + c] for row in rb for x in range(wb) for c in range(cb)]
    return va, vb, f"{wa}x{ha}, {ca} colour channel(s), {len(va)} values"


def colour(a_path, b_path):
    a, b = read_png(a_path), read_png(b_path)
    if a[4] != b[4]:
        print(f"bit depths differ: {a[4]} and {b[4]}")
        return 1
    va, vb, what = colour_pairs(a, b)
    differ = [abs(x - y) for x, y in zip(va, vb) if x != y]
    print(f"{what} ({a[4]}-bit): {len(differ)} differ"
          + (f", by up to {max(differ)}" if differ else "") + " (allowed: none)")
    return 0 if not differ and va else 1


def deep(a_path, b_path, maxfraction):
    a, b = read_png(a_path), read_png(b_path)
    if (a[4], b[4]) != (16, 8):
        print(f"need a 16-bit and an 8-bit PNG, got {a[4]} and {b[4]} bits")
        return 1
    va, vb, what = colour_pairs(a, b)
    bound = 0.5 / 255 + 0.5 / 65535
    worst = max(abs(x / 65535 - y / 255) for x, y in zip(va, vb))
    reduced = [abs((x * 255 + 32767) // 65535 - y) for x, y in zip(va, vb)]
    differ = sum(1 for d in reduced if d)
    print(f"{what}: max |A/65535 - B/255| = {worst * 255:.4f}/255 "
          f"(allowed {bound * 255:.4f}/255); reduced to 8 bits {differ} differ "
          f"({differ / len(va):.3%}, allowed {maxfraction:.3%}), "
          f"by up to {max(reduced)} (allowed 1)")
    return 0 if (va and worst <= bound + 1e-9 and max(reduced) <= 1
                 and differ <= maxfraction * len(va)) else 1


def close(a_path, b_path, maxdiff, minpsnr):
    a, b = read_png(a_path), read_png(b_path)
    if a[4] != b[4]:
        print(f"bit depths differ: {a[4]} and {b[4]}")
        return 1
    va, vb, what = colour_pairs(a, b)
    top = (1 << a[4]) - 1
    worst = max(abs(x - y) for x, y in zip(va, vb))
    mse = sum((x - y) ** 2 for x, y in zip(va, vb)) / len(va)
    psnr = 10 * math.log10(top * top / mse) if mse else math.inf
    print(f"{what} ({a[4]}-bit): max difference {worst}/{top} (allowed "
          f"{maxdiff}), PSNR {psnr:.1f} dB (at least {minpsnr} dB)")
    return 0 if va and worst <= maxdiff and psnr >= minpsnr else 1


def alpha(lr_path, out_path, scale):
    wl, hl, nl, al, dl, lr = read_png(lr_path)
    wo, ho, no, ao, do, out = read_png(out_path)
    if not (al and ao) or (wo, ho) != (wl * scale, hl * scale):
        print("missing alpha or wrong size")
        return 1
    la = [[r[x * nl + nl - 1] / ((1 << dl) - 1) for x in range(wl)] for r in lr]
    oa = [[r[x * no + no - 1] / ((1 << do) - 1) for x in range(wo)] for r in out]
    checked, worst = 0, 0.0
    for y in range(ho):
        for x in range(wo):
            sx, sy = int((x + 0.5) / scale), int((y + 0.5) / scale)
            near = {la[j][i] for j in range(max(0, sy - 2), min(hl, sy + 3))
                    for i in range(max(0, sx - 2), min(wl, sx + 3))}
            if len(near) == 1:
                checked += 1
                worst = max(worst, abs(oa[y][x] - near.pop()))
    mean_l = sum(map(sum, la)) / (wl * hl)
    mean_o = sum(map(sum, oa)) / (wo * ho)
    print(f"alpha: {checked} flat pixels, max difference {worst * 255:.3f}/255;"
          f" mean {mean_l * 255:.2f} -> {mean_o * 255:.2f} (/255)")
    return 0 if checked > 0 and worst * 255 <= 1 and abs(mean_l - mean_o) * 255 <= 1 else 1


def main(argv):
    if len(argv) == 4 and argv[1] == "colour":
        return colour(argv[2], argv[3])
    if len(argv) == 5 and argv[1] == "deep":
        return deep(argv[2], argv[3], float(argv[4]))
    if len(argv) == 6 and argv[1] == "close":
        return close(argv[2], argv[3], int(argv[4]), float(argv[5]))
    if len(argv) == 5 and argv[1] == "alpha":
        return alpha(argv[2], argv[3], int(argv[4]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
