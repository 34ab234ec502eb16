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
. "$HERE/tap.sh"

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

check "fixture case b: output within 1/255 of the official sr_u8" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/sr.png' '$T/lr.png' &&
  $PNG compare '$T/sr.png' '$FIX/case-b.safetensors' sr_u8 1 0.001"
# The 16-bit files hold v * 257 for each 8-bit v: reduced to 8 bits they
# are the same pixels, so the output must be the same file, byte for byte.
check "16-bit PNG inputs give the same output as 8-bit ones" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref16.png' -o '$T/sr16.png' '$T/lr16.png' &&
  cmp '$T/sr.png' '$T/sr16.png'"
check "--dump writes S, idx, T_lv3, T_lv2, T_lv1 and sr" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/sr2.png' --dump '$T/d.safetensors' '$T/lr.png' &&
  test \"\$($PNG keys '$T/d.safetensors')\" = 'S T_lv1 T_lv2 T_lv3 idx sr'"
check "--threads 1 gives the same PNG" sh -c "
  '$REFSR' -q --threads 1 --weights '$W1' -r '$T/ref.png' -o '$T/sr1.png' '$T/lr.png' &&
  cmp '$T/sr.png' '$T/sr1.png'"
# A DataParallel-style file ("module." prefixes, the training-only LTE_copy
# tensors) converts to the canonical names only.
python3 - "$W1" "$T/dp.safetensors" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header, body = json.loads(data[8:8 + n]), data[8 + n:]
header.pop("__metadata__", None)
extra = dict(header["LTE.slice1.0.weight"])
extra["data_offsets"] = [len(body), len(body) + 4 * 64 * 3 * 3 * 3]
body += body[:extra["data_offsets"][1] - extra["data_offsets"][0]]
out = {"module." + k: v for k, v in header.items()}
out["module.LTE_copy.slice1.0.weight"] = extra
blob = json.dumps(out).encode()
open(sys.argv[2], "wb").write(struct.pack("<Q", len(blob)) + blob + body)
PY
check "convert drops 'module.' prefixes and LTE_copy tensors" sh -c "
  '$REFSR' convert '$T/dp.safetensors' '$T/dp-c.safetensors' &&
  $PNG same-tensors '$T/dp-c.safetensors' '$W1'"
for kind in legacy legacy-cuda zip; do
  check "convert $kind .pt gives the tensors of the safetensors fixture" sh -c "
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
check "without --weights the built-in model (data/) is used" sh -c "
  env -u REFSR_WEIGHTS '$REFSR' -q -r '$T/ref.png' -o '$T/builtin.png' '$T/lr.png' &&
  test \"\$($PNG size '$T/builtin.png')\" = 124x92"
fails_cleanly "no weights anywhere" "weights" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "output folder missing" "no such folder" --weights "$W1" -r "$T/ref.png" -o "$T/nodir/x.png" "$T/lr.png"
fails_cleanly "bad thread count" "threads" --threads -2 --weights "$W1" -r "$T/ref.png" "$T/lr.png"
fails_cleanly "convert of a non-checkpoint" "bad.safetensors" convert "$T/bad.safetensors" "$T/ro/x.safetensors"

# Leaves nothing at all: neither the output nor the dump nor a temporary
# file (*.png.XXXXXX, *.safetensors.XXXXXX).
nothing_left() {
  [ -z "$(ls "$T" | grep -e never -e 'partial')" ]
}

# A disk that fills up (here a file size limit: writes fail with EFBIG)
# gives the system's reason and no partial file, for the PNG (33 KB) and
# for a dump (some MB) when the PNG itself fitted.
for limit in 8 400; do
  n=$((n + 1))
  if (ulimit -f $limit; trap '' XFSZ
      exec "$REFSR" -q --weights "$W1" -r "$T/ref.png" -o "$T/never.png" \
        --dump "$T/partial.safetensors" "$T/lr.png") >"$T/out" 2>"$T/err"; then
    echo "not ok $n - full disk, limit $limit blocks (exit 0)"; fails=$((fails + 1))
  elif [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "too large" "$T/err" && nothing_left; then
    echo "ok $n - full disk, limit $limit blocks: $(cat "$T/err")"
  else
    echo "not ok $n - full disk, limit $limit blocks"; ls "$T" | sed 's/^/# /'
    sed 's/^/# /' "$T/err"; fails=$((fails + 1))
  fi
done

# Ctrl-C (or SIGTERM) during a run: exit 1, one line, nothing written.  The
# signal is sent once refsr catches it; the full model's run on the
# reference takes seconds, so the signal comes while it works.
W16=$FIX/weights-16+16+8+4-seed2.safetensors
for sig in INT TERM; do
  n=$((n + 1))
  "$REFSR" --weights "$W16" -r "$T/ref.png" -o "$T/never.png" \
    --dump "$T/partial.safetensors" "$T/ref.png" >"$T/out" 2>"$T/err" &
  pid=$!
  # Wait for refsr itself (before the exec, $pid is a copy of this shell,
  # which catches SIGINT too), then for its handler: SigCgt's last hex
  # digit holds signals 1-4, and SIGINT's bit (2) is set with SIGTERM's.
  while kill -0 $pid 2>/dev/null; do
    if [ "$(cat /proc/$pid/comm 2>/dev/null)" = refsr ]; then
      d=$(sed -n 's/^SigCgt:.*\(.\)$/\1/p' /proc/$pid/status 2>/dev/null)
      [ -n "$d" ] && [ $((0x$d & 2)) -ne 0 ] && break
    fi
    sleep 0.01
  done
  kill -$sig $pid
  wait $pid
  rc=$?
  if [ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
     && grep -qi "cancel" "$T/err" && nothing_left; then
    echo "ok $n - SIG$sig cancels: $(cat "$T/err")"
  else
    echo "not ok $n - SIG$sig cancels (exit $rc)"; sed 's/^/# /' "$T/err"
    fails=$((fails + 1))
  fi
done

tap_end
