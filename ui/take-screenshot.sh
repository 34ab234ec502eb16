#!/bin/sh
# take-screenshot.sh BUILD-DIR OUT.png — docs/dialog.png: the dialog in a
# running GIMP 3 under Xvfb, on the fixture pair (case c), captured with
# xwd (Debian package x11-apps) and converted to PNG by GIMP itself.  Run
# inside the Debian 13 root: tools/in-root ui/take-screenshot.sh build docs/dialog.png
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -eu
BUILD=$1
OUT=$2
FIX=$(cd "$(dirname "$0")/../../shared/fixtures/ttsr" && pwd)
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT
plugins=$S/home/.config/GIMP/3.0/plug-ins/refsr
mkdir -p "$plugins"
cp "$BUILD/plug-in/refsr" "$plugins/"
# the built-in model beside the plug-in, as a per-user install has it
cp data/refsr-default.safetensors "$plugins/"
printf '(show-welcome-dialog no)\n(show-tips no)\n' >"$S/home/.config/GIMP/3.0/gimprc"
python3 tests/pngtool.py from-fixture "$FIX/case-c.safetensors" lr_u8 "$S/lr.png"
python3 tests/pngtool.py from-fixture "$FIX/case-c.safetensors" ref_u8 "$S/ref.png"
export HOME=$S/home LANG=C.UTF-8 S
# No window manager: the dialog opens at 0,0 and xwd finds it by its title.
xvfb-run -a -s "-screen 0 1280x1000x24" sh -c '
  gimp-3.0 --no-splash -f -d --batch-interpreter=plug-in-script-fu-eval -b "
  (let* ((ref (car (gimp-file-load RUN-NONINTERACTIVE \"$S/ref.png\")))
         (img (car (gimp-file-load RUN-NONINTERACTIVE \"$S/lr.png\")))
         (layer (vector-ref (car (gimp-image-get-layers img)) 0))
         (sharp (vector-ref (car (gimp-image-get-layers ref)) 0)))
    (gimp-item-set-name sharp \"Sharp photo\")
    (gimp-display-new ref) (gimp-display-new img)
    (plug-in-refsr #:run-mode RUN-INTERACTIVE #:image img
                   #:drawables (vector layer) #:reference-layer sharp))" \
    >"$S/gimp.log" 2>&1 &
  for i in $(seq 1 60); do
    sleep 2
    xwd -name "Reference Super-Resolution" -out "$S/dialog.xwd" 2>/dev/null && break
  done
  sleep 2
  xwd -name "Reference Super-Resolution" -out "$S/dialog.xwd"
  kill $!'
gimp-console-3.0 -i -f -d --quit --batch-interpreter=plug-in-script-fu-eval -b \
  "(gimp-file-save RUN-NONINTERACTIVE (car (gimp-file-load RUN-NONINTERACTIVE \"$S/dialog.xwd\")) \"$S/dialog.png\" -1)" \
  >/dev/null 2>&1
cp "$S/dialog.png" "$OUT"
echo "wrote $OUT"
