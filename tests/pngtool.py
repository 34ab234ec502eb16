#!/usr/bin/env python3
"""pngtool.py — minimal PNG and safetensors helpers for the CLI tests
(standard library only, so the tests need no imaging package).
Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

  pngtool.py from-fixture CASE.safetensors NAME OUT.png [16]
      write the U8 HWC tensor NAME as an 8-bit (or 16-bit) RGB PNG
  pngtool.py compare A.png CASE.safetensors NAME MAXDIFF MAXFRACTION
      compare a PNG with a U8 tensor: every value within MAXDIFF and at most
      MAXFRACTION of the values differing
  pngtool.py size A.png            print WIDTHxHEIGHT
  pngtool.py depth A.png           print the bits per sample, 8 or 16
  pngtool.py sr16 A.png DUMP.safetensors
                                   exit 0 if the 16-bit A is the dump's
                                   sr as (v + 1) / 2 * 65535, rounded
  pngtool.py high-bytes A16.png B8.png MAXDIFF
                                   exit 0 if A's high bytes are within
                                   MAXDIFF of B
  pngtool.py crop A.png OUT.png X Y W H
                                   write the W×H region at (X, Y) of A
  pngtool.py confidence A.png DUMP.safetensors SCALE
                                   exit 0 if the grey A is S of the dump
                                   (clamped to 0..1, in 255 levels), each
                                   value a block of SCALE×SCALE pixels
  pngtool.py keys F.safetensors    print the tensor names, sorted
  pngtool.py same-tensors A B      exit 0 if both files hold the same
                                   names, shapes and float values
"""
import json
import struct
import sys
import zlib


def read_safetensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    return {k: (v["dtype"], v["shape"], body[v["data_offsets"][0]:v["data_offsets"][1]])
            for k, v in header.items()}


def write_png(path, width, height, rows, depth):
    raw = b"".join(b"\0" + row for row in rows)
    def chunk(kind, payload):
        out = struct.pack(">I", len(payload)) + kind + payload
        return out + struct.pack(">I", zlib.crc32(kind + payload) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def read_png_rgb8(path):
    w, h, channels, depth, data = read_png(path)
    assert channels == 3 and depth == 8, f"not 8-bit RGB: {channels} channels of {depth} bits"
    return w, h, data


def read_png(path):
    """(width, height, 1 or 3 channels, 8 or 16 bits, samples) of a grey,
    RGB or RGBA PNG (alpha dropped); samples are bytes, or for 16 bits a
    tuple of ints"""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", payload[:10])
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + n
    assert depth in (8, 16) and ctype in (0, 2, 6), f"unsupported PNG {depth} bit, type {ctype}"
    size = depth // 8
    bpp = {0: 1, 2: 3, 6: 4}[ctype] * size
    channels = min(bpp // size, 3)
    raw, stride, out, prev = zlib.decompress(idat), w * bpp, bytearray(), bytearray(w * bpp)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1: line[i] = (line[i] + a) & 255
            elif ftype == 2: line[i] = (line[i] + b) & 255
            elif ftype == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        for x in range(w):
            out += line[x * bpp:x * bpp + channels * size]
    if depth == 16:
        return w, h, channels, depth, struct.unpack(f">{len(out) // 2}H", out)
    return w, h, channels, depth, bytes(out)


def main(argv):
    cmd = argv[1]
    if cmd == "from-fixture":
        dtype, (h, w, _), data = read_safetensors(argv[2])[argv[3]]
        depth = int(argv[5]) if len(argv) > 5 else 8
        rows = [data[y * w * 3:(y + 1) * w * 3] for y in range(h)]
        if depth == 16:
            rows = [b"".join(struct.pack(">H", v * 257) for v in row) for row in rows]
        write_png(argv[4], w, h, rows, depth)
    elif cmd == "compare":
        w, h, mine = read_png_rgb8(argv[2])
        _, shape, want = read_safetensors(argv[3])[argv[4]]
        assert [h, w, 3] == shape, f"size {w}x{h} differs from {shape}"
        diffs = [abs(a - b) for a, b in zip(mine, want)]
        worst, count = max(diffs), sum(d > 0 for d in diffs)
        print(f"max diff {worst}, {count} of {len(diffs)} values differ")
        return 0 if worst <= int(argv[5]) and count <= float(argv[6]) * len(diffs) else 1
    elif cmd == "size":
        w, h, _, _, _ = read_png(argv[2])
        print(f"{w}x{h}")
    elif cmd == "depth":
        print(read_png(argv[2])[3])
    elif cmd == "sr16":
        w, h, channels, depth, mine = read_png(argv[2])
        _, shape, raw = read_safetensors(argv[3])["sr"]
        assert depth == 16 and channels == 3, f"{channels} channels of {depth} bits"
        assert shape[-2:] == [h, w], f"size {w}x{h} differs from {shape}"
        sr = struct.unpack(f"<{3 * w * h}f", raw)
        want = [int(min(max((sr[c * w * h + i] + 1.0) * 0.5, 0.0), 1.0) * 65535 + 0.5)
                for i in range(w * h) for c in range(3)]
        worst = max(abs(a - b) for a, b in zip(mine, want))
        print(f"max diff {worst} of 65535")
        return 0 if worst == 0 else 1
    elif cmd == "high-bytes":
        w, h, _, depth, wide = read_png(argv[2])
        narrow = read_png_rgb8(argv[3])[2]
        assert depth == 16 and len(wide) == len(narrow), "not a 16-bit PNG of the size"
        worst = max(abs((a >> 8) - b) for a, b in zip(wide, narrow))
        print(f"max diff {worst}")
        return 0 if worst <= int(argv[4]) else 1
    elif cmd == "crop":
        w, h, data = read_png_rgb8(argv[2])
        x, y, cw, ch = (int(v) for v in argv[4:8])
        assert 0 <= x and 0 <= y and x + cw <= w and y + ch <= h, "crop outside the image"
        rows = [data[((y + j) * w + x) * 3:((y + j) * w + x + cw) * 3] for j in range(ch)]
        write_png(argv[3], cw, ch, rows, 8)
    elif cmd == "confidence":
        w, h, channels, _, grey = read_png(argv[2])
        _, shape, raw = read_safetensors(argv[3])["S"]
        lh, lw, scale = shape[-2], shape[-1], int(argv[4])
        assert channels == 1, "not a grey PNG"
        assert (w, h) == (lw * scale, lh * scale), f"size {w}x{h}, not {scale}x {lw}x{lh}"
        s = struct.unpack(f"<{lw * lh}f", raw)
        want = [int(min(max(s[(y // scale) * lw + x // scale], 0.0), 1.0) * 255 + 0.5)
                for y in range(h) for x in range(w)]
        worst = max(abs(a - b) for a, b in zip(grey, want))
        print(f"{w}x{h}, max diff {worst}, S from {min(s):.3f} to {max(s):.3f}")
        return 0 if worst == 0 else 1
    elif cmd == "keys":
        print(" ".join(sorted(read_safetensors(argv[2]))))
    elif cmd == "same-tensors":
        a, b = read_safetensors(argv[2]), read_safetensors(argv[3])
        return 0 if list(a) == list(b) and all(a[k] == b[k] for k in a) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
