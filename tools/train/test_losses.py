#!/usr/bin/env python3
# Unit checks of the full training objective (tools/train/losses.py).
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Exit 0 when all checks pass, 1 on a failure; without PyTorch 77 (meson
"skip"), or 1 under CI=true.  Tiny sizes: a few seconds on one thread."""

import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from testenv import run_checks, unavailable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    unavailable(f"PyTorch missing ({e})")

import losses
import ttsr

D64 = torch.float64


def close(a, b, tol=1e-12):
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


# ------------------------------------------------------------- helpers

class QuadCritic(nn.Module):
    """D(x) = sum(w * x^2) per sample: dD/dx = 2 w x in closed form."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (self.w * x * x).flatten(1).sum(1, keepdim=True)


class MeanCritic(nn.Module):
    """Stub returning known values: the mean of each sample."""

    def forward(self, x):
        return x.flatten(1).mean(1, keepdim=True)


def averaging_lte(lte):
    """Make the LTE levels known multiples of a constant input: identity
    MeanShift and convs whose only tap is the centre, averaging the input
    channels, times 2 at conv2_1 and 3 at conv3_1.  For a constant image
    v >= 0: lv1 = v, lv2 = 2v, lv3 = 6v everywhere (distinct, so a swapped
    level shows)."""
    gains = {id(lte.slice2[3]): 2.0, id(lte.slice3[3]): 3.0}
    with torch.no_grad():
        lte.sub_mean.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
        lte.sub_mean.bias.zero_()
        for m in lte.modules():
            if isinstance(m, nn.Conv2d) and m is not lte.sub_mean:
                m.weight.zero_()
                m.weight[:, :, 1, 1] = gains.get(id(m), 1.0) / m.in_channels
                m.bias.zero_()
    return lte


def tiny_model():
    torch.manual_seed(0)
    return ttsr.TTSR([1, 1, 1, 1], 8)


def const(value, *shape):
    return torch.full(shape, float(value), dtype=D64)


def tiny_data(n=2, lr_side=8, ref_side=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    hr = torch.rand(n, 3, 4 * lr_side, 4 * lr_side, generator=g) * 2 - 1
    ref = torch.rand(n, 3, ref_side, ref_side, generator=g) * 2 - 1
    lr = F.interpolate(hr, scale_factor=0.25, mode="bicubic").clamp(-1, 1)
    lrsr = F.interpolate(lr, scale_factor=4, mode="bicubic").clamp(-1, 1)
    refsr = F.interpolate(F.interpolate(ref, scale_factor=0.25, mode="bicubic"),
                          scale_factor=4, mode="bicubic").clamp(-1, 1)
    return {"lr": lr, "lrsr": lrsr, "hr": hr, "ref": ref, "refsr": refsr}


def generator_opt(model):
    return torch.optim.Adam([{"params": model.MainNet.parameters(), "lr": 1e-4},
                             {"params": model.LTE.parameters(), "lr": 1e-5}],
                            betas=(0.9, 0.999))


def snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def changed(module, before):
    return any(not torch.equal(p, b) for p, b in zip(module.parameters(), before))


def count_calls(module):
    calls = [0]
    module.register_forward_hook(lambda *a: calls.__setitem__(0, calls[0] + 1))
    return calls


# -------------------------------------------------------------- checks

def check_gradient_penalty():
    """Against 10 mean((|2 w x^| - 1)^2) for D = sum(w x^2), and a linear
    D whose gradient w does not depend on x^ at all."""
    g = torch.Generator().manual_seed(2)
    w = torch.rand(3, 4, 5, generator=g, dtype=D64)
    real = torch.rand(3, 3, 4, 5, generator=g, dtype=D64)
    fake = torch.rand(3, 3, 4, 5, generator=g, dtype=D64)
    eps = torch.tensor([0.0, 0.25, 0.9], dtype=D64)
    hat = eps.view(-1, 1, 1, 1) * real + (1 - eps.view(-1, 1, 1, 1)) * fake
    norms = (2 * w * hat).flatten(1).norm(dim=1)
    want_quad = 10 * ((norms - 1) ** 2).mean()
    critic = QuadCritic(w.clone())
    got_quad = losses.gradient_penalty(critic, real, fake, eps)
    got_quad.backward()  # create_graph: the penalty reaches D's weights
    linear = lambda x: (w * x).flatten(1).sum(1, keepdim=True)
    want_lin = 10 * (w.norm() - 1) ** 2
    got_lin = losses.gradient_penalty(linear, real, fake, eps.view(-1, 1, 1, 1))
    ok = (close(got_quad, want_quad) and close(got_lin, want_lin)
          and critic.w.grad is not None and bool(critic.w.grad.abs().sum() > 0))
    return ok, (f"quadratic {float(got_quad):.6f} (closed form "
                f"{float(want_quad):.6f}), linear {float(got_lin):.6f} "
                f"({float(want_lin):.6f}), reaches D's weights")


def check_rec_per():
    """rec = |a-b|; per (lv3 of the averaging LTE = 6(x+1)/2) = (3(a-b))^2."""
    model = tiny_model()
    model.double()  # first: the averaging weights must be float64 values
    averaging_lte(model.LTE)
    obj = losses.FullObjective(model, 16, {"rec": 1, "per": 1})
    a, b = 0.5, -0.3
    terms = obj.compute_terms(const(a, 2, 3, 16, 16), None, None,
                              const(b, 2, 3, 16, 16))
    want_rec, want_per = abs(a - b), (3 * (a - b)) ** 2
    ok = (set(terms) == {"rec", "per"} and close(terms["rec"], want_rec)
          and close(terms["per"], want_per))
    return ok, (f"rec {float(terms['rec']):.6f} (want {want_rec:.6f}), per "
                f"{float(terms['per']):.6f} (want {want_per:.6f})")


def check_tpl():
    """Mean of three level MSEs; with use_S each scaled by sigmoid(S)^2
    (S constant, so its bicubic x2 / x4 is the same constant)."""
    model = tiny_model()
    model.double()  # first: the averaging weights must be float64 values
    averaging_lte(model.LTE)
    a, s, t = 0.2, 0.7, (0.1, 0.9, -0.5)       # sr value, S, T_lv3/2/1
    v = (a + 1) / 2                             # LTE(sr): lv1 v, lv2 2v, lv3 6v
    n, side = 2, 16
    sr = const(a, n, 3, side, side)
    S = const(s, n, 1, side // 4, side // 4)
    T = (const(t[0], n, 256, side // 4, side // 4),
         const(t[1], n, 128, side // 2, side // 2), const(t[2], n, 64, side, side))
    plain = sum((k * v - x) ** 2 for k, x in zip((6, 2, 1), t)) / 3
    weighted = plain / (1 + math.exp(-s)) ** 2
    got = {}
    for use_S in (False, True):
        obj = losses.FullObjective(model, 16, {"tpl": 1}, tpl_use_S=use_S)
        got[use_S] = float(obj.compute_terms(sr, S, T, None)["tpl"])
    # S weighting with a varying S: the lv1 weight is sigmoid(bicubic x4 S).
    Sv = torch.rand(1, 1, 2, 3, dtype=D64)
    m1 = torch.ones(1, 64, 8, 12, dtype=D64)
    zero3, zero2 = torch.zeros(1, 256, 2, 3, dtype=D64), torch.zeros(1, 128, 4, 6, dtype=D64)
    lv1_only = losses.tpl_loss(zero3, zero2, m1, Sv, zero3, zero2, 0 * m1, use_S=True)
    s1 = torch.sigmoid(F.interpolate(Sv, size=(8, 12), mode="bicubic"))
    want_lv1 = float((s1 ** 2).mean()) / 3
    # The official trainer passes T straight from the forward pass: the
    # loss reaches T (hence the LTE through the transfer) unless detach_T.
    reaches = []
    for detach in (False, True):
        obj = losses.FullObjective(model, 16, {"tpl": 1}, detach_T=detach)
        Tg = tuple(x.clone().requires_grad_() for x in T)
        loss = obj.compute_terms(sr, S, Tg, None)["tpl"]
        if loss.requires_grad:
            loss.backward()
        reaches.append(all(x.grad is not None and bool(x.grad.abs().sum() > 0)
                           for x in Tg))
    ok = (close(got[False], plain) and close(got[True], weighted)
          and close(lv1_only, want_lv1) and reaches == [True, False])
    return ok, (f"tpl {got[False]:.6f} (want {plain:.6f}), use_S {got[True]:.6f}"
                f" (want {weighted:.6f}), lv1 S-map {float(lv1_only):.6f}"
                f" (want {want_lv1:.6f}); gradient reaches T: {reaches}"
                " (default, detach_T)")


def check_wgan_values():
    """Critic stub returning each sample's mean: D and G losses by hand."""
    real = torch.stack([const(1.0, 3, 4, 4), const(2.0, 3, 4, 4)])
    fake = torch.stack([const(3.0, 3, 4, 4), const(5.0, 3, 4, 4)])
    stub = MeanCritic()
    d = losses.wgan_d_loss(stub(real), stub(fake))      # 4 - 1.5
    model = tiny_model()
    obj = losses.FullObjective(model, 16, {"adv": 1})
    obj.discriminator = stub
    g = obj.compute_terms(fake, None, None, real)["adv"]  # -(3 + 5) / 2
    ok = close(d, 2.5) and close(g, -4.0)
    return ok, f"D loss {float(d):.3f} (want 2.5), G loss {float(g):.3f} (want -4)"


def check_discriminator_shapes():
    shapes = {}
    for size in (16, 32, 96):
        D = losses.Discriminator(size)
        with torch.no_grad():
            shapes[size] = (tuple(D(torch.zeros(2, 3, size, size)).shape), D.fc_in,
                            D.head[0].in_features)
    want = {16: ((2, 1), 512, 512), 32: ((2, 1), 512, 512),
            96: ((2, 1), 4608, 4608)}
    convs = [m for m in losses.Discriminator(32).modules() if isinstance(m, nn.Conv2d)]
    layout = [(c.in_channels, c.out_channels, c.stride[0]) for c in convs]
    want_layout = [(3, 32, 1), (32, 32, 2), (32, 64, 1), (64, 64, 2),
                   (64, 128, 1), (128, 128, 2), (128, 256, 1), (256, 256, 2),
                   (256, 512, 1), (512, 512, 2)]
    ok = shapes == want and layout == want_layout
    return ok, f"(output, fc in) {shapes}; conv layout as the paper"


def check_training_steps():
    """Three full-objective steps: finite terms, G and D weights move, and
    the D state survives state_dict -> load_state_dict."""
    model = tiny_model()
    obj = losses.FullObjective(model, 32)
    opt = generator_opt(model)
    main0, lte0, d0 = (snapshot(m) for m in (model.MainNet, model.LTE,
                                             obj.discriminator))
    logs = []
    # The last step through the scaler path (disabled: CPU, no float16).
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    for step in range(3):
        logs.append(obj.generator_step(tiny_data(seed=step), opt,
                                       scaler if step == 2 else None))
    keys = {"rec", "per", "tpl", "adv", "d_loss", "total"}
    finite = all(set(l) == keys and all(math.isfinite(v) for v in l.values())
                 for l in logs)
    other = losses.FullObjective(tiny_model(), 32)
    other.load_state_dict(obj.state_dict())
    same_d = all(torch.equal(p, q) for p, q in zip(obj.discriminator.parameters(),
                                                   other.discriminator.parameters()))
    same_opt = other.d_opt.state_dict()["state"].keys() == obj.d_opt.state_dict()["state"].keys()
    # GAN_k = 2 critic updates per generator step.
    d_steps = [int(st["step"]) for st in obj.d_opt.state_dict()["state"].values()]
    ok = (finite and set(d_steps) == {6} and changed(model.MainNet, main0)
          and changed(model.LTE, lte0) and changed(obj.discriminator, d0)
          and same_d and same_opt)
    last = ", ".join(f"{k} {v:.4g}" for k, v in logs[-1].items())
    return ok, (f"last step {last}; MainNet, LTE, D changed; D Adam steps "
                f"{sorted(set(d_steps))} after 3 (GAN_k 2); D state reloads")


def check_zero_weights():
    """Weight 0 costs nothing: no critic call or update, no LTE copy pass."""
    results = []
    for weights, want_d, want_copy in (({"rec": 1, "per": 0, "tpl": 0, "adv": 0}, 0, 0),
                                       ({"rec": 1, "adv": 1e-3}, 1, 0),
                                       ({"rec": 1, "tpl": 1e-2}, 0, 1)):
        model = tiny_model()
        obj = losses.FullObjective(model, 32, weights)
        d_calls, copy_calls = count_calls(obj.discriminator), count_calls(obj.lte_copy)
        d0 = snapshot(obj.discriminator)
        log = obj.generator_step(tiny_data(), generator_opt(model))
        results.append(bool(d_calls[0]) == bool(want_d)
                       and bool(copy_calls[0]) == bool(want_copy)
                       and changed(obj.discriminator, d0) == bool(want_d)
                       and set(log) - {"total", "d_loss"} == {k for k, v in weights.items() if v})
    return all(results), f"rec only / rec+adv / rec+tpl: {results}"


def main():
    torch.set_num_threads(1)
    checks = {"gradient penalty closed form": check_gradient_penalty,
              "rec and per values": check_rec_per,
              "tpl values and S weighting": check_tpl,
              "WGAN D and G values": check_wgan_values,
              "discriminator shapes": check_discriminator_shapes,
              "full-objective training steps": check_training_steps,
              "zero-weight terms skipped": check_zero_weights}
    return run_checks(checks)


if __name__ == "__main__":
    sys.exit(main())
