# imagecases.py — crafted image files for the image reader's tests, each
# with the outcome expected of it: the pixels (computed here, without the
# reader), or the error code and a fragment of the message, and for the
# declared-size bombs how fast and small the refusal must be.
# PNG and TIFF files are written by hand (every byte known: 16-bit,
# interlaced, planar, tiled, any orientation tag, broken checksums,
# truncations); JPEG with Pillow, whose decoder (libjpeg) also gives the
# expected pixels.  Used by test-image-read.py and fuzz/make-seeds.py.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps


class Case:
    """name: file name; data: its bytes (None: not a regular file, see
    make); expect: ("ok", array HxWx3 uint8, tolerance) or ("error", code,
    fragment); bomb: (max seconds, max MB) of the refusal, or None;
    corrupt: part of the valgrind run; memory: also read from memory."""

    def __init__(self, name, data, expect, bomb=None, corrupt=False,
                 memory=True, args=()):
        self.name, self.data, self.expect = name, data, expect
        self.bomb, self.corrupt, self.memory, self.args = bomb, corrupt, memory, args


def ok(pixels, tolerance=0):
    return ("ok", np.asarray(pixels, np.uint8), tolerance)


def error(code, fragment):
    return ("error", code, fragment)


# ---- pixels ---------------------------------------------------------------

def pattern(w, h, channels=3, seed=0, wide=False):
    """Smooth gradients with some noise: every value occurs, and JPEG
    keeps it close."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rng = np.random.default_rng(seed)
    planes = []
    for c in range(channels):
        base = (x * (3 + 2 * c) + y * (5 - c) + 40 * c) % 256
        planes.append(base + rng.integers(0, 8, (h, w)))
    a = np.stack(planes, -1) % 256
    if wide:
        return (a * 257 + rng.integers(0, 257, a.shape)).astype(np.uint16)
    return a.astype(np.uint8)


def to8(v):
    """16 bits to 8, rounded."""
    return np.floor(np.asarray(v, np.float64) / 257 + 0.5).astype(np.uint8)


def srgb_encode(linear):
    linear = np.clip(linear, 0, 1)
    return np.where(linear <= 0.0031308, 12.92 * linear,
                    1.055 * np.power(linear, 1 / 2.4) - 0.055)


def cmyk_to_rgb(cmyk):
    """babl's CMYK (ink coverage 0–1) to sRGB u8: the product of the
    inverted inks is linear light, then encoded."""
    c = np.asarray(cmyk, np.float64)
    rgb = (1 - c[..., :3]) * (1 - c[..., 3:4])
    return np.floor(srgb_encode(rgb) * 255 + 0.5).astype(np.uint8)


def grey_rgb(g):
    return np.repeat(np.asarray(g)[..., None], 3, -1)


# ---- PNG ------------------------------------------------------------------

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
         (1, 0, 2, 2), (0, 1, 1, 2)]


def png_rows(a, depth):
    """Unfiltered scanlines (filter byte 0) of a HxWxC array."""
    h, w, c = a.shape
    out = bytearray()
    for y in range(h):
        out.append(0)
        if depth == 16:
            out += a[y].astype(">u2").tobytes()
        elif depth == 8:
            out += a[y].astype(np.uint8).tobytes()
        else:
            out += np.packbits(np.unpackbits(a[y].astype(np.uint8).reshape(-1, 1),
                                             axis=1)[:, 8 - depth:]).tobytes()
    return bytes(out)


def png(a, color_type, depth=8, interlace=False, before=(), after=(),
        palette=None, idat_chunks=1, level=6, raw=None):
    """A PNG of array a (HxWxC); before/after: extra chunks (kind, data)
    around the image data."""
    h, w = a.shape[:2]
    if interlace:
        raw_data = b""
        for x0, y0, dx, dy in ADAM7:
            sub = a[y0::dy, x0::dx]
            if sub.size:
                raw_data += png_rows(sub, depth)
    else:
        raw_data = png_rows(a, depth)
    z = zlib.compress(raw if raw is not None else raw_data, level)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0,
                                      1 if interlace else 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, np.uint8).ravel()))
    for kind, data in before:
        out += chunk(kind, data)
    step = -(-len(z) // idat_chunks)
    for i in range(0, len(z), step):
        out += chunk(b"IDAT", z[i:i + step])
    for kind, data in after:
        out += chunk(kind, data)
    return out + chunk(b"IEND", b"")


def png_bomb(w, h):
    """A PNG that declares w×h grey pixels: IHDR and a little image data
    (the start of a deflate stream of zero rows)."""
    z = zlib.compressobj(9)
    data = z.compress(b"\0" * 200000) + z.flush(zlib.Z_SYNC_FLUSH)
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def find_chunk(data, kind):
    """Offset of the first chunk of that kind (its length field)."""
    at = 8
    while at + 8 <= len(data):
        n = struct.unpack(">I", data[at:at + 4])[0]
        if data[at + 4:at + 8] == kind:
            return at, n
        at += 12 + n
    raise ValueError(kind)


def flip_byte(data, at):
    b = bytearray(data)
    b[at] ^= 0x55
    return bytes(b)


# ---- EXIF -----------------------------------------------------------------

def exif_tiff(orientation, big_endian=True):
    """TIFF-structured EXIF holding only the Orientation tag."""
    e = ">" if big_endian else "<"
    head = (b"MM\0*" if big_endian else b"II*\0") + struct.pack(e + "I", 8)
    # one entry, a second harmless one first (tags out of the way)
    entries = [(0x010f, 2, 4, b"cam\0"), (0x0112, 3, 1,
                                          struct.pack(e + "HH", orientation, 0))]
    ifd = struct.pack(e + "H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(e + "HHI", tag, kind, count) + value
    return head + ifd + struct.pack(e + "I", 0)


def orient_expected(a, orientation):
    """The upright image, by Pillow's EXIF transpose (independent of the
    reader)."""
    im = Image.fromarray(np.asarray(a, np.uint8))
    exif = im.getexif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()
    return np.asarray(ImageOps.exif_transpose(im))


# ---- TIFF -----------------------------------------------------------------

def tiff(samples, bps, photometric, planar=1, tile=None, extra=(),
         orientation=None, colormap=None, big_endian=False, rows_per_strip=None,
         override=None, compression=1):
    """A TIFF of samples (HxWxS array; for bps < 8 the values, packed
    here), uncompressed or (compression 8) deflated.  override: {tag:
    (type, values)} replaces tags."""
    e = ">" if big_endian else "<"
    h, w, spp = samples.shape
    dt = e + "u2" if bps == 16 else np.uint8

    def pack_rows(block):   # rows of a (rows, cols, k) block, each padded
        out = bytearray()
        for row in block:
            flat = row.reshape(-1)
            if bps >= 8:
                out += flat.astype(dt).tobytes()
            else:
                bits = np.unpackbits(flat.astype(np.uint8).reshape(-1, 1), axis=1)[:, 8 - bps:]
                out += np.packbits(bits.reshape(-1)).tobytes()
        return bytes(out)

    planes = [samples[..., p:p + 1] for p in range(spp)] if planar == 2 else [samples]
    pieces = []
    if tile:
        tw, th = tile
        for plane in planes:
            for ty in range(0, h, th):
                for tx in range(0, w, tw):
                    block = np.zeros((th, tw, plane.shape[2]), samples.dtype)
                    part = plane[ty:ty + th, tx:tx + tw]
                    block[:part.shape[0], :part.shape[1]] = part
                    pieces.append(pack_rows(block))
    else:
        rps = rows_per_strip or h
        for plane in planes:
            for y in range(0, h, rps):
                pieces.append(pack_rows(plane[y:y + rps]))
    body = bytearray()
    offsets = []
    if compression == 8:
        pieces = [zlib.compress(p) for p in pieces]
    for p in pieces:
        offsets.append(8 + len(body))
        body += p
        if len(body) % 2:
            body.append(0)
    tags = {
        256: (4, [w]), 257: (4, [h]), 258: (3, [bps] * spp), 259: (3, [compression]),
        262: (3, [photometric]), 277: (3, [spp]), 284: (3, [planar]),
    }
    if tile:
        tags[322] = (4, [tile[0]])
        tags[323] = (4, [tile[1]])
        tags[324] = (4, offsets)
        tags[325] = (4, [len(p) for p in pieces])
    else:
        tags[273] = (4, offsets)
        tags[278] = (4, [rows_per_strip or h])
        tags[279] = (4, [len(p) for p in pieces])
    if orientation is not None:
        tags[274] = (3, [orientation])
    if colormap is not None:
        tags[320] = (3, list(np.asarray(colormap, np.uint16).T.reshape(-1)))
    if extra:
        tags[338] = (3, list(extra))
    tags.update(override or {})
    ifd_at = 8 + len(body)
    n = len(tags)
    ifd = struct.pack(e + "H", n)
    overflow = bytearray()
    overflow_at = ifd_at + 2 + 12 * n + 4
    for tag in sorted(tags):
        kind, values = tags[tag]
        size = {3: 2, 4: 4}[kind]
        raw = struct.pack(e + {3: "H", 4: "I"}[kind] * len(values), *values)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack(e + "I", overflow_at + len(overflow))
            overflow += raw
        ifd += struct.pack(e + "HHI", tag, kind, len(raw) // size) + field
    ifd += struct.pack(e + "I", 0)
    head = (b"MM\0*" if big_endian else b"II*\0") + struct.pack(e + "I", ifd_at)
    return head + bytes(body) + ifd + bytes(overflow)


# ---- JPEG -----------------------------------------------------------------

def jpeg(a, mode="RGB", **options):
    f = io.BytesIO()
    Image.fromarray(a, mode).save(f, "JPEG", **options)
    return f.getvalue()


def pillow_rgb(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def pillow_raw(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def jpeg_bomb(w, h):
    """A baseline grey JPEG whose SOF0 declares w×h: a real 8×8 image with
    its frame header rewritten."""
    data = bytearray(jpeg(np.zeros((8, 8), np.uint8), "L", quality=50))
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def jpeg_corrupt(data):
    """Entropy-coded data broken by a marker in the middle of a scan."""
    sos = data.index(b"\xff\xda")
    at = sos + (len(data) - sos) // 2
    return data[:at] + b"\xff\xd3" + data[at + 2:]


# ---- SVG ------------------------------------------------------------------

def svg(w, h, body=""):
    return (f'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{w}" height="{h}">{body}</svg>\n').encode()


# ---- the cases ------------------------------------------------------------

def truncations(prefix, data, offsets, fragment="truncated", code="io"):
    return [Case(f"{prefix}-cut-{label}", data[:at], error(code, fragment),
                 corrupt=True)
            for label, at in offsets]


def cases():
    out = []
    rgb = pattern(37, 23)
    rgba = pattern(37, 23, 4, seed=1)
    grey = pattern(37, 23, 1, seed=2)[..., 0]
    rgb16 = pattern(37, 23, 3, seed=3, wide=True)
    rgba16 = pattern(37, 23, 4, seed=4, wide=True)
    grey16 = pattern(37, 23, 1, seed=5, wide=True)

    # --- PNG, good
    out.append(Case("rgb8.png", png(rgb, 2), ok(rgb)))
    out.append(Case("rgba8.png", png(rgba, 6), ok(rgba[..., :3])))
    out.append(Case("grey8.png", png(grey[..., None], 0), ok(grey_rgb(grey))))
    out.append(Case("grey-alpha8.png", png(rgba[..., 1:3], 4), ok(grey_rgb(rgba[..., 1]))))
    for depth in (1, 2, 4):
        v = grey >> (8 - depth)
        out.append(Case(f"grey{depth}.png", png(v[..., None], 0, depth),
                        ok(grey_rgb(v.astype(int) * 255 // ((1 << depth) - 1)))))
    out.append(Case("rgb16.png", png(rgb16, 2, 16), ok(to8(rgb16))))
    out.append(Case("rgba16.png", png(rgba16, 6, 16), ok(to8(rgba16[..., :3]))))
    out.append(Case("grey16.png", png(grey16, 0, 16), ok(grey_rgb(to8(grey16[..., 0])))))
    out.append(Case("grey-alpha16.png", png(rgba16[..., :2], 4, 16),
                    ok(grey_rgb(to8(rgba16[..., 0])))))
    pal = pattern(16, 1, 3, seed=6)[0]
    idx = (grey % 16).astype(np.uint8)
    out.append(Case("palette8.png", png(idx[..., None], 3, 8, palette=pal), ok(pal[idx])))
    out.append(Case("palette4-trns.png", png(idx[..., None], 3, 4, palette=pal,
                                            before=[(b"tRNS", bytes(range(0, 256, 16)))]),
                    ok(pal[idx])))
    out.append(Case("rgb8-interlaced.png", png(rgb, 2, interlace=True), ok(rgb)))
    out.append(Case("rgba16-interlaced.png", png(rgba16, 6, 16, interlace=True),
                    ok(to8(rgba16[..., :3]))))
    out.append(Case("rgb8-many-idat.png", png(rgb, 2, idat_chunks=7), ok(rgb)))
    out.append(Case("exif6.png", png(rgb, 2, before=[(b"eXIf", exif_tiff(6))]),
                    ok(orient_expected(rgb, 6))))
    out.append(Case("exif3-after-idat.png", png(rgb, 2, after=[(b"eXIf", exif_tiff(3, False))]),
                    ok(orient_expected(rgb, 3))))
    # an unreadable ancillary chunk is dropped, as libpng does: the
    # pixels are all there
    out.append(Case("bad-iccp.png", png(rgb, 2, before=[(b"iCCP", b"x\0\0garbage")]),
                    ok(rgb)))
    try:
        from PIL import ImageCms
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        out.append(Case("srgb-icc.png", png(rgb, 2, before=[(b"iCCP", b"sRGB\0\0" + zlib.compress(srgb))]),
                        ok(rgb, 1)))
    except Exception:   # Pillow without littleCMS: no such case
        pass
    # trailing bytes after IEND are not the image's business
    out.append(Case("rgb8-trailing.png", png(rgb, 2) + b"junk", ok(rgb)))

    # --- PNG, broken
    good = png(rgb, 2)
    idat, n = find_chunk(good, b"IDAT")
    out += truncations("png", good, [
        ("signature", 6), ("ihdr", 20), ("idat-start", idat + 20),
        ("idat-middle", idat + 8 + n // 2), ("before-iend", len(good) - 12),
        ("last-byte", len(good) - 1)])
    out[-6].expect = error("io", "not an image")   # 6 bytes: not even a PNG
    out.append(Case("bad-idat-crc.png", flip_byte(good, idat + 8 + n + 1),
                    error("io", "CRC"), corrupt=True))
    out.append(Case("bad-ihdr-crc.png", flip_byte(good, 8 + 8 + 13 + 1),
                    error("io", "CRC"), corrupt=True))
    # the deflate data broken, its checksum made right
    z = bytearray(good[idat + 8:idat + 8 + n])
    z[len(z) // 2] ^= 0xFF
    z[len(z) // 2 + 1] ^= 0xFF
    bad = good[:idat] + chunk(b"IDAT", bytes(z)) + good[idat + 12 + n:]
    out.append(Case("bad-deflate.png", bad, error("io", "corrupt"), corrupt=True))
    # fewer rows than the header declares
    out.append(Case("short-idat.png", png(rgb, 2, raw=png_rows(rgb[:10], 8)),
                    error("io", "corrupt"), corrupt=True))
    # more data than the rows need
    out.append(Case("extra-idat.png", png(rgb, 2, raw=png_rows(rgb, 8) + b"\0" * 100),
                    error("io", "corrupt"), corrupt=True))
    out.append(Case("bad-filter.png", png(rgb, 2, raw=b"\x09" + png_rows(rgb, 8)[1:]),
                    error("io", "corrupt"), corrupt=True))
    out.append(Case("bomb-40000.png", png_bomb(40000, 40000),
                    error("invalid-input", "40000×40000"), bomb=(1, 100)))
    out.append(Case("bomb-max.png", png_bomb(0x7fffffff, 0x7fffffff),
                    error("invalid-input", "too large"), bomb=(1, 100)))
    out.append(Case("strip-65535x1.png", png(np.zeros((1, 65535, 1), np.uint8), 0),
                    error("invalid-input", "65535×1"), bomb=(1, 100)))
    out.append(Case("strip-1x65535.png", png(np.zeros((65535, 1, 1), np.uint8), 0),
                    error("invalid-input", "1×65535"), bomb=(1, 100)))
    out.append(Case("zero-width.png", png_bomb(0, 10), error("io", "corrupt"), corrupt=True))

    # --- JPEG
    j = jpeg(rgb, quality=95, subsampling=0)
    out.append(Case("rgb.jpg", j, ok(pillow_rgb(j))))
    j420 = jpeg(rgb, quality=90)
    out.append(Case("rgb420.jpg", j420, ok(pillow_rgb(j420))))
    jp = jpeg(rgb, quality=90, progressive=True)
    out.append(Case("progressive.jpg", jp, ok(pillow_rgb(jp))))
    jg = jpeg(grey, "L", quality=90)
    out.append(Case("grey.jpg", jg, ok(pillow_rgb(jg))))
    for o in range(1, 9):
        e = Image.Exif()
        e[0x0112] = o
        jo = jpeg(rgb, quality=95, subsampling=0, exif=e.tobytes())
        out.append(Case(f"orientation{o}.jpg", jo,
                        ok(np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(jo))).convert("RGB")))))
    cmyk = pattern(37, 23, 4, seed=7)
    jc = jpeg(cmyk, "CMYK", quality=95)
    # Pillow gives the ink values (it undoes Adobe's inversion)
    out.append(Case("cmyk.jpg", jc, ok(cmyk_to_rgb(pillow_raw(jc) / 255.0), 1)))
    out += truncations("jpeg", j, [("soi", 3), ("header", 100), ("scan-start", j.index(b"\xff\xda") + 20),
                                   ("scan-middle", len(j) // 2), ("before-eoi", len(j) - 2)])
    out += truncations("jpeg-progressive", jp, [("middle", len(jp) // 2), ("before-eoi", len(jp) - 2)])
    out.append(Case("corrupt-scan.jpg", jpeg_corrupt(j), error("io", "Corrupt JPEG data"),
                    corrupt=True))
    # markers, then nothing: no frame before the data ends
    out.append(Case("no-frame.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40, error("io", "truncated"),
                    corrupt=True))
    # libjpeg's fatal errors (its default would print and exit)
    sof = j.index(b"\xff\xc0")
    out.append(Case("bad-precision.jpg", j[:sof + 4] + b"\x09" + j[sof + 5:],
                    error("io", "Unsupported JPEG data precision 9"), corrupt=True))
    out.append(Case("bad-huffman-table.jpg", j.replace(b"\xff\xc4", b"\xff\xc4\x00\x03\x07\xff\xc4", 1),
                    error("io", "corrupt"), corrupt=True))
    out.append(Case("bomb-65500.jpg", jpeg_bomb(65500, 65500),
                    error("invalid-input", "65500×65500"), bomb=(1, 100)))

    # --- TIFF
    out.append(Case("rgb8.tif", tiff(rgb, 8, 2), ok(rgb)))
    out.append(Case("rgb8-be.tif", tiff(rgb, 8, 2, big_endian=True, rows_per_strip=5), ok(rgb)))
    out.append(Case("rgb16.tif", tiff(rgb16, 16, 2), ok(to8(rgb16))))
    out.append(Case("rgb16-be.tif", tiff(rgb16, 16, 2, big_endian=True), ok(to8(rgb16))))
    out.append(Case("rgba8-unassoc.tif", tiff(rgba, 8, 2, extra=[2]), ok(rgba[..., :3])))
    # premultiplied alpha is divided out
    alpha = np.maximum(rgba[..., 3:4], 64).astype(np.float64)
    premul = np.concatenate([np.floor(rgba[..., :3] * alpha / 255 + 0.5), alpha], -1).astype(np.uint8)
    out.append(Case("rgba8-assoc.tif", tiff(premul, 8, 2, extra=[1]),
                    ok(np.floor(premul[..., :3] / alpha * 255 + 0.5).clip(0, 255), 1)))
    out.append(Case("grey8.tif", tiff(grey[..., None], 8, 1), ok(grey_rgb(grey))))
    out.append(Case("grey16.tif", tiff(grey16, 16, 1), ok(grey_rgb(to8(grey16[..., 0])))))
    out.append(Case("grey8-miniswhite.tif", tiff(grey[..., None], 8, 0), ok(grey_rgb(255 - grey))))
    bits = (grey > 127).astype(np.uint8)
    out.append(Case("bilevel-miniswhite.tif", tiff(bits[..., None], 1, 0),
                    ok(grey_rgb(np.where(bits == 1, 0, 255)))))
    out.append(Case("grey4.tif", tiff((grey >> 4)[..., None], 4, 1),
                    ok(grey_rgb((grey >> 4).astype(int) * 17))))
    cmap8 = pattern(256, 1, 3, seed=8)[0]
    out.append(Case("palette8.tif", tiff(grey[..., None], 8, 3, colormap=cmap8.astype(np.uint16) * 257),
                    ok(cmap8[grey])))
    out.append(Case("palette4-8bit-map.tif", tiff((grey >> 4)[..., None], 4, 3,
                                                  colormap=cmap8[:16].astype(np.uint16)),
                    ok(cmap8[:16][grey >> 4])))
    out.append(Case("cmyk8.tif", tiff(cmyk, 8, 5), ok(cmyk_to_rgb(cmyk / 255.0), 1)))
    cmyk16 = pattern(37, 23, 4, seed=9, wide=True)
    out.append(Case("cmyk16.tif", tiff(cmyk16, 16, 5), ok(cmyk_to_rgb(cmyk16 / 65535.0), 1)))
    out.append(Case("rgb8-planar.tif", tiff(rgb, 8, 2, planar=2, rows_per_strip=4), ok(rgb)))
    out.append(Case("rgb16-planar.tif", tiff(rgb16, 16, 2, planar=2), ok(to8(rgb16))))
    out.append(Case("rgb8-tiled.tif", tiff(rgb, 8, 2, tile=(16, 16)), ok(rgb)))
    out.append(Case("rgba16-tiled-planar.tif", tiff(rgba16, 16, 2, planar=2, tile=(16, 16), extra=[2]),
                    ok(to8(rgba16[..., :3]))))
    for o in (2, 5, 6, 8):
        out.append(Case(f"orientation{o}.tif", tiff(rgb, 8, 2, orientation=o),
                        ok(orient_expected(rgb, o))))
    try:
        f = io.BytesIO()
        Image.fromarray(rgb).save(f, "TIFF", compression="tiff_lzw")
        out.append(Case("rgb8-lzw.tif", f.getvalue(), ok(rgb)))
        lzw = f.getvalue()
        f = io.BytesIO()
        Image.fromarray(rgb).save(f, "TIFF", compression="jpeg", quality=90)
        out.append(Case("rgb8-jpeg.tif", f.getvalue(), ok(pillow_rgb(f.getvalue()), 2)))
        # LZW data cut short inside the strip (the directory intact)
        cut = bytearray(lzw)
        cut[8 + 40:8 + 400] = bytes(360)
        out.append(Case("bad-lzw.tif", bytes(cut), error("io", "corrupt"), corrupt=True))
    except Exception:   # Pillow built without libtiff
        pass
    # Pillow writes the directory first: cut in the pixels, it is intact
    f = io.BytesIO()
    Image.fromarray(rgb).save(f, "TIFF")
    if struct.unpack("<I", f.getvalue()[4:8])[0] < 100:
        out.append(Case("tiff-directory-first-cut-pixels.tif", f.getvalue()[:-1000],
                        error("io", "truncated (row"), corrupt=True))
    t = tiff(rgb, 8, 2, rows_per_strip=4)
    out += truncations("tiff", t, [("header", 6), ("strips", 8 + 37 * 23 * 3 // 2),
                                   ("ifd", len(t) - 40)])
    out.append(Case("bomb-100000.tif", tiff(rgb, 8, 2, override={256: (4, [100000]), 257: (4, [100000])}),
                    error("invalid-input", "100000×100000"), bomb=(1, 100)))
    # within the pixel limit, but a strip that claims 4 GB: nothing of the
    # kind is allocated (uncompressed, the rows are all there)
    out.append(Case("huge-strip.tif", tiff(rgb, 8, 2, override={279: (4, [0xFFFFFFF0])}),
                    ok(rgb), bomb=(1, 100)))
    out.append(Case("huge-strip-deflate.tif", tiff(rgb, 8, 2, compression=8,
                                                   override={279: (4, [0xFFFFFFF0])}),
                    error("io", "truncated"), bomb=(1, 100), corrupt=True))
    out.append(Case("huge-tiles.tif", tiff(rgb, 8, 2, tile=(16, 16),
                                           override={322: (4, [65536]), 323: (4, [65536])}),
                    error("io", "tiles of 65536×65536"), bomb=(1, 100), corrupt=True))
    out.append(Case("float.tif", tiff(rgb, 8, 2, override={339: (3, [3, 3, 3])}),
                    error("io", "unsupported TIFF")))

    # --- SVG (through GEGL; files only)
    out.append(Case("red.svg", svg(20, 10, '<rect width="20" height="10" fill="#c81e0a"/>'),
                    ok(np.tile(np.array([200, 30, 10], np.uint8), (10, 20, 1))), memory=False))
    out.append(Case("bomb-30000.svg", svg(30000, 30000), error("invalid-input", "30000×30000"),
                    bomb=(1, 100), memory=False))
    out.append(Case("wide-40000.svg", svg(40000, 500), error("invalid-input", "32767"),
                    bomb=(1, 100), memory=False))
    out.append(Case("broken.svg", svg(20, 10)[:-10], error("io", "SVG"), memory=False, corrupt=True))
    # entities that expand to gigabytes; libxml2 refuses them (its message
    # ends with a newline, which must not reach the one-line error)
    laughs = '<!ENTITY a "' + "a" * 80 + '">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 20}">' for p, n in zip("abcdef", "bcdefg"))
    out.append(Case("laughs.svg", f'<?xml version="1.0"?>\n<!DOCTYPE svg [{laughs}]>\n'
                    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
                    '<text>&g;</text></svg>\n'.encode(),
                    error("io", "entity reference loop)"), bomb=(1, 100), memory=False,
                    corrupt=True))
    # an internal DTD subset, as Adobe Illustrator writes
    out.append(Case("illustrator.svg", b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD '
                    b'SVG 1.1//EN" "x.dtd" [<!ENTITY ns_svg "http://www.w3.org/2000/svg">]>\n'
                    b'<svg xmlns="&ns_svg;" width="4" height="3"><rect width="4" height="3" '
                    b'fill="#0a64c8"/></svg>\n',
                    ok(np.tile(np.array([10, 100, 200], np.uint8), (3, 4, 1))), memory=False))

    # --- not images, or not ones refsr reads
    out.append(Case("empty.png", b"", error("io", "empty")))
    out.append(Case("text.png", b"just some text\n", error("io", "not an image")))
    out.append(Case("anim.gif", b"GIF89a" + bytes(20), error("io", "GIF files are not supported")))
    out.append(Case("a-folder", None, error("io", "folder"), memory=False))
    out.append(Case("missing.png", None, error("io", "no such file"), memory=False))
    # the limit is the caller's
    out.append(Case("limit.png", png(rgb, 2), error("invalid-input", "too large"),
                    args=("--max-pixels", "500")))
    return out


def write(case, folder):
    """Makes the case's file in folder; returns its path."""
    path = os.path.join(folder, case.name)
    if case.name == "a-folder":
        os.makedirs(path, exist_ok=True)
    elif case.data is not None:
        with open(path, "wb") as f:
            f.write(case.data)
    return path
