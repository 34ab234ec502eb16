#!/bin/sh
# test-cli.sh REFSR — the refsr command: output equal to the official
# model's for the fixture inputs, --dump, convert, and a clear one-line
# error with a non-zero exit and no output file for each kind of bad input.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
REFSR=$1
FIX=${REFSR_FIXTURES:?}
HERE=$(cd "$(dirname "$0")" && pwd)
PNG="python3 $HERE/pngtool.py"
W1=$FIX/weights-1+1+1+1-seed1.safetensors
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
echo "TAP version 13"

ok() {   # ok DESCRIPTION COMMAND...: passes when COMMAND succeeds
  n=$((n + 1)); d=$1; shift
  if "$@" >"$T/out" 2>&1; then echo "ok $n - $d"
  else echo "not ok $n - $d"; sed 's/^/# /' "$T/out"; fails=$((fails + 1)); fi
}

fails_cleanly() {   # fails_cleanly DESCRIPTION EXPECTED-TEXT ARGS...
  n=$((n + 1)); d=$1; want=$2; shift 2
  rm -f "$T/never.png"
  if "$REFSR" "$@" >"$T/out" 2>"$T/err"; then
    echo "not ok $n - $d (exit 0)"; fails=$((fails + 1)); return
  fi
  if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "$want" "$T/err" \
     && [ ! -e "$T/never.png" ] && [ -z "$(ls -A "$T/ro" 2>/dev/null)" ]; then
    echo "ok $n - $d: $(cat "$T/err")"
  else
    echo "not ok $n - $d"; sed 's/^/# /' "$T/err"; fails=$((fails + 1))
  fi
}

$PNG from-fixture "$FIX/case-b.safetensors" lr_u8 "$T/lr.png"
$PNG from-fixture "$FIX/case-b.safetensors" ref_u8 "$T/ref.png"
$PNG from-fixture "$FIX/case-b.safetensors" lr_u8 "$T/lr16.png" 16
$PNG from-fixture "$FIX/case-b.safetensors" ref_u8 "$T/ref16.png" 16

ok "fixture case b: output within 1/255 of the official sr_u8" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/sr.png' '$T/lr.png' &&
  $PNG compare '$T/sr.png' '$FIX/case-b.safetensors' sr_u8 1 0.001"
ok "16-bit PNG inputs give the same output as 8-bit ones" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref16.png' -o '$T/sr16.png' '$T/lr16.png' &&
  cmp '$T/sr.png' '$T/sr16.png' || $PNG compare '$T/sr16.png' '$FIX/case-b.safetensors' sr_u8 1 0.001"
ok "--dump writes S, idx, T_lv3, T_lv2, T_lv1 and sr" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/sr2.png' --dump '$T/d.safetensors' '$T/lr.png' &&
  test \"\$($PNG keys '$T/d.safetensors')\" = 'S T_lv1 T_lv2 T_lv3 idx sr'"
ok "--threads 1 gives the same PNG" sh -c "
  '$REFSR' -q --threads 1 --weights '$W1' -r '$T/ref.png' -o '$T/sr1.png' '$T/lr.png' &&
  cmp '$T/sr.png' '$T/sr1.png'"
for kind in legacy legacy-cuda zip; do
  ok "convert $kind .pt gives the tensors of the safetensors fixture" sh -c "
    '$REFSR' convert '$FIX/weights-1+1+1+1-seed1.$kind.pt' '$T/c.safetensors' &&
    $PNG same-tensors '$T/c.safetensors' '$W1'"
done

mkdir -p "$T/ro"
printf 'not an image' >"$T/bad.png"
printf 'not weights' >"$T/bad.safetensors"
fails_cleanly "no arguments" "usage"
fails_cleanly "no reference" "usage" --weights "$W1" -o "$T/never.png" "$T/lr.png"
fails_cleanly "missing LR file" "no such file" --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/nope.png"
fails_cleanly "LR not an image" "not an image" --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/bad.png"
fails_cleanly "weights not weights" "bad.safetensors" --weights "$T/bad.safetensors" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "missing weights file" "nope.pt" --weights "$T/nope.pt" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "no weights anywhere" "weights" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "output folder missing" "no such folder" --weights "$W1" -r "$T/ref.png" -o "$T/nodir/x.png" "$T/lr.png"
fails_cleanly "bad thread count" "threads" --threads -2 --weights "$W1" -r "$T/ref.png" "$T/lr.png"
fails_cleanly "convert of a non-checkpoint" "bad.safetensors" convert "$T/bad.safetensors" "$T/ro/x.safetensors"

echo "1..$n"
[ "$fails" -eq 0 ]
