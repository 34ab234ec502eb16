#!/bin/sh
# take-screenshot.sh BUILD-DIR OUT.png [LANG] — docs/dialog.png: the dialog
# in a running GIMP 3 under Xvfb, on the demo pair (refsr-make-demo: a
# procedural 96×96 layer and a sharp 384×384 reference), once its preview
# has finished, captured with xwd (Debian packages x11-apps, and x11-utils
# for xwininfo) and converted to PNG by GIMP itself.  LANG (default
# C.UTF-8) picks the language, such as de_DE.UTF-8.  Run inside the
# Debian 13 root:
#   tools/in-root ui/take-screenshot.sh build docs/dialog.png [de_DE.UTF-8]
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -eu
BUILD=$1
OUT=$2
LANGUAGE_LANG=${3:-C.UTF-8}
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT
plugins=$S/home/.config/GIMP/3.0/plug-ins/refsr
mkdir -p "$plugins"
cp "$BUILD/plug-in/refsr" "$plugins/"
# the built-in model beside the plug-in, as a per-user install has it
cp data/refsr-default.safetensors "$plugins/"
# its translations where the plug-in looks for them, when built
if [ -d "$BUILD/po" ]; then
  for mo in "$BUILD"/po/*/LC_MESSAGES/*.mo; do
    [ -f "$mo" ] || continue
    lang=$(basename "$(dirname "$(dirname "$mo")")")
    mkdir -p "$plugins/locale/$lang/LC_MESSAGES"
    cp "$mo" "$plugins/locale/$lang/LC_MESSAGES/gimp30-refsr.mo"
  done
fi
printf '(show-welcome-dialog no)\n(show-tips no)\n' >"$S/home/.config/GIMP/3.0/gimprc"
"$BUILD/tools/refsr-make-demo" "$S" >/dev/null
# The preview says on stderr (GIMP's log here) when each job ends.
export HOME=$S/home LANG=$LANGUAGE_LANG S REFSR_PREVIEW_LOG=1
# No window manager: the dialog opens at 0,0 and xwd finds it by its title
# (the window's name is taken from the first capture: it is translated).
xvfb-run -a -s "-screen 0 1280x1000x24" sh -c '
  gimp-3.0 --no-splash -f -d --batch-interpreter=plug-in-script-fu-eval -b "
  (let* ((ref (car (gimp-file-load RUN-NONINTERACTIVE \"$S/ref.png\")))
         (img (car (gimp-file-load RUN-NONINTERACTIVE \"$S/lr.png\")))
         (layer (vector-ref (car (gimp-image-get-layers img)) 0))
         (sharp (vector-ref (car (gimp-image-get-layers ref)) 0)))
    (gimp-item-set-name sharp \"Sharp photo\")
    (gimp-image-set-file ref \"$S/sharp-reference.xcf\")
    (gimp-image-set-file img \"$S/soft.xcf\")
    (gimp-display-new ref) (gimp-display-new img)
    (plug-in-refsr #:run-mode RUN-INTERACTIVE #:image img
                   #:drawables (vector layer)))" \
    >"$S/gimp.log" 2>&1 &
  gimp=$!
  # the preview done (or failed), else give up after two minutes
  for i in $(seq 1 120); do
    sleep 1
    grep -q "refsr-preview: \(done\|failed\)" "$S/gimp.log" && break
  done
  sleep 1
  # the plug-in'"'"'s largest window (its class is refsr whatever the language)
  id=$(xwininfo -root -tree | awk "/\"refsr\"/ {
         if (match(\$0, /[0-9]+x[0-9]+\+/)) {
           split(substr(\$0, RSTART, RLENGTH - 1), wh, \"x\")
           if (wh[1] * wh[2] > best) { best = wh[1] * wh[2]; id = \$1 } } }
         END { print id }")
  if [ -n "$id" ]; then
    xwd -id "$id" -out "$S/dialog.xwd"
  else
    xwd -root -out "$S/dialog.xwd"
  fi
  grep "refsr-preview" "$S/gimp.log" >&2 || true
  kill $gimp'
gimp-console-3.0 -i -f -d --quit --batch-interpreter=plug-in-script-fu-eval -b \
  "(gimp-file-save RUN-NONINTERACTIVE (car (gimp-file-load RUN-NONINTERACTIVE \"$S/dialog.xwd\")) \"$S/dialog.png\" -1)" \
  >/dev/null 2>&1
cp "$S/dialog.png" "$OUT"
echo "wrote $OUT"
