#!/usr/bin/env python3
# Parity check of tools/train/ttsr.py against the official-code fixtures.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""Loads the seeded official weights, runs the fixture cases and compares.

Exit 0 when every check passes, 1 on a failure; when PyTorch, numpy or the
fixtures are not available, 77 (meson "skip"), or 1 under CI=true.
Tolerances are those of fixtures/ttsr/README.md: idx exact where the top-2
margin is >= 1e-4, S within 1e-5 there, T within 1e-5 where t_stable; in
oracle mode (the fixture idx injected into the search) S and T within 1e-5
everywhere; sr within 1e-4 everywhere, from the free search when its idx
equals the fixture's at every position, else in oracle mode (as
tests/test-pipeline.c does) -- never left unchecked.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from testenv import unavailable

# One BLAS thread: the checks are small and CI machines are shared.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
try:
    import numpy as np
    import torch
except ImportError as e:
    unavailable(f"PyTorch or numpy missing ({e})")

import st_io
import ttsr

FIXTURES = os.environ.get("REFSR_FIXTURES",
                          os.path.join(HERE, "..", "..", "..", "shared",
                                       "fixtures", "ttsr"))
# case -> weights file the fixture generator used for it
CASES = {"a": "weights-1+1+1+1-seed1.safetensors",
         "b": "weights-1+1+1+1-seed1.safetensors",
         "c": "weights-1+1+1+1-seed1.safetensors",
         "d": "weights-1+1+1+1-seed1.safetensors",
         "e": "weights-16+16+8+4-seed2.safetensors"}
SR_TOL, S_TOL, T_TOL, MARGIN_EPS = 1e-4, 1e-5, 1e-5, 1e-4


def load_model(path):
    state, _ = st_io.read(path)
    blocks, n_feats = ttsr.config_from_state(state)
    model = ttsr.TTSR(blocks, n_feats)
    ours = model.state_dict()
    if list(ours.keys()) != list(state.keys()):
        raise AssertionError("key names/order differ from the official file")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return model.eval()


def max_diff(ours, theirs, mask=None):
    """(largest |ours - theirs| where mask holds, values compared)."""
    diff = (ours - torch.from_numpy(theirs)).abs()
    if mask is not None:
        diff = diff.masked_select(mask.expand_as(diff))
    if diff.numel() == 0:
        return float("inf"), 0  # nothing compared is a failure, not a pass
    return float(diff.max()), diff.numel()


def check_case(model, name):
    """Returns a list of (check name, ok, detail)."""
    case, _ = st_io.read(os.path.join(FIXTURES, f"case-{name}.safetensors"))
    t = {k: torch.from_numpy(case[k]) for k in ("lr", "lrsr", "ref", "refsr")}
    fixture_idx = torch.from_numpy(case["idx"]).view(1, -1)
    with torch.no_grad():
        S, idx, t3, t2, t1 = model.textures(t["lrsr"], t["ref"], t["refsr"])
        oracle = model.textures(t["lrsr"], t["ref"], t["refsr"], idx=fixture_idx)
    stable = case["margin"] >= MARGIN_EPS
    idx = idx.numpy().reshape(-1)
    flips = int(np.count_nonzero(idx != case["idx"]))
    idx_bad = int(np.count_nonzero(idx[stable] != case["idx"][stable]))
    results = [(f"case-{name} idx", idx_bad == 0 and stable.any(),
                f"{idx_bad} of {int(stable.sum())} stable positions differ; "
                f"{flips} of {idx.size} differ in all")]
    s_mask = torch.from_numpy(stable).view(S.shape)
    s_err, s_n = max_diff(S, case["S"], s_mask)
    results.append((f"case-{name} S", s_err <= S_TOL,
                    f"max diff {s_err:.3g} over {s_n} stable positions"))
    mask = torch.from_numpy(case["t_stable"]).float()
    for level, (ours, scale) in {"T_lv3": (t3, 1), "T_lv2": (t2, 2),
                                 "T_lv1": (t1, 4)}.items():
        # T is determined by stable indices only where t_stable holds.
        m = torch.nn.functional.interpolate(mask, scale_factor=scale) > 0
        err, n = max_diff(ours, case[level], m)
        results.append((f"case-{name} {level}", err <= T_TOL,
                        f"max diff {err:.3g} over {n} values where stable"))
    # Oracle mode: with the fixture idx injected, S and every T map match
    # everywhere, near-ties included.
    errs = [max_diff(ours, case[key]) for ours, key in
            zip((oracle[0],) + oracle[2:], ("S", "T_lv3", "T_lv2", "T_lv1"))]
    tols = (S_TOL, T_TOL, T_TOL, T_TOL)
    results.append((f"case-{name} oracle S, T",
                    all(e <= tol for (e, _), tol in zip(errs, tols)),
                    "max diff " + ", ".join(f"{e:.3g}" for e, _ in errs)
                    + f" over all {sum(n for _, n in errs)} values"))
    S_in, _, t3_in, t2_in, t1_in = (S, None, t3, t2, t1) if flips == 0 else oracle
    with torch.no_grad():
        sr = model.MainNet(t["lr"], S_in, t3_in, t2_in, t1_in)
    sr_err, sr_n = max_diff(sr, case["sr"])
    how = ("free search, idx equal everywhere" if flips == 0 else
           f"oracle mode: {flips} near-tied idx differ, fixture idx injected")
    results.append((f"case-{name} sr", sr_err <= SR_TOL and sr_n == case["sr"].size,
                    f"max diff {sr_err:.3g} over all {sr_n} values ({how})"))
    return results


def main():
    if not os.path.isdir(FIXTURES):
        unavailable(f"fixtures not found at {FIXTURES}")
    torch.set_num_threads(1)
    models = {}
    passed = failed = 0
    for name, weights in CASES.items():
        missing = [f for f in (f"case-{name}.safetensors", weights)
                   if not os.path.exists(os.path.join(FIXTURES, f))]
        if missing:  # a fixture folder without them is broken, not absent
            print(f"FAIL case-{name}: missing in {FIXTURES}: {', '.join(missing)}")
            failed += 1
            continue
        if weights not in models:
            models[weights] = load_model(os.path.join(FIXTURES, weights))
        model = models[weights]
        for check, ok, detail in check_case(model, name):
            print(f"{'ok  ' if ok else 'FAIL'} {check}: {detail}")
            passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
