#!/usr/bin/env python3
"""pngcompare.py — compares the plug-in's exported PNGs with the refsr
command's (standard library only: the GIMP test needs no imaging package).
Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

  pngcompare.py colour A.png B.png MAXDIFF
      same size and every colour value within MAXDIFF/255 (8- or 16-bit,
      grey or RGB, with or without alpha: alpha is ignored here)
  pngcompare.py alpha LR.png OUT.png SCALE
      OUT's alpha is LR's enlarged SCALE times: equal within 1/255 wherever
      LR's alpha is constant over the 5x5 pixels around the source point
      (the interpolation's reach), and the mean alpha within 1/255
"""
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
    """Returns (width, height, channels, has_alpha, rows of floats 0..1)."""
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
    top = float((1 << depth) - 1)
    fmt = ">%dH" % (w * nch) if size == 2 else None
    values = [[v / top for v in (struct.unpack(fmt, bytes(r)) if fmt else r)]
              for r in rows]
    return w, h, nch, ctype in (4, 6), values


def colour(a_path, b_path, maxdiff):
    wa, ha, na, alpha_a, a = read_png(a_path)
    wb, hb, nb, alpha_b, b = read_png(b_path)
    if (wa, ha) != (wb, hb):
        print(f"sizes differ: {wa}x{ha} and {wb}x{hb}")
        return 1
    ca, cb = na - alpha_a, nb - alpha_b
    if ca != cb:
        print(f"colour channels differ: {ca} and {cb}")
        return 1
    worst = 0.0
    for ra, rb in zip(a, b):
        for x in range(wa):
            for c in range(ca):
                worst = max(worst, abs(ra[x * na + c] - rb[x * nb + c]))
    print(f"{wa}x{ha}, {ca} colour channel(s): max difference "
          f"{worst * 255:.3f}/255 (allowed {maxdiff}/255)")
    return 0 if worst * 255 <= maxdiff + 1e-6 else 1


def alpha(lr_path, out_path, scale):
    wl, hl, nl, al, lr = read_png(lr_path)
    wo, ho, no, ao, out = read_png(out_path)
    if not (al and ao) or (wo, ho) != (wl * scale, hl * scale):
        print("missing alpha or wrong size")
        return 1
    la = [[r[x * nl + nl - 1] for x in range(wl)] for r in lr]
    oa = [[r[x * no + no - 1] for x in range(wo)] for r in out]
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
    if len(argv) == 5 and argv[1] == "colour":
        return colour(argv[2], argv[3], float(argv[4]))
    if len(argv) == 5 and argv[1] == "alpha":
        return alpha(argv[2], argv[3], int(argv[4]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
