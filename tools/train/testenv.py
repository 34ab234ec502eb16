# What the Python tests of tools/train do when something they need is absent.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
"""unavailable(REASON) ends a test that cannot run.

Outside CI it exits 77, which meson counts as a skip.  Under CI=true
PyTorch, numpy, Pillow and the fixtures are all required (tools/install-deps.sh
installs them), so a missing one is a failure: exit 1.
"""
import os
import sys


def in_ci():
    return os.environ.get("CI", "").lower() in ("true", "1")


def unavailable(reason):
    if in_ci():
        print(f"FAIL: {reason} (CI=true: every dependency of the tests is required)")
        sys.exit(1)
    print(f"SKIP: {reason}")
    sys.exit(77)


def run_checks(checks):
    """Runs {name: fn() -> (ok, detail)}, prints a line each and a summary;
    returns the exit status (1 when any check failed)."""
    failed = 0
    for name, fn in checks.items():
        ok, detail = fn()
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        failed += not ok
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0
