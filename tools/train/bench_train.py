#!/usr/bin/env python3
# Training throughput on this machine: images/s of a training step per setting.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Times full training steps (forward, L1, backward, Adam) of TTSR on random
data with a 160x160 reference, for the settings that decide CPU training
speed: precision (fp32 / BF16 autocast), memory layout (NCHW /
channels-last), batch and LR crop.  Prints a Markdown table (median of the
timed steps after warm-up ones) and, with --profile, the operators that
take the time in one setting.  A benchmark prints figures; it asserts
nothing.  Run it on a quiet machine: other work on the cores shows up here.

  tools/train/bench_train.py --config 4+4+2+2 --threads 2 [--profile]
"""

import argparse
import contextlib
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import init_weights  # noqa: E402
import ttsr  # noqa: E402

# (name, precision, channels_last, batch, lr_crop)
SETTINGS = [("first model's recipe", "fp32", False, 1, 24),
            ("+ BF16 autocast", "bf16", False, 1, 24),
            ("+ channels-last", "bf16", True, 1, 24),
            ("second model's recipe", "bf16", True, 2, 32),
            ("fp32, second model's batch", "fp32", False, 2, 32),
            ("BF16, batch 4 of 40", "bf16", True, 4, 40)]


def make_step(config, precision, channels_last, batch, crop, ref_size=160):
    torch.manual_seed(0)
    model = ttsr.TTSR(ttsr.parse_config(config), 64)
    init_weights.structured_init(model, 1)
    model.train()
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=memory)
    opt = torch.optim.Adam(model.parameters(), 1e-5)
    gen = torch.Generator().manual_seed(1)

    def image(size):
        return (torch.rand(batch, 3, size, size, generator=gen) * 2 - 1).contiguous(
            memory_format=memory)

    lr, lrsr, hr = image(crop), image(4 * crop), image(4 * crop)
    ref, refsr = image(ref_size), image(ref_size)
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16"
                else contextlib.nullcontext())

    def step():
        with autocast:
            sr = model(lr, lrsr, ref, refsr)
        loss = torch.nn.functional.l1_loss(sr.float(), hr)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def time_step(step, warmup, repeats):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="4+4+2+2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", action="store_true",
                    help="also profile the first and the fourth setting")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"TTSR {args.config}, reference 160x160, {args.threads} threads, torch "
          f"{torch.__version__}, median of {args.repeats} steps after 2\n")
    print("| setting | precision | layout | batch x LR crop | s/step | images/s "
          "| LR pixels/s | vs first |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    base = None
    for name, precision, cl, batch, crop in SETTINGS:
        seconds = time_step(make_step(args.config, precision, cl, batch, crop),
                            2, args.repeats)
        pixels = batch * crop * crop / seconds
        base = base or pixels
        print(f"| {name} | {precision} | {'NHWC' if cl else 'NCHW'} | {batch} x {crop} "
              f"| {seconds:.3f} | {batch / seconds:.2f} | {pixels:.0f} | {pixels / base:.2f}x |",
              flush=True)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        for index in (0, 3):
            name, precision, cl, batch, crop = SETTINGS[index]
            step = make_step(args.config, precision, cl, batch, crop)
            time_step(step, 2, 0)
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(3):
                    step()
            print(f"\n{name} ({precision}, batch {batch} x {crop}): 3 steps\n")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
