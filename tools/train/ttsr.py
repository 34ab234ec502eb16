# TTSR network in PyTorch, written from spec/TTSR.md, with the official keys.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Texture Transformer Network for Image Super-Resolution (x4).

Module and parameter names reproduce the official state_dict keys
(`MainNet.*` then `LTE.*`, spec section 9) so weights move between this
code, the C engine and the released checkpoints.  Inputs are in [-1, 1].
"""

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def parse_config(text):
    """'16+16+8+4' -> [16, 16, 8, 4]."""
    blocks = [int(v) for v in str(text).split("+")]
    if len(blocks) != 4 or min(blocks) < 1:
        raise ValueError(f"config {text!r}: need four positive counts a+b+c+d")
    return blocks


def conv3x3(c_in, c_out, stride=1):
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=True)


def conv1x1(c_in, c_out):
    return nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=True)


def up(x, scale):
    # In-network resampling is PyTorch bicubic (A = -0.75), spec 7.2.
    return F.interpolate(x, scale_factor=scale, mode="bicubic",
                         align_corners=False)


# --------------------------------------------------------------------- LTE

class MeanShift(nn.Conv2d):
    """Fixed 1x1 conv x/std - mean/std; stored in the checkpoint."""

    def __init__(self):
        super().__init__(3, 3, 1)
        std = torch.tensor(IMAGENET_STD)
        mean = torch.tensor(IMAGENET_MEAN)
        self.weight.data = torch.eye(3).div(std.view(3, 1)).view(3, 3, 1, 1)
        self.bias.data = -mean / std
        for p in self.parameters():
            p.requires_grad = False


class LTE(nn.Module):
    """VGG19 conv1_1..conv3_1 with taps relu1_1, relu2_1, relu3_1.

    The Sequential child names are torchvision's layer indices, which is what
    gives the official keys `slice2.5`, `slice3.10`, ...
    """

    def __init__(self):
        super().__init__()
        relu = lambda: nn.ReLU(inplace=False)
        self.slice1 = nn.Sequential(OrderedDict(
            [("0", conv3x3(3, 64)), ("1", relu())]))
        self.slice2 = nn.Sequential(OrderedDict(
            [("2", conv3x3(64, 64)), ("3", relu()), ("4", nn.MaxPool2d(2, 2)),
             ("5", conv3x3(64, 128)), ("6", relu())]))
        self.slice3 = nn.Sequential(OrderedDict(
            [("7", conv3x3(128, 128)), ("8", relu()), ("9", nn.MaxPool2d(2, 2)),
             ("10", conv3x3(128, 256)), ("11", relu())]))
        self.sub_mean = MeanShift()

    def forward(self, x):
        """x in [0, 1]; returns (lv1, lv2, lv3)."""
        x = self.sub_mean(x)
        lv1 = self.slice1(x)
        lv2 = self.slice2(lv1)
        lv3 = self.slice3(lv2)
        return lv1, lv2, lv3


# -------------------------------------------------------- search, transfer

def search(query_lv3, key_lv3, idx=None):
    """Hard attention over 3x3 patches of lv3 (spec 5.1).

    Returns S [N,1,h,w] (best cosine) and idx [N,P] (arg-max reference
    position; torch.max returns the first maximum on CPU, as the official
    code relies on).  The P x Q matrix is fine at training crop sizes.

    With idx given (int64 [N,P]: "oracle" mode, the indices of another
    run injected, as the fixture README prescribes where near-tied
    arg-maxes flip), no arg-max is taken: S is the relevance at idx.
    """
    n, _, h, w = query_lv3.shape
    q = F.normalize(F.unfold(query_lv3, 3, padding=1), dim=1)   # N,2304,P
    k = F.normalize(F.unfold(key_lv3, 3, padding=1), dim=1)     # N,2304,Q
    if idx is not None:
        idx = idx.reshape(n, h * w).to(torch.int64)
    if not torch.is_grad_enabled():
        relevance = torch.bmm(k.transpose(1, 2), q)               # N,Q,P
        if idx is None:
            best, idx = torch.max(relevance, dim=1)
        else:
            best = torch.gather(relevance, 1, idx.unsqueeze(1)).squeeze(1)
        return best.view(n, 1, h, w), idx
    # Training: the max passes gradient only to the winning entry, so find
    # idx without autograd and redo just those P dot products with it; this
    # skips the two P x Q x 2304 products of the bmm backward.
    if idx is None:
        with torch.no_grad():
            idx = torch.max(torch.bmm(k.transpose(1, 2), q), dim=1)[1]
    k_best = torch.gather(k, 2, idx.unsqueeze(1).expand(-1, k.size(1), -1))
    # At least float32: under CUDA autocast a 2304-term fp16 sum rounds S.
    acc = torch.promote_types(q.dtype, torch.float32)
    best = (k_best.to(acc) * q.to(acc)).sum(dim=1)
    return best.view(n, 1, h, w), idx


def transfer(value, idx, out_hw, kernel, padding, stride):
    """Copy the value patch chosen by idx to every LR position, fold, /9.

    The constant divisor 9 (not the overlap count) attenuates border bands;
    that is what the official code does and what trained weights expect.
    """
    v = F.unfold(value, kernel, padding=padding, stride=stride)   # N,C*k*k,Q
    picked = torch.gather(v, 2, idx.unsqueeze(1).expand(-1, v.size(1), -1))
    folded = F.fold(picked, out_hw, kernel, padding=padding, stride=stride)
    return folded / 9.0


# ----------------------------------------------------------------- MainNet

class ResBlock(nn.Module):
    def __init__(self, n_feats, res_scale=1.0):
        super().__init__()
        self.conv1 = conv3x3(n_feats, n_feats)
        self.conv2 = conv3x3(n_feats, n_feats)
        self.res_scale = res_scale

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(x))) * self.res_scale + x


def res_chain(count, n_feats, res_scale):
    return nn.ModuleList([ResBlock(n_feats, res_scale) for _ in range(count)])


def run_chain(chain, x):
    for block in chain:
        x = block(x)
    return x


class SFE(nn.Module):
    def __init__(self, n_blocks, n_feats, res_scale):
        super().__init__()
        self.conv_head = conv3x3(3, n_feats)
        self.RBs = res_chain(n_blocks, n_feats, res_scale)
        self.conv_tail = conv3x3(n_feats, n_feats)

    def forward(self, x):
        head = F.relu(self.conv_head(x))
        return self.conv_tail(run_chain(self.RBs, head)) + head


class CSFI2(nn.Module):
    def __init__(self, n_feats):
        super().__init__()
        self.conv12 = conv1x1(n_feats, n_feats)
        self.conv21 = conv3x3(n_feats, n_feats, 2)
        self.conv_merge1 = conv3x3(n_feats * 2, n_feats)
        self.conv_merge2 = conv3x3(n_feats * 2, n_feats)

    def forward(self, x1, x2):
        x12 = F.relu(self.conv12(up(x1, 2)))
        x21 = F.relu(self.conv21(x2))
        y1 = F.relu(self.conv_merge1(torch.cat((x1, x21), 1)))
        y2 = F.relu(self.conv_merge2(torch.cat((x2, x12), 1)))
        return y1, y2


class CSFI3(nn.Module):
    # Registration order fixes the key order: conv12, conv13, conv21, conv23,
    # conv31_1, conv31_2, conv32, conv_merge1..3.
    def __init__(self, n_feats):
        super().__init__()
        self.conv12 = conv1x1(n_feats, n_feats)
        self.conv13 = conv1x1(n_feats, n_feats)
        self.conv21 = conv3x3(n_feats, n_feats, 2)
        self.conv23 = conv1x1(n_feats, n_feats)
        self.conv31_1 = conv3x3(n_feats, n_feats, 2)
        self.conv31_2 = conv3x3(n_feats, n_feats, 2)
        self.conv32 = conv3x3(n_feats, n_feats, 2)
        self.conv_merge1 = conv3x3(n_feats * 3, n_feats)
        self.conv_merge2 = conv3x3(n_feats * 3, n_feats)
        self.conv_merge3 = conv3x3(n_feats * 3, n_feats)

    def forward(self, x1, x2, x3):
        x12 = F.relu(self.conv12(up(x1, 2)))
        x13 = F.relu(self.conv13(up(x1, 4)))
        x21 = F.relu(self.conv21(x2))
        x23 = F.relu(self.conv23(up(x2, 2)))
        x31 = F.relu(self.conv31_2(F.relu(self.conv31_1(x3))))
        x32 = F.relu(self.conv32(x3))
        y1 = F.relu(self.conv_merge1(torch.cat((x1, x21, x31), 1)))
        y2 = F.relu(self.conv_merge2(torch.cat((x2, x12, x32), 1)))
        y3 = F.relu(self.conv_merge3(torch.cat((x3, x13, x23), 1)))
        return y1, y2, y3


class MergeTail(nn.Module):
    def __init__(self, n_feats):
        super().__init__()
        self.conv13 = conv1x1(n_feats, n_feats)
        self.conv23 = conv1x1(n_feats, n_feats)
        self.conv_merge = conv3x3(n_feats * 3, n_feats)
        self.conv_tail1 = conv3x3(n_feats, n_feats // 2)
        self.conv_tail2 = conv1x1(n_feats // 2, 3)

    def forward(self, x1, x2, x3):
        a = F.relu(self.conv13(up(x1, 4)))
        b = F.relu(self.conv23(up(x2, 2)))
        m = F.relu(self.conv_merge(torch.cat((x3, a, b), 1)))
        return torch.clamp(self.conv_tail2(self.conv_tail1(m)), -1, 1)


class MainNet(nn.Module):
    """Spec section 6; attribute order = official key order."""

    def __init__(self, n_res_blocks, n_feats=64, res_scale=1.0):
        super().__init__()
        n0, n1, n2, n3 = n_res_blocks
        f = n_feats
        self.SFE = SFE(n0, f, res_scale)
        self.conv11_head = conv3x3(f + 256, f)
        self.RB11 = res_chain(n1, f, res_scale)
        self.conv11_tail = conv3x3(f, f)
        self.conv12 = conv3x3(f, f * 4)
        self.ps12 = nn.PixelShuffle(2)
        self.conv22_head = conv3x3(f + 128, f)
        self.ex12 = CSFI2(f)
        self.RB21 = res_chain(n2, f, res_scale)
        self.RB22 = res_chain(n2, f, res_scale)
        self.conv21_tail = conv3x3(f, f)
        self.conv22_tail = conv3x3(f, f)
        self.conv23 = conv3x3(f, f * 4)
        self.ps23 = nn.PixelShuffle(2)
        self.conv33_head = conv3x3(f + 64, f)
        self.ex123 = CSFI3(f)
        self.RB31 = res_chain(n3, f, res_scale)
        self.RB32 = res_chain(n3, f, res_scale)
        self.RB33 = res_chain(n3, f, res_scale)
        self.conv31_tail = conv3x3(f, f)
        self.conv32_tail = conv3x3(f, f)
        self.conv33_tail = conv3x3(f, f)
        self.merge_tail = MergeTail(f)

    def stage1(self, lr, S, T_lv3):
        x11 = self.SFE(lr)
        # Texture heads have no activation; their output is gated by S.
        x11 = x11 + self.conv11_head(torch.cat((x11, T_lv3), 1)) * S
        return x11 + self.conv11_tail(run_chain(self.RB11, x11))

    def stage2(self, x11, S, T_lv2):
        x22 = F.relu(self.ps12(self.conv12(x11)))
        x22 = x22 + self.conv22_head(torch.cat((x22, T_lv2), 1)) * up(S, 2)
        r1, r2 = self.ex12(x11, x22)
        for b1, b2 in zip(self.RB21, self.RB22):
            r1, r2 = b1(r1), b2(r2)
        return x11 + self.conv21_tail(r1), x22 + self.conv22_tail(r2)

    def stage3(self, x21, x22, S, T_lv1):
        x33 = F.relu(self.ps23(self.conv23(x22)))
        x33 = x33 + self.conv33_head(torch.cat((x33, T_lv1), 1)) * up(S, 4)
        r1, r2, r3 = self.ex123(x21, x22, x33)
        for b1, b2, b3 in zip(self.RB31, self.RB32, self.RB33):
            r1, r2, r3 = b1(r1), b2(r2), b3(r3)
        return (x21 + self.conv31_tail(r1), x22 + self.conv32_tail(r2),
                x33 + self.conv33_tail(r3))

    def forward(self, lr, S, T_lv3, T_lv2, T_lv1):
        x11 = self.stage1(lr, S, T_lv3)
        x21, x22 = self.stage2(x11, S, T_lv2)
        x31, x32, x33 = self.stage3(x21, x22, S, T_lv1)
        return self.merge_tail(x31, x32, x33)


# -------------------------------------------------------------------- TTSR

class TTSR(nn.Module):
    def __init__(self, n_res_blocks=(16, 16, 8, 4), n_feats=64, res_scale=1.0):
        super().__init__()
        self.config = list(n_res_blocks)
        self.n_feats = n_feats
        self.MainNet = MainNet(self.config, n_feats, res_scale)
        self.LTE = LTE()

    def textures(self, lrsr, ref, refsr, idx=None):
        """Search + transfer: returns S, idx, T_lv3, T_lv2, T_lv1.

        idx (int64, N x P), when given, replaces the arg-max of the search
        (oracle mode, see search()).
        """
        query = self.LTE((lrsr + 1.0) / 2.0)[2]
        key = self.LTE((refsr + 1.0) / 2.0)[2]
        ref_lv1, ref_lv2, ref_lv3 = self.LTE((ref + 1.0) / 2.0)
        S, idx = search(query, key, idx)
        h, w = query.shape[2:]
        t3 = transfer(ref_lv3, idx, (h, w), 3, 1, 1)
        t2 = transfer(ref_lv2, idx, (2 * h, 2 * w), 6, 2, 2)
        t1 = transfer(ref_lv1, idx, (4 * h, 4 * w), 12, 4, 4)
        return S, idx, t3, t2, t1

    def forward(self, lr, lrsr, ref, refsr):
        """All inputs in [-1, 1]; lrsr is 4h x 4w, ref/refsr multiples of 4."""
        S, _, t3, t2, t1 = self.textures(lrsr, ref, refsr)
        return self.MainNet(lr, S, t3, t2, t1)

    def export_state(self):
        """The official checkpoint dict (no buffers beyond the weights)."""
        return OrderedDict((k, v.detach()) for k, v in self.state_dict().items())


def config_from_state(state):
    """Infer (n_res_blocks, n_feats) from official key names and shapes."""
    def count(prefix):
        ids = {k[len(prefix):].split(".")[0] for k in state if k.startswith(prefix)}
        return len(ids)
    blocks = [count("MainNet.SFE.RBs."), count("MainNet.RB11."),
              count("MainNet.RB21."), count("MainNet.RB31.")]
    n_feats = int(state["MainNet.SFE.conv_head.weight"].shape[0])
    return blocks, n_feats
