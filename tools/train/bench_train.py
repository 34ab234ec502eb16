#!/usr/bin/env python3
# Training throughput on this machine: images/s of a training step per setting.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Times full training steps (forward, L1, backward, Adam) of TTSR on random
data with a 160x160 reference, for the settings that decide CPU training
speed: precision (fp32 / BF16 autocast), memory layout (NCHW /
channels-last), batch and LR crop, and a trained or frozen LTE (the
fine-tuning step computes the textures without autograd).  Prints a
Markdown table (median of the timed steps after warm-up ones) and, with
--profile, the operators that take the time in two settings.  A benchmark prints figures; it asserts
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

import train  # noqa: E402  (first: it sizes the BLAS pools from --threads)
import torch  # noqa: E402

import init_weights  # noqa: E402
import ttsr  # noqa: E402

# (name, precision, channels_last, batch, lr_crop, LTE trained)
SETTINGS = [("first model's recipe", "fp32", False, 1, 24, True),
            ("+ BF16 autocast", "bf16", False, 1, 24, True),
            ("+ channels-last", "bf16", True, 1, 24, True),
            ("+ batch 2 of 32", "bf16", True, 2, 32, True),
            ("+ frozen LTE: second model's recipe", "bf16", True, 2, 32, False),
            ("fp32, second model's batch", "fp32", False, 2, 32, True)]


def make_step(config, precision, channels_last, batch, crop, lte_trained, ref_size=160):
    torch.manual_seed(0)
    model = ttsr.TTSR(ttsr.parse_config(config), 64)
    init_weights.structured_init(model, 1)
    model.train()
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=memory)
    opt = train.make_optimizer(model, 1e-5, 1e-6)
    for p in model.LTE.parameters():
        p.requires_grad_(p.requires_grad and lte_trained)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    gen = torch.Generator().manual_seed(1)

    def image(size):
        return (torch.rand(batch, 3, size, size, generator=gen) * 2 - 1).contiguous(
            memory_format=memory)

    data = {"lr": image(crop), "lrsr": image(4 * crop), "hr": image(4 * crop),
            "ref": image(ref_size), "refsr": image(ref_size)}
    autocast = ((lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16"
                else contextlib.nullcontext)
    return lambda: train.train_step(model, opt, scaler, data, autocast)  # the trainer's own


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
    print("| setting | precision | layout | batch x LR crop | LTE | s/step | images/s "
          "| LR pixels/s | vs first |")
    print("|---|---|---|---|---|---:|---:|---:|---:|")
    base = None
    for name, precision, cl, batch, crop, lte in SETTINGS:
        seconds = time_step(make_step(args.config, precision, cl, batch, crop, lte),
                            2, args.repeats)
        pixels = batch * crop * crop / seconds
        base = base or pixels
        print(f"| {name} | {precision} | {'NHWC' if cl else 'NCHW'} | {batch} x {crop} "
              f"| {'trained' if lte else 'frozen'} | {seconds:.3f} | {batch / seconds:.2f} "
              f"| {pixels:.0f} | {pixels / base:.2f}x |", flush=True)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        for index in (0, 4):
            name, precision, cl, batch, crop, lte = SETTINGS[index]
            step = make_step(args.config, precision, cl, batch, crop, lte)
            for _ in range(2):  # warm-up, as the timed runs
                step()
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(3):
                    step()
            print(f"\n{name} ({precision}, batch {batch} x {crop}, LTE "
                  f"{'trained' if lte else 'frozen'}): 3 steps\n")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
