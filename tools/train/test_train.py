#!/usr/bin/env python3
# Unit checks of the training helpers: safetensors I/O, search gradient, init.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Exit 0 when all checks pass, 1 on a failure; without PyTorch or numpy
77 (meson "skip"), or 1 under CI=true."""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from testenv import run_checks, unavailable

# One BLAS thread: the checks are small and CI machines are shared.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:
    unavailable(f"PyTorch or numpy missing ({e})")

import init_weights
import st_io
import ttsr


def check_st_roundtrip():
    """Every dtype the engine reads survives write -> read bit for bit."""
    rng = np.random.default_rng(3)
    tensors = {"f32": rng.standard_normal((2, 3, 5)).astype(np.float32),
               "f16": rng.standard_normal((7,)).astype(np.float16),
               "i64": np.arange(-4, 5, dtype=np.int64).reshape(3, 3),
               "u8": rng.integers(0, 256, (4, 1, 2), dtype=np.uint8)}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.safetensors")
        st_io.write(path, tensors, {"k": 1.5})
        with open(path, "rb") as f:
            header_len = int.from_bytes(f.read(8), "little")
        back, meta = st_io.read(path)
    same = all(back[k].dtype == v.dtype and np.array_equal(back[k], v)
               for k, v in tensors.items())
    ok = same and list(back) == list(tensors) and meta == {"k": "1.5"}
    return ok and header_len % 8 == 0, "dtypes, order, metadata, alignment"


def reference_search(q_feat, k_feat):
    """Official formulation with autograd through the whole bmm."""
    q = F.normalize(F.unfold(q_feat, 3, padding=1), dim=1)
    k = F.normalize(F.unfold(k_feat, 3, padding=1), dim=1)
    best, idx = torch.max(torch.bmm(k.transpose(1, 2), q), dim=1)
    return best, idx


def check_search_gradient():
    """The cheap training search gives the official S, idx and gradients."""
    gen = torch.Generator().manual_seed(5)
    qf = torch.rand(2, 256, 5, 6, generator=gen, dtype=torch.float64)
    kf = torch.rand(2, 256, 4, 7, generator=gen, dtype=torch.float64)
    weights = torch.rand(2, 30, generator=gen, dtype=torch.float64)
    grads = []
    for fn in (reference_search, ttsr.search):
        q, k = qf.clone().requires_grad_(), kf.clone().requires_grad_()
        best, idx = fn(q, k)
        (best.reshape(2, -1) * weights).sum().backward()
        grads.append((best.detach().reshape(2, -1), idx, q.grad, k.grad))
    (b0, i0, gq0, gk0), (b1, i1, gq1, gk1) = grads
    ok = (torch.equal(i0, i1) and torch.allclose(b0, b1, atol=1e-12)
          and torch.allclose(gq0, gq1, atol=1e-12)
          and torch.allclose(gk0, gk1, atol=1e-12))
    return ok, "S, idx, dS/dquery, dS/dkey vs autograd of the bmm"


def check_structured_init():
    """The initial main network is a x4 upsampler: flat in, flat out."""
    torch.manual_seed(0)
    model = ttsr.TTSR([2, 1, 1, 1], 32)
    init_weights.structured_init(model, 0)
    colour = torch.tensor([0.3, -0.5, 0.8]).view(1, 3, 1, 1)
    lr = colour.expand(1, 3, 10, 12).contiguous()
    S = torch.zeros(1, 1, 10, 12)  # no texture: tests the upsampling path
    t3, t2, t1 = (torch.zeros(1, c, 10 * s, 12 * s) for c, s in
                  ((256, 1), (128, 2), (64, 4)))
    with torch.no_grad():
        sr = model.MainNet(lr, S, t3, t2, t1)
    err = float((sr - colour).abs().max())
    return err < 1e-5, f"max diff {err:.3g}"


def check_meanshift():
    """LTE input normalisation is the official MeanShift (spec section 4).

    Expected values come from the spec, not from ttsr's own constants:
    utils.MeanShift(rgb_range=1, rgb_mean=(0.485, 0.456, 0.406),
    rgb_std=(0.229, 0.224, 0.225), sign=-1) sets, in float32,
    W = eye(3) / std and b = sign * rgb_range * mean / std; the spec lists
    the resulting float32 values, which must come out too.
    """
    rgb_range, sign = np.float32(1.0), np.float32(-1.0)
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    want_w = (np.eye(3, dtype=np.float32) / std.reshape(3, 1)).reshape(3, 3, 1, 1)
    want_b = sign * rgb_range * mean / std
    spec_w = np.array([4.3668122, 4.4642854, 4.4444447], np.float32)
    spec_b = np.array([-2.1179039, -2.0357141, -1.8044444], np.float32)
    shift = ttsr.MeanShift()
    w = shift.weight.detach().numpy()
    b = shift.bias.detach().numpy()
    off_diagonal = w.reshape(3, 3)[~np.eye(3, dtype=bool)]
    ok = (w.dtype == np.float32 and b.dtype == np.float32
          and w.shape == (3, 3, 1, 1) and b.shape == (3,)
          and np.array_equal(w, want_w) and np.array_equal(b, want_b)
          and np.array_equal(np.diag(w.reshape(3, 3)), spec_w)
          and np.array_equal(b, spec_b)
          and not off_diagonal.any()
          and not any(p.requires_grad for p in shift.parameters()))
    return ok, (f"W diag {np.diag(w.reshape(3, 3)).tolist()}, b {b.tolist()}; "
                "spec: diag(1/std), -mean/std, off-diagonal 0, frozen")


def check_grow():
    """A model grown to more ResBlocks computes what the smaller one does."""
    gen = torch.Generator().manual_seed(9)
    small = ttsr.TTSR([1, 1, 1, 1], 8)
    for p in small.parameters():  # random everywhere: every path matters
        p.data.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    tensors = {k: v.numpy() for k, v in small.export_state().items()}
    big = ttsr.TTSR([2, 3, 2, 2], 8)
    grown = init_weights.grow(big, tensors)
    lr = torch.rand(1, 3, 6, 7, generator=gen) * 2 - 1
    lrsr = F.interpolate(lr, scale_factor=4, mode="bicubic")
    ref = torch.rand(1, 3, 24, 20, generator=gen) * 2 - 1
    with torch.no_grad():
        a = small(lr, lrsr, ref, ref)
        b = big(lr, lrsr, ref, ref)
    diff = float((a - b).abs().max())
    moved = any(float(blk.conv1.weight.abs().sum()) > 0 for blk in big.MainNet.RB11)
    try:
        init_weights.grow(ttsr.TTSR([1, 1, 1, 1], 16), tensors)
        width_refused = False
    except ValueError:
        width_refused = True
    ok = grown == 1 + 2 + 2 + 3 and diff == 0.0 and moved and width_refused
    return ok, (f"{grown} identity blocks added (want 8), max |small - grown| {diff} "
                f"(want 0), new first convs random {moved}, other width refused {width_refused}")


def check_frozen_lte_step():
    """With the LTE frozen the textures run without autograd; the main
    network's gradients are the same as through the full graph."""
    import contextlib
    import train
    gen = torch.Generator().manual_seed(4)
    lr = torch.rand(2, 3, 6, 6, generator=gen, dtype=torch.float64) * 2 - 1
    data = {"lr": lr, "lrsr": F.interpolate(lr, scale_factor=4, mode="bicubic"),
            "hr": torch.rand(2, 3, 24, 24, generator=gen, dtype=torch.float64) * 2 - 1,
            "ref": torch.rand(2, 3, 20, 16, generator=gen, dtype=torch.float64) * 2 - 1}
    data["refsr"] = data["ref"].flip(-1)
    grads, losses = [], []
    for frozen in (False, True):
        torch.manual_seed(2)
        model = ttsr.TTSR([1, 1, 1, 1], 8).double()
        opt = train.make_optimizer(model, 0.0, 0.0)
        for p in model.LTE.parameters():
            p.requires_grad_(p.requires_grad and not frozen)
        scaler = torch.amp.GradScaler("cuda", enabled=False)
        losses.append(train.train_step(model, opt, scaler, data, contextlib.nullcontext)["rec"])
        grads.append(torch.cat([p.grad.flatten() for p in model.MainNet.parameters()]))
        lte_grads = [p.grad for p in model.LTE.parameters()]
    diff = float((grads[0] - grads[1]).abs().max())
    ok = losses[0] == losses[1] and diff < 1e-12 and all(g is None for g in lte_grads)
    return ok, (f"loss {losses[0]:.6f} / {losses[1]:.6f}, max MainNet gradient "
                f"difference {diff:.1e} (< 1e-12), frozen LTE has no gradient "
                f"{all(g is None for g in lte_grads)}")


def main():
    torch.set_num_threads(1)
    checks = {"safetensors round trip": check_st_roundtrip,
              "training search gradient": check_search_gradient,
              "structured init upsampler": check_structured_init,
              "LTE MeanShift values": check_meanshift,
              "grown model equals the smaller one": check_grow,
              "frozen-LTE step": check_frozen_lte_step}
    return run_checks(checks)


if __name__ == "__main__":
    sys.exit(main())
