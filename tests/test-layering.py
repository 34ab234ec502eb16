#!/usr/bin/env python3
# test-layering.py SOURCE-ROOT — the include graph follows the architecture
# (README.md, "Architecture").  The build already refuses an include that
# goes up the graph (each library sees only the headers below it); this
# test also catches what include paths cannot: a relative path into
# another folder, and a front end that includes an engine header.
# TAP output.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
import os
import re
import sys

ROOT = sys.argv[1]
# folder -> the folders whose headers it may include (besides its own)
ENGINE = ["core/include"]
ALLOWED = {
    "core/include": [],
    "core/runtime": ENGINE,
    "core/kernels": ENGINE + ["core/runtime"],
    "core/weights": ENGINE + ["core/runtime"],
    "core/net": ENGINE + ["core/runtime", "core/kernels", "core/weights"],
    "core/engine": ENGINE + ["core/runtime", "core/kernels", "core/weights",
                             "core/net"],
    "imageio": ENGINE,
    "cli": ENGINE + ["imageio"],
    "ui": ENGINE,
    "plug-in": ENGINE + ["ui"],
}
GENERATED = {"refsr-config.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

headers = {}  # header name -> folder
for folder in ALLOWED:
    for name in os.listdir(os.path.join(ROOT, folder)):
        if name.endswith(".h"):
            if name in headers:
                print(f"Bail out! {name} exists in {headers[name]} and {folder}")
                sys.exit(1)
            headers[name] = folder

n = failed = 0
print("TAP version 13")
for folder, allowed in ALLOWED.items():
    problems = []
    for name in sorted(os.listdir(os.path.join(ROOT, folder))):
        if not name.endswith((".c", ".h")):
            continue
        text = open(os.path.join(ROOT, folder, name), encoding="utf-8").read()
        for inc in INCLUDE.findall(text):
            if "/" in inc:
                problems.append(f"{name} includes \"{inc}\" by path")
            elif inc in GENERATED:
                continue
            elif inc not in headers:
                problems.append(f"{name} includes unknown header \"{inc}\"")
            elif headers[inc] != folder and headers[inc] not in allowed:
                problems.append(f"{name} includes {headers[inc]}/{inc}")
    n += 1
    if problems:
        failed += 1
        print(f"not ok {n} - {folder}/ includes only {', '.join(allowed) or 'itself'}")
        for p in problems:
            print(f"# {p}")
    else:
        print(f"ok {n} - {folder}/ includes only {', '.join(allowed) or 'itself'}")
print(f"1..{n}")
sys.exit(1 if failed else 0)
