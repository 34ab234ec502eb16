#!/bin/sh
# test-progress.sh GIMP-CONSOLE PLUG-IN PROBE — the plug-in's progress and
# what "New layer" output does to the image: the test-only plug-in PROBE
# (refsr-progress-probe.c), installed beside refsr in a throw-away
# profile, calls plug-in-refsr at 4x and at 2x on a layer with a larger
# reference layer in the same image.  The progress is what refsr passes
# to gimp_progress_*, from its REFSR_PROGRESS_LOG: GIMP 3.0.4 cannot
# install a plug-in's progress vtable (its core wants an int "command"
# argument where libgimp declares an enum), so a caller cannot record a
# callee's progress; the probe records its vtable's calls too, checked
# the same way should a GIMP accept it.  The plug-in's own calls are all
# the bar gets: the GIMP calls it makes while enlarging the image drive
# no progress (see enlarge_image in refsr-plugin.c).  Each run must
# succeed with one start, values in [0, 1] that never go back and end at
# 1, only the plug-in's own labels (in English here), reading first and
# the image's other layers last; the reference keeps its size and moves
# with the image, which becomes 2x or 4x larger with its channel, selection,
# path and guide.  TAP.
# GIMP-CONSOLE "" means none was found at configure time: a skip (TAP plan
# 1..0), or a failure under CI=true, where GIMP is required.
# REFSR_PROBE_LARGE=1 adds a timed run on a 120 x 120 layer with a
# 2000 x 1500 reference (its seconds are printed as a TAP comment).
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
GIMP=$1
PLUGIN=$2
PROBE=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/gimp-tap.sh"
FIX=${REFSR_FIXTURES:?}
for name in refsr refsr-progress-probe; do
  mkdir -p "$T/home/.config/GIMP/3.0/plug-ins/$name"
done
cp "$PLUGIN" "$T/home/.config/GIMP/3.0/plug-ins/refsr/refsr"
cp "$PROBE" "$T/home/.config/GIMP/3.0/plug-ins/refsr-progress-probe/refsr-progress-probe"

# G_DEBUG=fatal-criticals is dropped for GIMP, as in test-plugin.sh.
HOME=$T/home LANG=C.UTF-8 LC_ALL= LANGUAGE= \
  REFSR_PROBE_LOG=$T/probe.log REFSR_PROGRESS_LOG=$T/progress.log \
  REFSR_PROBE_WEIGHTS=$FIX/weights-1+1+1+1-seed1.safetensors \
  timeout 300 env -u G_DEBUG "$GIMP" -i -f -d --quit \
  --batch-interpreter=plug-in-script-fu-eval \
  -b "(plug-in-refsr-progress-probe)" </dev/null >"$T/gimp.log" 2>&1
status=$?
if [ ! -s "$T/probe.log" ] || [ ! -s "$T/progress.log" ]; then
  echo "not ok 1 - the probe ran and wrote its log (GIMP exit $status)"
  sed 's/^/# /' "$T/gimp.log"
  echo "1..1"
  exit 1
fi
python3 "$HERE/progress-check.py" "$T/probe.log" "$T/progress.log"
