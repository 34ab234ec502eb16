# Minimal safetensors reader/writer on numpy (no `safetensors` package).
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Read and write the safetensors container with numpy arrays.

Layout: u64 little-endian header length N, N bytes of JSON (padded with
spaces to a multiple of 8 so the data is aligned), then the raw little-endian
tensors back to back in header order.
"""

import json
import struct

import numpy as np

DTYPES = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
}
NAMES = {v: k for k, v in DTYPES.items()}


def _bf16_to_f32(raw):
    # bfloat16 is the top half of a float32: widen by shifting into place.
    bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return bits.view(np.float32)


def read(path):
    """Return (tensors: dict name -> ndarray, metadata: dict)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} exceeds file size")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: tensor {name} lies outside the data")
        raw = data[begin:end]
        if info["dtype"] == "BF16":
            arr = _bf16_to_f32(raw)
        elif info["dtype"] in DTYPES:
            arr = np.frombuffer(raw, dtype=DTYPES[info["dtype"]])
        else:
            raise ValueError(f"{path}: unsupported dtype {info['dtype']}")
        shape = tuple(info["shape"])
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: tensor {name} size does not match shape")
        out[name] = arr.reshape(shape).copy()
    return out, meta


def write(path, tensors, metadata=None):
    """Write an ordered dict name -> ndarray (dtype kept; must be in DTYPES)."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks, offset = [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dt = arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype
        if dt not in NAMES:
            raise ValueError(f"tensor {name}: unsupported dtype {arr.dtype}")
        raw = arr.astype(dt, copy=False).tobytes()
        header[name] = {"dtype": NAMES[dt], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("ascii")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
