#!/usr/bin/env python3
# make-seeds.py OUT_DIR [FIXTURES_DIR] — small seed files for the fuzzers:
# tiny safetensors and hand-made PyTorch checkpoints (legacy and zip, with
# memo references, shared storages and strided views, as torch.save writes
# them), plus truncated prefixes of the fixture weights; and for the image
# reader the PNG, JPEG and TIFF files of tests/imagecases.py, good and
# broken (made with numpy and Pillow, which CI has: without them, a few
# hand-made PNGs only).
#
# Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later
import json
import os
import struct
import sys
import zipfile
import zlib

MAGIC = (0x1950a86a20f9469cfc6c).to_bytes(10, "little")


class Pickle:
    """Emits protocol-2 opcodes, memoising strings and globals like the
    Python pickler does (BINPUT on first use, BINGET after)."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = {}

    def put(self, key):
        self.memo[key] = len(self.memo)
        self.out += b"q" + bytes([self.memo[key]])

    def get(self, key):
        if key in self.memo:
            self.out += b"h" + bytes([self.memo[key]])
            return True
        return False

    def string(self, s):
        if not self.get(("s", s)):
            b = s.encode()
            self.out += b"X" + struct.pack("<I", len(b)) + b
            self.put(("s", s))

    def glob(self, module, name):
        if not self.get(("g", module, name)):
            self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
            self.put(("g", module, name))

    def int(self, v):
        if 0 <= v < 256:
            self.out += b"K" + bytes([v])
        elif 0 <= v < 65536:
            self.out += b"M" + struct.pack("<H", v)
        else:
            self.out += b"J" + struct.pack("<i", v)

    def ints(self, values):
        self.out += b"("
        for v in values:
            self.int(v)
        self.out += b"t"

    def stop(self):
        self.out += b"."
        return bytes(self.out)


# name, storage key, storage size, offset, size, stride
TENSORS = [
    ("MainNet.SFE.conv_head.weight", "0", 12, 0, (2, 2, 3), (6, 3, 1)),
    ("MainNet.SFE.conv_head.bias", "1", 4, 1, (2,), (2,)),
    ("LTE.sub_mean.weight", "0", 12, 2, (3, 3), (1, 3)),
]


def storage_values(n):
    return struct.pack("<%df" % n, *[0.25 * i - 1 for i in range(n)])


def object_pickle(legacy, module="torch", location="cpu"):
    p = Pickle()
    p.out += b"}"
    p.put("dict")
    p.out += b"("
    for name, key, numel, offset, size, stride in TENSORS:
        p.string(name)
        p.glob("torch._utils", "_rebuild_tensor_v2")
        p.out += b"(("
        p.string("storage")
        p.glob(module, "FloatStorage")
        p.string(key)
        p.string(location)
        p.int(numel)
        if legacy:
            p.out += b"N"
        p.out += b"tQ"
        p.int(offset)
        p.ints(size)
        p.ints(stride)
        p.out += b"\x89"
        p.glob("collections", "OrderedDict")
        p.out += b")R"
        p.out += b"tR"
    p.out += b"u"
    return p.stop()


def storages():
    seen = {}
    for _, key, numel, *_ in TENSORS:
        seen.setdefault(key, numel)
    return seen


def legacy(module="torch", location="cpu"):
    out = bytearray(b"\x80\x02\x8a\x0a" + MAGIC + b".")
    out += b"\x80\x02M\xe9\x03."
    sys_info = Pickle()
    sys_info.out += b"}("
    sys_info.string("little_endian")
    sys_info.out += b"\x88u"
    out += sys_info.stop()
    out += object_pickle(True, module, location)
    keys = Pickle()
    keys.out += b"]("
    for key in sorted(storages()):
        keys.string(key)
    keys.out += b"e"
    out += keys.stop()
    for key, numel in sorted(storages().items()):
        out += struct.pack("<q", numel) + storage_values(numel)
    return bytes(out)


def zipped(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", object_pickle(False))
        z.writestr("archive/byteorder", "little")
        for key, numel in storages().items():
            z.writestr("archive/data/" + key, storage_values(numel))
        z.writestr("archive/version", "3\n")


def safetensors(entries, metadata=None):
    header, data = {}, bytearray()
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(data)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def image_seeds(folder):
    try:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "tests"))
        import imagecases
    except ImportError:
        for w, h, kind in ((4, 3, 2), (5, 2, 0)):
            rows = b"".join(b"\0" + bytes(range(w * (3 if kind == 2 else 1)))
                            for _ in range(h))
            write(os.path.join(folder, f"tiny-{kind}.png"),
                  b"\x89PNG\r\n\x1a\n"
                  + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, kind, 0, 0, 0))
                  + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))
        return
    for case in imagecases.cases():
        if case.data and case.memory and len(case.data) <= 65536:
            write(os.path.join(folder, case.name), case.data)


def main():
    out = sys.argv[1]
    fixtures = sys.argv[2] if len(sys.argv) > 2 else None
    st_dir, pt_dir = (os.path.join(out, d) for d in ("safetensors",
                                                      "torch-checkpoint"))
    os.makedirs(st_dir, exist_ok=True)
    os.makedirs(pt_dir, exist_ok=True)
    image_dir = os.path.join(out, "image")
    os.makedirs(image_dir, exist_ok=True)
    image_seeds(image_dir)
    write(os.path.join(st_dir, "tiny"), safetensors([
        ("MainNet.SFE.conv_head.weight", "F32", [2, 3, 1, 1],
         storage_values(6)),
        ("MainNet.SFE.conv_head.bias", "F16", [2], b"\x00\x3c\x00\xc0"),
        ("LTE.sub_mean.bias", "BF16", [2], b"\x80\x3f\x00\x40"),
    ], {"config": "tiny"}))
    write(os.path.join(st_dir, "empty-header"), safetensors([]))
    write(os.path.join(pt_dir, "legacy"), legacy())
    write(os.path.join(pt_dir, "legacy-cuda"), legacy("torch.cuda", "cuda:0"))
    zipped(os.path.join(pt_dir, "zip"))
    if fixtures:
        stem = os.path.join(fixtures, "weights-1+1+1+1-seed1")
        with open(stem + ".safetensors", "rb") as f:
            write(os.path.join(st_dir, "fixture-head"), f.read(12288))
        with open(stem + ".legacy.pt", "rb") as f:
            write(os.path.join(pt_dir, "fixture-pickles"), f.read(12400))


main()
