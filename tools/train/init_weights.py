# Structured initialisation of TTSR for short training runs without ImageNet.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Start TTSR as a plain x4 upsampler with an informative random LTE.

TTSR has no LR-upsampled skip connection, so from a random start the
network spends its first thousands of steps learning to reproduce the image
at all.  Here the main path starts as a x4 bicubic upsampler: ResBlock
second convs and stage tails are zero (identity blocks, as in zero-init
residual training), the merge tail reads the bicubic-upsampled image
channels back out, and the two conv+PixelShuffle steps start as bilinear x2
so the x2/x4 branches begin with meaningful features.  Everything
else keeps a random init, so training only has to learn the *improvement*.

The LTE must stay VGG-shaped (64/128/256) but no ImageNet weights exist
here.  conv1_1 gets a complete, orthonormal bank (3 colour axes x 9 DCT
3x3 patterns, each with both signs so the ReLU loses nothing); deeper convs
get zero-mean He filters with a slightly negative bias, which respond to
texture rather than brightness and keep cosine relevances spread out.
"""

import math

import numpy as np
import torch

# Luma and two colour-opponent axes, orthonormal.
COLOUR_AXES = np.array([[1, 1, 1], [1, -1, 0], [1, 1, -2]], dtype=np.float64)
COLOUR_AXES /= np.linalg.norm(COLOUR_AXES, axis=1, keepdims=True)


def dct3():
    """The nine orthonormal 3x3 DCT-II patterns, DC first."""
    n = np.arange(3)
    basis = []
    for u in range(3):
        cu = np.cos(math.pi * (2 * n + 1) * u / 6) * (math.sqrt(1 / 3) if u == 0 else math.sqrt(2 / 3))
        for v in range(3):
            cv = np.cos(math.pi * (2 * n + 1) * v / 6) * (math.sqrt(1 / 3) if v == 0 else math.sqrt(2 / 3))
            basis.append(np.outer(cu, cv))
    return basis


def lte_conv1_bank(gen):
    """[64,3,3,3]: +- (colour axis x DCT pattern) = 54 filters, 10 random."""
    filters = []
    for axis in COLOUR_AXES:
        for pattern in dct3():
            f = axis[:, None, None] * pattern[None, :, :]
            filters += [f, -f]
    bank = torch.tensor(np.stack(filters), dtype=torch.float32)
    extra = torch.randn(64 - bank.shape[0], 3, 3, 3, generator=gen)
    extra -= extra.mean(dim=(1, 2, 3), keepdim=True)
    extra /= extra.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return torch.cat((bank, extra))


def zero_mean_he(conv, gen, bias=-0.03):
    w = torch.randn(conv.weight.shape, generator=gen)
    w -= w.mean(dim=(1, 2, 3), keepdim=True)
    fan_in = w[0].numel()
    w *= math.sqrt(2.0 / fan_in) / w.flatten(1).std(dim=1).view(-1, 1, 1, 1)
    conv.weight.data.copy_(w)
    conv.bias.data.fill_(bias)


def init_lte(lte, gen):
    # Children are named by VGG layer index (official keys), not position.
    conv1 = getattr(lte.slice1, "0")
    conv1.weight.data.copy_(lte_conv1_bank(gen))
    conv1.bias.data.zero_()
    for conv in (getattr(lte.slice2, "2"), getattr(lte.slice2, "5"),
                 getattr(lte.slice3, "7"), getattr(lte.slice3, "10")):
        zero_mean_he(conv, gen)


def bilinear_x2_shuffle(conv):
    """conv (f -> 4f, 3x3) + PixelShuffle(2) == bilinear x2 per channel."""
    f = conv.weight.shape[1]
    # Output sub-pixel i sits at source offset (i - 0.5) / 2: taps 1/4, 3/4.
    taps = (np.array([0.25, 0.75, 0.0]), np.array([0.0, 0.75, 0.25]))
    w = torch.zeros(conv.weight.shape)
    for c in range(f):
        for i in range(2):
            for j in range(2):
                w[4 * c + 2 * i + j, c] = torch.tensor(np.outer(taps[i], taps[j]))
    conv.weight.data.copy_(w)
    conv.bias.data.zero_()


def zero(conv):
    conv.weight.data.zero_()
    conv.bias.data.zero_()


def pass_through(conv, pairs, scale=1.0):
    """Centre-tap weights out <- scale * in for (out, in) pairs; rest zero."""
    zero(conv)
    k = conv.weight.shape[-1] // 2
    for o, i in pairs:
        conv.weight.data[o, i, k, k] = scale


def init_mainnet(net):
    f = net.SFE.conv_head.weight.shape[0]
    # Channels 0..2 carry relu(+x), 3..5 relu(-x): the image passes losslessly.
    head = net.SFE.conv_head
    head.weight.data[:6].zero_()
    head.bias.data[:6].zero_()
    for c in range(3):
        head.weight.data[c, c, 1, 1] = 1.0
        head.weight.data[3 + c, c, 1, 1] = -1.0
    for chain in (net.SFE.RBs, net.RB11, net.RB21, net.RB22, net.RB31,
                  net.RB32, net.RB33):
        for block in chain:
            zero(block.conv2)
    for tail_conv in (net.SFE.conv_tail, net.conv11_tail, net.conv21_tail,
                      net.conv22_tail, net.conv31_tail, net.conv32_tail,
                      net.conv33_tail):
        zero(tail_conv)
    # Texture heads start silent: random ones add noise to the clean start
    # (-0.5 dB measured); they still get gradients from the first step.
    for head_conv in (net.conv11_head, net.conv22_head, net.conv33_head):
        zero(head_conv)
    bilinear_x2_shuffle(net.conv12)
    bilinear_x2_shuffle(net.conv23)
    tail = net.merge_tail
    # The output starts as x4 PyTorch-bicubic of the SFE image channels via
    # conv13 (whose bicubic replicates edges), not via the x33 branch whose
    # zero-padded upsampling convs would dim the borders.
    pass_through(tail.conv13, [(c, c) for c in range(f)])
    pass_through(tail.conv_merge, [(c, f + c) for c in range(f)])
    tail.conv_tail1.weight.data.mul_(0.1)
    tail.conv_tail1.bias.data.zero_()
    for c in range(3):
        tail.conv_tail1.weight.data[c].zero_()
        tail.conv_tail1.weight.data[c, c, 1, 1] = 1.0
        tail.conv_tail1.weight.data[c, 3 + c, 1, 1] = -1.0
    pass_through(tail.conv_tail2, [(c, c) for c in range(3)])


def structured_init(model, seed):
    gen = torch.Generator().manual_seed(seed)
    init_lte(model.LTE, gen)
    init_mainnet(model.MainNet)


def grow(model, tensors):
    """Load a smaller model's weights (official keys) into a deeper one of the
    same width: each ResBlock chain keeps its trained blocks first and gets
    identity blocks (zero second conv, He-initialised first) after them, so
    the grown network starts as exactly the smaller one and training can
    use the new depth from there.  Returns the number of new blocks."""
    state = model.state_dict()
    missing = [k for k in tensors if k not in state]
    if missing:
        raise ValueError(f"weights hold keys the model lacks, e.g. {missing[0]}")
    for key, value in tensors.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise ValueError(f"{key}: {tuple(value.shape)} in the file, "
                             f"{tuple(state[key].shape)} in the model")
        state[key] = torch.from_numpy(np.asarray(value, dtype=np.float32))
    model.load_state_dict(state)
    names = {id(m): n for n, m in model.named_modules()}
    new_blocks = 0
    net = model.MainNet
    for chain in (net.SFE.RBs, net.RB11, net.RB21, net.RB22, net.RB31,
                  net.RB32, net.RB33):
        for block in chain:
            if names[id(block)] + ".conv2.weight" not in tensors:
                zero(block.conv2)
                new_blocks += 1
    return new_blocks
