#!/usr/bin/env python3
# test-image-read.py PROBE [--refsr REFSR --weights FILE] [--sanitized]
#                          [--valgrind VALGRIND] [--gimp GIMP-CONSOLE] — the image reader on the
# crafted files of imagecases.py: each one loaded by image-probe (from the
# file, and from memory for PNG, JPEG and TIFF) must give its expected
# pixels, or its expected error code and a message naming the file; the
# declared-size bombs must be refused within their time and memory (not
# checked under sanitizers, which slow everything and reserve shadow
# memory).  Then cancelling, and the refsr command: one line on stderr
# naming the file that failed, nothing at all on success.
# With --gimp GIMP-CONSOLE, instead: the same files imported by GIMP 3.0
# (and turned upright as its import does), each within 2/255 on average.
# With --valgrind, instead: every corrupt file, and good ones of each
# reader and layout, under valgrind, which must find no error (no
# uninitialised value used, no invalid access) while the outcome stays
# the expected one.
# TAP output.  Without numpy or Pillow (or valgrind, or GIMP, for those
# modes): a skip, or a failure under CI=true.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
CI = os.environ.get("CI", "").lower() in ("true", "1")


def unavailable(reason):
    print("TAP version 13")
    if CI:
        print(f"not ok 1 - {reason} (CI=true: every dependency of the tests is required)")
        print("1..1")
        sys.exit(1)
    print(f"1..0 # SKIP {reason}")
    sys.exit(0)


try:
    import numpy as np
    import imagecases
except ImportError as e:
    unavailable(f"numpy and Pillow are needed ({e})")


class Tap:
    def __init__(self):
        self.n = self.failed = 0
        print("TAP version 13", flush=True)

    def result(self, good, text, detail=""):
        self.n += 1
        self.failed += not good
        print(f"{'ok' if good else 'not ok'} {self.n} - {text}", flush=True)
        for line in detail.splitlines():
            print(f"# {line}", flush=True)

    def end(self):
        print(f"1..{self.n}")
        sys.exit(1 if self.failed else 0)


def run(cmd):
    """Runs cmd; returns (exit status, stdout, stderr, seconds)."""
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True)
    return (p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"), time.monotonic() - start)


def run_measured(cmd):
    """Like run, and the child's own peak RSS in MB (from wait4)."""
    start = time.monotonic()
    r, w = os.pipe()
    er, ew = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(ew, 2)
        os.close(r)
        os.close(er)
        try:
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(w)
    os.close(ew)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    err = os.read(er, 1 << 20)
    os.close(r)
    os.close(er)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    return code, out.decode(errors="replace"), err.decode(errors="replace"), seconds, usage.ru_maxrss / 1024


def check_outcome(case, line, raw_path):
    """'' when the probe's answer is what the case expects, else why not."""
    expect = case.expect
    words = line.split(" ", 2)
    if expect[0] == "ok":
        want = expect[1]
        if words[0] != "ok":
            return f"expected pixels, got: {line}"
        w, h = int(words[1]), int(words[2])
        if (h, w) != want.shape[:2]:
            return f"expected {want.shape[1]}×{want.shape[0]}, got {w}×{h}"
        got = np.fromfile(raw_path, np.uint8).reshape(h, w, 3).astype(int)
        diff = np.abs(got - want.astype(int))
        if diff.max() > expect[2]:
            y, x, c = np.unravel_index(diff.argmax(), diff.shape)
            return (f"pixels differ by up to {diff.max()} (allowed {expect[2]}), "
                    f"mean {diff.mean():.3f}; first worst at x={x} y={y} channel {c}: "
                    f"{got[y, x].tolist()} instead of {want[y, x].tolist()}")
        return ""
    code, fragment = expect[1], expect[2]
    if words[0] != "error" or len(words) < 3:
        return f"expected error {code} ({fragment}), got: {line}"
    if words[1] != code or fragment not in words[2]:
        return f"expected error {code} with '{fragment}', got: {line}"
    if case.name not in words[2]:
        return f"the message does not name the file: {line}"
    return ""


def read_cases(tap, probe, folder, sanitized, table):
    for case in imagecases.cases():
        path = imagecases.write(case, folder)
        modes = ["file"] + (["memory"] if case.memory and case.data is not None else [])
        for mode in modes:
            raw = os.path.join(folder, "out.rgb")
            cmd = [probe] + (["--memory"] if mode == "memory" else []) + \
                list(case.args) + ["--raw", raw, path]
            code, out, err, seconds, rss = run_measured(cmd)
            line = out.strip().splitlines()[0] if out.strip() else f"(nothing, exit {code})"
            why = check_outcome(case, line, raw)
            if not why and err.strip():
                why = f"something was printed on stderr: {err.strip()}"
            if not why and code != (0 if case.expect[0] == "ok" else 1):
                why = f"exit status {code}"
            measured = f"{seconds:.3f} s, {rss:.0f} MB"
            if case.bomb and not why:
                max_s, max_mb = case.bomb
                if sanitized:
                    max_s *= 10
                if seconds > max_s:
                    why = f"took {seconds:.2f} s (at most {max_s} s)"
                elif not sanitized and rss > max_mb:
                    why = f"peak memory {rss:.0f} MB (at most {max_mb} MB)"
            if case.bomb and mode == "file":
                table.append((case.name, line, measured))
            shown = line if len(line) < 150 else line[:147] + "..."
            tap.result(not why, f"{case.name} ({mode}): {shown}" +
                       (f" [{measured}]" if case.bomb else ""), why)


def cancelling(tap, probe, folder, sanitized):
    """The flag raised before the load, and while a large image decodes."""
    path = imagecases.write(imagecases.Case("big.png", imagecases.png(
        imagecases.pattern(3000, 3000, 3, seed=11), 2, level=1), None), folder)
    code, out, _, _, _ = run_measured([probe, "--cancel-after", "0", path])
    tap.result(out.startswith("error cancelled") and "big.png" in out,
               f"cancel flag raised before the load: {out.strip()}")
    delay = 40
    code, out, _, seconds, _ = run_measured([probe, "--cancel-after", str(delay), path])
    limit = delay / 1000 + (5 if sanitized else 0.5)
    tap.result(out.startswith("error cancelled") and seconds < limit,
               f"cancel flag raised {delay} ms into a 9-megapixel PNG: stopped after "
               f"{seconds:.3f} s: {out.strip()}")
    jp = imagecases.jpeg(imagecases.pattern(3000, 3000, 3, seed=12), quality=80,
                         progressive=True)
    path = imagecases.write(imagecases.Case("big.jpg", jp, None), folder)
    code, out, _, seconds, _ = run_measured([probe, "--cancel-after", str(delay), path])
    tap.result(out.startswith("error cancelled") and seconds < limit,
               f"cancel flag raised {delay} ms into a 9-megapixel progressive JPEG: "
               f"stopped after {seconds:.3f} s: {out.strip()}")


def command(tap, refsr, weights, folder):
    """The refsr command: one line naming the file that failed; nothing on
    stderr when it works."""
    cases = {c.name: c for c in imagecases.cases()}
    for name in ("rgb8.png", "bad-idat-crc.png", "jpeg-cut-scan-middle", "bad-precision.jpg", "text.png",
                 "bad-iccp.png", "strip-65535x1.png", "rgb.jpg"):
        imagecases.write(cases[name], folder)
    f = lambda name: os.path.join(folder, name)
    out_png = f("out.png")

    def refsr_run(lr, ref):
        if os.path.exists(out_png):
            os.unlink(out_png)
        return run([refsr, "-q", "--threads", "2", "--weights", weights, "-r", ref,
                    "-o", out_png, lr])

    checks = [
        ("corrupt LR", "bad-idat-crc.png", "rgb8.png", "bad-idat-crc.png"),
        ("truncated JPEG reference", "rgb8.png", "jpeg-cut-scan-middle", "jpeg-cut-scan-middle"),
        ("libjpeg's fatal error on the LR", "bad-precision.jpg", "rgb8.png", "bad-precision.jpg"),
        ("an LR that is not an image", "text.png", "rgb8.png", "text.png"),
        ("65535×1 LR", "strip-65535x1.png", "rgb8.png", "strip-65535x1.png"),
    ]
    for what, lr, ref, named in checks:
        code, out, err, seconds = refsr_run(f(lr), f(ref))
        lines = err.splitlines()
        good = (code == 1 and len(lines) == 1 and named in lines[0]
                and not os.path.exists(out_png) and "Not a JPEG" not in err)
        tap.result(good, f"refsr, {what}: exit {code}, {len(lines)} line(s) on stderr: "
                   f"{lines[0] if lines else ''}", err)
    for what, lr, ref in (("a PNG whose iCCP chunk libpng warns about", "bad-iccp.png", "rgb8.png"),
                          ("a JPEG reference", "rgb8.png", "rgb.jpg")):
        code, out, err, seconds = refsr_run(f(lr), f(ref))
        tap.result(code == 0 and err == "" and os.path.exists(out_png),
                   f"refsr on {what}: exit {code}, nothing on stderr", err)


# good files through every reader and layout, beside the corrupt ones
VALGRIND_GOOD = ("rgb8.png", "rgba16-interlaced.png", "exif6.png", "palette4-trns.png",
                 "progressive.jpg", "cmyk.jpg", "orientation6.jpg", "rgb8-planar.tif",
                 "rgba16-tiled-planar.tif", "palette4-8bit-map.tif", "red.svg")


def under_valgrind(tap, probe, valgrind, folder):
    for case in imagecases.cases():
        if not case.corrupt and case.name not in VALGRIND_GOOD:
            continue
        path = imagecases.write(case, folder)
        raw = os.path.join(folder, "out.rgb")
        native = [] if case.name.endswith(".svg") else ["--native"]
        cmd = [valgrind, "-q", "--error-exitcode=99", "--track-origins=yes",
               "--leak-check=no", probe] + native + ["--raw", raw, path]
        code, out, err, seconds = run(cmd)
        errors = [l for l in err.splitlines() if l.startswith("==")]
        line = out.strip().splitlines()[0] if out.strip() else f"(nothing, exit {code})"
        why = check_outcome(case, line, raw)
        if errors:
            why = "valgrind found errors"
        elif not why and code != (0 if case.expect[0] == "ok" else 1):
            why = f"exit status {code}"
        tap.result(not why, f"valgrind, {case.name}: {line[:120]}",
                   why + "\n" + "\n".join(errors[:60]) if why else "")


# GIMP 3.0's import of the same files: its loaders, then the rotation its
# import applies for an EXIF orientation (when answered "Rotate", the
# default; gimp_image_metadata_rotate does these steps), exported as PNG.
GIMP_SCRIPT = """
(define (orient img o)
  (cond ((= o 2) (gimp-image-flip img ORIENTATION-HORIZONTAL))
        ((= o 3) (gimp-image-rotate img ROTATE-DEGREES180))
        ((= o 4) (gimp-image-flip img ORIENTATION-VERTICAL))
        ((= o 5) (gimp-image-rotate img ROTATE-DEGREES90)
                 (gimp-image-flip img ORIENTATION-HORIZONTAL))
        ((= o 6) (gimp-image-rotate img ROTATE-DEGREES90))
        ((= o 7) (gimp-image-rotate img ROTATE-DEGREES90)
                 (gimp-image-flip img ORIENTATION-VERTICAL))
        ((= o 8) (gimp-image-rotate img ROTATE-DEGREES270))))
(define (convert name o)
  (let ((img (car (gimp-file-load RUN-NONINTERACTIVE (string-append D "/" name)))))
    (orient img o)
    (gimp-file-save RUN-NONINTERACTIVE img (string-append D "/gimp-" name ".png") -1)))
"""

GIMP_CASES = ("cmyk.jpg", "rgb16.png", "grey2.png", "rgb8-interlaced.png", "palette4-trns.png",
              "srgb-icc.png", "progressive.jpg", "grey.jpg", "rgb16.tif", "grey16.tif",
              "cmyk8.tif", "cmyk16.tif", "rgba8-assoc.tif", "grey4.tif", "bilevel-miniswhite.tif",
              "palette8.tif") + tuple(f"orientation{o}.jpg" for o in range(1, 9))
# a CMYK profile to embed, where Ghostscript's is installed (GIMP's own
# dependencies bring it)
CMYK_PROFILE = "/usr/share/color/icc/ghostscript/default_cmyk.icc"


def probe_pixels(probe, path, folder):
    """(pixels, '') or (None, why) as the reader sees the file."""
    raw = os.path.join(folder, "out.rgb")
    code, out, err, _ = run([probe, "--raw", raw, path])
    words = out.split()
    if code != 0 or len(words) < 3 or words[0] != "ok":
        return None, out.strip() or err.strip()
    w, h = int(words[1]), int(words[2])
    return np.fromfile(raw, np.uint8).reshape(h, w, 3).astype(int), ""


def versus_gimp(tap, probe, gimp, folder):
    """Mean |difference| to GIMP's import, at most 2/255 for every file."""
    from PIL import Image
    cases = {c.name: c for c in imagecases.cases()}
    names = list(GIMP_CASES)
    for name in names:
        imagecases.write(cases[name], folder)
    cmyk = imagecases.pattern(300, 200, 4, seed=21)
    extra = {"cmyk-300x200.jpg": imagecases.jpeg(cmyk, "CMYK", quality=92)}
    if os.path.exists(CMYK_PROFILE):
        with open(CMYK_PROFILE, "rb") as f:
            extra["cmyk-profile.jpg"] = imagecases.jpeg(cmyk, "CMYK", quality=92,
                                                        icc_profile=f.read())
    for name, data in extra.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        names.append(name)
    calls = " ".join(f'(convert "{n}" {n[11] if n.startswith("orientation") else 1})'
                     for n in names)
    home = os.path.join(folder, "home")
    os.makedirs(home)
    env = dict(os.environ, HOME=home)
    env.pop("G_DEBUG", None)   # GIMP's own criticals would abort it
    p = subprocess.run(["timeout", "240", gimp, "-i", "-f", "-d", "--quit",
                        "--batch-interpreter=plug-in-script-fu-eval", "-b",
                        f'(define D "{folder}") {GIMP_SCRIPT} {calls}'],
                       capture_output=True, env=env)
    tap.result(p.returncode == 0, f"GIMP exported {len(names)} files (exit {p.returncode})",
               "" if p.returncode == 0 else p.stderr.decode(errors="replace")[-3000:])
    for name in names:
        ours, why = probe_pixels(probe, os.path.join(folder, name), folder)
        exported = os.path.join(folder, f"gimp-{name}.png")
        theirs, why2 = probe_pixels(probe, exported, folder) if os.path.exists(exported) \
            else (None, "GIMP wrote nothing")
        if ours is None or theirs is None or ours.shape != theirs.shape:
            tap.result(False, f"{name} as GIMP imports it",
                       why or why2 or f"{ours.shape} against GIMP's {theirs.shape}")
            continue
        # GIMP exports transparent pixels black: compare the others
        im = Image.open(exported)
        seen = np.asarray(im.convert("RGBA"))[..., 3] > 0
        diff = np.abs(ours - theirs)[seen]
        tap.result(diff.mean() <= 2.0, f"{name} as GIMP imports it: mean |difference| "
                   f"{diff.mean():.3f}/255, largest {diff.max()}")


def main():
    args = sys.argv[1:]
    probe = args.pop(0)
    opts = {}
    while args:
        a = args.pop(0)
        if a == "--sanitized":
            opts[a] = True
        else:
            opts[a] = args.pop(0)
    tap = Tap()
    with tempfile.TemporaryDirectory() as folder:
        if "--gimp" in opts:
            if not opts["--gimp"]:
                if CI:
                    tap.result(False, "gimp-console is available (CI=true requires it)")
                    tap.end()
                print("1..0 # SKIP gimp-console-3.0 not installed")
                return
            versus_gimp(tap, probe, opts["--gimp"], folder)
            tap.end()
        if "--valgrind" in opts:
            if not opts["--valgrind"]:
                print("# valgrind was not found when the build was configured")
                if CI:
                    tap.result(False, "valgrind is available (CI=true requires it)")
                    tap.end()
                print("1..0 # SKIP valgrind not installed")
                return
            under_valgrind(tap, probe, opts["--valgrind"], folder)
            tap.end()
        table = []
        read_cases(tap, probe, folder, "--sanitized" in opts, table)
        cancelling(tap, probe, folder, "--sanitized" in opts)
        if "--refsr" in opts:
            command(tap, opts["--refsr"], opts["--weights"], folder)
        print("# refusals of declared-size bombs and strips (time, peak RSS):")
        for name, line, measured in table:
            print(f"#   {name}: {measured}")
    tap.end()


main()
