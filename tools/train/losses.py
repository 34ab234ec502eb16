# The full TTSR training objective: reconstruction, perceptual, transferal
# perceptual and WGAN-GP adversarial losses, with the paper's discriminator.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""The paper's full objective (spec section 2; train.sh weights).

    L = w_rec * L1(sr, hr) + w_per * L_per + w_tpl * L_tpl + w_adv * L_adv

written from the description of the official loss/loss.py,
model/Discriminator.py and trainer.py.

Reconstruction: L1(sr, hr) on the [-1, 1] images.

Perceptual (DEVIATION from the official code): the official loss is the MSE
between ImageNet-VGG19 relu5_1 features of (sr+1)/2 and (hr+1)/2, the hr side
without gradient.  ImageNet VGG19 weights are not available here, so the
features are relu3_1 (lv3) of a frozen copy of the jointly trained LTE (a
fine-tuned VGG19 up to relu3_1).  The copy is the same one the transferal
perceptual loss uses, refreshed from the live LTE before each step, so one
forward of sr serves both losses; the target thus drifts slowly with the
LTE (lr 1e-5) where the official VGG19 stays fixed.

Transferal perceptual (official TPerceptualLoss, defaults use_S=False, 'l2'):
LTE_copy((sr+1)/2) gives (lv1, lv2, lv3); the loss is the mean over the three
levels of MSE(lv_k, T_lvk).  With use_S both sides are multiplied by
sigmoid(S) (lv3), sigmoid(bicubic x2 of S) (lv2), sigmoid(bicubic x4) (lv1).
The T maps are NOT detached by default: in the official trainer they come
straight from the forward pass, so this loss also trains the LTE through the
transfer (and S with use_S); detach_T=True is offered for experiments.

Adversarial (WGAN-GP, GAN_k = 2 discriminator steps per generator step,
discriminator Adam lr 1e-4 betas (0, 0.9)):
    D loss = mean D(fake.detach()) - mean D(real) + 10 mean((|grad D(x^)| - 1)^2)
    x^ = eps real + (1 - eps) fake, eps ~ U(0, 1) per sample
    G loss = -mean D(fake)

A term of weight 0 is not computed at all (nor is the discriminator run or
stepped); the weights can be changed between steps (FullObjective.weights),
e.g. reconstruction only for the official initial epochs.  Under autocast only
the model's forward is autocast; the losses, the critic and its gradient
penalty (a double backward, fragile in float16) run in float32.
"""

import contextlib
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_WEIGHTS = {"rec": 1.0, "per": 1e-2, "tpl": 1e-2, "adv": 1e-3}


# ----------------------------------------------------------- discriminator

def _conv(c_in, c_out, stride):
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=True)


class Discriminator(nn.Module):
    """The paper's discriminator: ten 3x3 convs (every second one stride 2),
    LeakyReLU 0.2 after each, then fc 1024 and fc 1."""

    CHANNELS = (32, 32, 64, 64, 128, 128, 256, 256, 512, 512)

    def __init__(self, in_size=160):
        super().__init__()
        layers, c_in = [], 3
        for i, c_out in enumerate(self.CHANNELS):
            layers += [_conv(c_in, c_out, 2 if i % 2 else 1),
                       nn.LeakyReLU(0.2)]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        # Five stride-2 convs (k3, p1) map n to ceil(n/2) each time; the
        # official in_size//32 only agrees when in_size is a multiple of 32.
        side = math.ceil(in_size / 32)
        self.fc_in = 512 * side * side
        self.head = nn.Sequential(nn.Linear(self.fc_in, 1024),
                                  nn.LeakyReLU(0.2), nn.Linear(1024, 1))

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


# ------------------------------------------------------------- loss terms

def wgan_d_loss(d_real, d_fake):
    """Critic loss without the penalty: mean D(fake) - mean D(real)."""
    return d_fake.mean() - d_real.mean()


def wgan_g_loss(d_fake):
    return -d_fake.mean()


def gradient_penalty(D, real, fake, eps, weight=10.0):
    """weight * mean over samples of (|dD/dx at x^|_2 - 1)^2.

    eps: one value per sample (shape [N] or [N,1,1,1]), given by the caller
    so the penalty is reproducible in tests.  create_graph: the penalty is
    itself differentiated with respect to D's weights.
    """
    eps = eps.reshape(-1, 1, 1, 1).to(real.dtype)
    hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(hat).sum(), hat, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)
    return weight * (norm - 1).pow(2).mean()


def perceptual_loss(sr_feat, hr_feat):
    return F.mse_loss(sr_feat, hr_feat)


def tpl_loss(sr_lv3, sr_lv2, sr_lv1, S, T_lv3, T_lv2, T_lv1,
             use_S=False, kind="l2"):
    """Transferal perceptual loss: mean over the three levels."""
    dist = F.mse_loss if kind == "l2" else F.l1_loss
    if use_S:
        h, w = S.shape[-2:]
        s3 = torch.sigmoid(S)
        s2 = torch.sigmoid(F.interpolate(S, size=(2 * h, 2 * w), mode="bicubic"))
        s1 = torch.sigmoid(F.interpolate(S, size=(4 * h, 4 * w), mode="bicubic"))
    else:
        s3 = s2 = s1 = 1.0
    total = (dist(sr_lv3 * s3, T_lv3 * s3) + dist(sr_lv2 * s2, T_lv2 * s2)
             + dist(sr_lv1 * s1, T_lv1 * s1))
    return total / 3.0


# ------------------------------------------------------------ the objective

class _Frozen:
    """Parameters of a module without gradient for the duration (the G loss
    needs D's input gradient only, not a weight gradient nobody uses)."""

    def __init__(self, module):
        self.params = [p for p in module.parameters() if p.requires_grad]

    def __enter__(self):
        for p in self.params:
            p.requires_grad_(False)

    def __exit__(self, *exc):
        for p in self.params:
            p.requires_grad_(True)


class FullObjective:
    """Owns the discriminator, its optimiser and the frozen LTE copy."""

    def __init__(self, model, in_size, weights=None, device="cpu",
                 lr_dis=1e-4, gan_k=2, tpl_use_S=False, tpl_type="l2",
                 detach_T=False):
        self.model = model
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self.gan_k, self.tpl_use_S, self.tpl_type = gan_k, tpl_use_S, tpl_type
        self.detach_T = detach_T
        self.discriminator = Discriminator(in_size).to(device)
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(),
                                      lr=lr_dis, betas=(0.0, 0.9), eps=1e-8)
        # The copy's weights are overwritten before each use; it carries no
        # state of its own, so it is not part of state_dict().
        self.lte_copy = copy.deepcopy(model.LTE).to(device)
        for p in self.lte_copy.parameters():
            p.requires_grad_(False)

    def _w(self, name):
        return float(self.weights.get(name, 0.0))

    # -- discriminator

    def discriminator_step(self, real, fake):
        """One critic update on fake (detached here); returns its loss."""
        fake = fake.detach()
        eps = torch.rand(real.size(0), device=real.device, dtype=real.dtype)
        D = self.discriminator
        loss = (wgan_d_loss(D(real), D(fake))
                + gradient_penalty(D, real, fake, eps))
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.d_opt.step()
        return float(loss)

    # -- generator

    def compute_terms(self, sr, S, textures, hr):
        """Unweighted generator-side terms of non-zero weight, as tensors."""
        terms = {}
        if self._w("rec"):
            terms["rec"] = F.l1_loss(sr, hr)
        if self._w("per") or self._w("tpl"):
            # Refreshed as the official model.forward(sr=...) does.
            self.lte_copy.load_state_dict(self.model.LTE.state_dict())
            lv1, lv2, lv3 = self.lte_copy((sr + 1.0) / 2.0)
            if self._w("per"):
                with torch.no_grad():
                    hr_lv3 = self.lte_copy((hr.detach() + 1.0) / 2.0)[2]
                terms["per"] = perceptual_loss(lv3, hr_lv3)
            if self._w("tpl"):
                t3, t2, t1 = textures
                if self.detach_T:
                    S, t3, t2, t1 = (t.detach() for t in (S, t3, t2, t1))
                terms["tpl"] = tpl_loss(lv3, lv2, lv1, S, t3, t2, t1,
                                        self.tpl_use_S, self.tpl_type)
        if self._w("adv"):
            with _Frozen(self.discriminator):
                terms["adv"] = wgan_g_loss(self.discriminator(sr))
        return terms

    def generator_step(self, data, opt, scaler=None, autocast=None):
        """One training step; returns the float loss terms and 'total'
        (weighted), plus 'd_loss' (last critic update) when adv is on.

        autocast: a factory of the context the model's forward runs in
        (train.py's FP16 on CUDA or BF16 on CPU; None: float32); the losses,
        the critic and its penalty stay float32.  scaler: the trainer's
        GradScaler for the generator (None: plain backward).
        """
        m = self.model
        with (autocast or contextlib.nullcontext)():
            S, _, t3, t2, t1 = m.textures(data["lrsr"], data["ref"], data["refsr"])
            sr = m.MainNet(data["lr"], S, t3, t2, t1)
        sr, S, t3, t2, t1 = (t.float() for t in (sr, S, t3, t2, t1))
        out = {}
        if self._w("adv"):
            # Before the generator's loss, as the official AdversarialLoss.
            for _ in range(self.gan_k):
                out["d_loss"] = self.discriminator_step(data["hr"], sr)
        terms = self.compute_terms(sr, S, (t3, t2, t1), data["hr"])
        if not terms:
            raise ValueError("every loss weight is 0: nothing to train on")
        total = sum(self._w(k) * v for k, v in terms.items())
        opt.zero_grad(set_to_none=True)
        if scaler is None:
            total.backward()
            opt.step()
        else:
            scaler.scale(total).backward()
            scaler.step(opt)
            scaler.update()
        out.update({k: float(v) for k, v in terms.items()})
        out["total"] = float(total)
        return out

    # -- checkpoints

    def state_dict(self):
        return {"discriminator": self.discriminator.state_dict(),
                "d_opt": self.d_opt.state_dict()}

    def load_state_dict(self, state):
        self.discriminator.load_state_dict(state["discriminator"])
        self.d_opt.load_state_dict(state["d_opt"])
