#!/usr/bin/env python3
"""progress-check.py — TAP checks of refsr-progress-probe's log.
Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

  progress-check.py PROBE-LOG REFSR-LOG

PROBE-LOG is refsr-progress-probe's, REFSR-LOG refsr's REFSR_PROGRESS_LOG
(a RUN line per plug-in process, in the order of the probe's CASEs).
Per run: the run succeeded; its progress calls: one start; values in
[0, 1], never lower than the one before, the last at 1; every label one
of the plug-in's own (English), reading first and the image's enlargement
last, the reduction and the confidence map at 2x; the same for the probe's vtable when GIMP
installed it; the reference layer as large as before and at its offsets
scaled; the image, its channel, selection, path and guide scaled.  Seconds per run
are TAP comments.
"""
import re
import sys

STAGES = ["Extracting features",
          "Searching the reference for matching texture",
          "Transferring texture",
          "Reconstructing the enlarged image",
          "Enlarging"]
LABELS = set(STAGES) | {"Reading the layers",
                        "Reducing the enlarged image",
                        "Making the confidence map",
                        "Enlarging the image's other layers"}
TILE = re.compile(r"^(.*): tile \d+ of \d+$")
# the probe's image: reference 200 x 150 at 4, 2, a channel of the image's
# size, a guide at 75, the layer 40 x 40 (120 x 120 and 2000 x 1500 large)
SIZES = {"4x": (4, 40, 200, 150), "2x": (2, 40, 200, 150),
         "large": (4, 120, 2000, 1500)}

n = 0
failed = 0


def result(ok, what, detail=None):
    global n, failed
    n += 1
    print(("ok" if ok else "not ok") + f" {n} - {what}")
    if not ok:
        failed += 1
        for line in (detail or "").splitlines():
            print("# " + line)


def runs(path):
    cases, case = [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        kind, _, rest = line.partition(" ")
        if kind == "CASE":
            case = {"name": rest, "vtable": [], "sizes": {}, "status": None}
            cases.append(case)
        elif case is None:
            continue
        elif kind in ("START", "TEXT", "VALUE", "END", "PULSE"):
            case["vtable"].append((kind, rest))
        elif kind == "STATUS":
            case["status"] = rest
        elif kind == "SECONDS":
            case["seconds"] = float(rest)
        elif kind == "SCALE-SECONDS":
            print(f"# GIMP's Scale Image of the large case's image: {rest} s")
        elif kind == "DIFF":
            what, largest, mean = rest.split(" ")
            case.setdefault("diff", {})[what] = (int(largest), float(mean))
        elif kind == "SIZE":
            what, w, h = rest.split(" ")
            case["sizes"][what] = (int(w), int(h))
    return cases


def refsr_runs(path):
    """The progress calls of each refsr process, in order."""
    out = []
    for line in open(path, encoding="utf-8"):
        kind, _, arg = line.rstrip("\n").partition(" ")
        if kind == "RUN":
            out.append([])
        elif out:
            out[-1].append((kind, arg))
    return out


def label_of(text):
    m = TILE.match(text)
    return m[1] if m else text


def check_calls(name, calls):
    listing = "\n".join(f"{k} {a}" for k, a in calls)
    values = [float(a.split(" ")[0]) for k, a in calls if k == "VALUE"]
    texts = [a for k, a in calls if k in ("START", "TEXT")]
    result(len(values) > 0, f"{name}: the bar is moved", listing)
    starts = [k for k, _ in calls if k == "START"]
    result(len(starts) == 1 and calls and calls[0][0] == "START",
           f"{name}: the bar is started once, before anything else", listing)
    result(all(0.0 <= v <= 1.0 for v in values),
           f"{name}: every value lies in [0, 1]", listing)
    back = [(a, b) for a, b in zip(values, values[1:]) if b < a]
    result(not back, f"{name}: the values never go back",
           f"back: {back[:5]}\n" + listing)
    result(bool(values) and values[-1] >= 0.999,
           f"{name}: the last value is 1", listing)
    unknown = [t for t in texts if label_of(t) not in LABELS]
    result(not unknown, f"{name}: every label is one of the plug-in's own",
           f"unknown: {unknown}")
    result(bool(texts) and texts[0] == "Reading the layers"
           and texts[-1] == "Enlarging the image's other layers",
           f"{name}: reading the layers first, the image's enlargement last",
           "\n".join(texts))
    if name.startswith("2x"):
        result("Reducing the enlarged image" in texts
               and "Making the confidence map" in texts,
               f"{name}: the reduction to 2x and the confidence map have "
               "their labels", "\n".join(texts))


def check(case, calls):
    name = case["name"]
    result(case["status"] is not None and case["status"].startswith("3 "),
           f"{name}: the run succeeded", case["status"])
    check_calls(name, calls)
    if case["vtable"]:
        check_calls(name + " (the caller's vtable)", case["vtable"])
    scale, side, width, height = SIZES[name]
    sizes = case["sizes"]
    result(sizes.get("reference") == (width, height),
           f"{name}: the reference layer keeps its size", str(sizes))
    result(sizes.get("reference-offsets") == (4 * scale, 2 * scale),
           f"{name}: the reference layer's offsets are scaled", str(sizes))
    result(sizes.get("image") == (width * scale, height * scale),
           f"{name}: the image is {scale}x larger", str(sizes))
    result(sizes.get("target") == (side * scale, side * scale),
           f"{name}: the enlarged layer's source is enlarged with the image",
           str(sizes))
    if "channel" not in sizes:
        return
    result(sizes.get("channel") == sizes.get("image"),
           f"{name}: the channel is as large as the image", str(sizes))
    result(sizes.get("other") == (30 * scale, 20 * scale)
           and sizes.get("other-mask") == sizes.get("other")
           and sizes.get("other-offsets") == (50 * scale, 60 * scale),
           f"{name}: another layer and its mask are enlarged, at scaled "
           "offsets", str(sizes))
    result(sizes.get("guide", (0, 0))[0] == height // 2 * scale
           and sizes.get("path-start") == (10 * scale, 20 * scale),
           f"{name}: the guide and the path move with the image", str(sizes))
    result(sizes.get("sample-point") == (30 * scale, 40 * scale),
           f"{name}: the sample point moves with the image", str(sizes))
    # NoHalo softens the selection's edge by up to a source pixel
    near = lambda got, want: got is not None and all(
        abs(g - want) <= scale for g in got)
    result(near(sizes.get("selection-from"), 2 * scale)
           and near(sizes.get("selection-to"), 12 * scale),
           f"{name}: the selection is enlarged with the image", str(sizes))
    # the same operation and sampler as GIMP's Scale Image: the same pixels,
    # but that babl picks its conversions by timing them, so that now and
    # then a value rounds the other way (as in test-plugin.sh)
    diffs = case.get("diff", {})
    result(len(diffs) == 2, f"{name}: the pixels of two layers are compared",
           str(diffs))
    for layer, diff in sorted(diffs.items()):
        result(diff[0] <= 1 and diff[1] <= 0.01,
               f"{name}: the {layer} layer's pixels are GIMP's Scale Image's, "
               "within 1/255", f"largest difference, mean: {diff}")
    if "seconds" in case:
        print(f"# {name}: {case['seconds']:.2f} s for the whole call")


def main(argv):
    cases = runs(argv[1])
    progress = refsr_runs(argv[2])
    result({"4x", "2x"} <= {c["name"] for c in cases}
           and len(progress) == len(cases),
           "the probe ran the 4x and the 2x case, refsr logged each",
           open(argv[1], encoding="utf-8").read())
    for case, calls in zip(cases, progress):
        check(case, calls)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
