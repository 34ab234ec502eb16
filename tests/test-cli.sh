#!/bin/sh
# test-cli.sh REFSR — the refsr command: output equal to the official
# model's for the fixture inputs, 16-bit output for 16-bit LR images,
# --dump, --confidence, --scale, convert, the progress line on a terminal
# (where a pseudo-terminal can be opened), and a clear one-line
# error with a non-zero exit and no output file for each kind of bad input;
# crafted cases for the output side (an output that is an input, a device,
# a FIFO, a folder, the other outputs; -o - to a pipe and to /dev/full),
# the options and --help in C and UTF-8 locales.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
REFSR=$1
FIX=${REFSR_FIXTURES:?}
HERE=$(cd "$(dirname "$0")" && pwd)
PNG="python3 $HERE/pngtool.py"
W1=$FIX/weights-1+1+1+1-seed1.safetensors
W16=$FIX/weights-16+16+8+4-seed2.safetensors
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

# TTSR searches the reference as it is: --ref-scales 1 for parity (the
# default, auto, also searches it reduced).
check "fixture case b: output within 1/255 of the official sr_u8" sh -c "
  '$REFSR' -q --weights '$W1' --ref-scales 1 -r '$T/ref.png' -o '$T/parity.png' '$T/lr.png' &&
  $PNG compare '$T/parity.png' '$FIX/case-b.safetensors' sr_u8 1 0.001"
# The default run (every scale auto chooses), which the checks below
# compare with.
check "the defaults write a 124×92 PNG" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/sr.png' '$T/lr.png' &&
  test \"\$($PNG size '$T/sr.png')\" = 124x92"
# The 16-bit files hold v * 257 for each 8-bit v: reduced to 8 bits they
# are the same pixels.  A 16-bit reference changes nothing; a 16-bit LR
# gives a 16-bit PNG of the float result, (v + 1) / 2 * 65535 rounded,
# whose high bytes are the 8-bit output's within 1 (that one rounds
# (v + 1) * 127.5).
check "a 16-bit reference gives the same output as an 8-bit one" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref16.png' -o '$T/sr16r.png' '$T/lr.png' &&
  cmp '$T/sr.png' '$T/sr16r.png'"
check "a 16-bit LR gives a 16-bit PNG of the float result, high bytes within 1" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref16.png' -o '$T/sr16.png' \
    --dump '$T/d16.safetensors' '$T/lr16.png' &&
  test \"\$($PNG depth '$T/sr16.png')\" = 16 &&
  $PNG sr16 '$T/sr16.png' '$T/d16.safetensors' &&
  $PNG high-bytes '$T/sr16.png' '$T/sr.png' 1"
check "--dump writes S, idx, T_lv3, T_lv2, T_lv1 and sr" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/sr2.png' --dump '$T/d.safetensors' '$T/lr.png' &&
  test \"\$($PNG keys '$T/d.safetensors')\" = 'S T_lv1 T_lv2 T_lv3 idx sr'"
check "--confidence writes S as a grey PNG, each LR pixel 4x4, the PNG unchanged" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/sr4.png' --dump '$T/d4.safetensors' \
    --confidence '$T/conf.png' '$T/lr.png' &&
  $PNG confidence '$T/conf.png' '$T/d4.safetensors' 4 && cmp '$T/sr.png' '$T/sr4.png'"
# --scale: 4 is the PNG itself; 3 and 2 are exactly that size, and (where
# Pillow is there to tell) Pillow's Image.resize (..., BICUBIC) of the 4×
# PNG, byte for byte.
check "--scale 4 gives the PNG of no --scale" sh -c "
  '$REFSR' -q --scale 4 --weights '$W1' -r '$T/ref.png' -o '$T/s4.png' '$T/lr.png' &&
  cmp '$T/sr.png' '$T/s4.png'"
for scale in 3 2; do
  check "--scale $scale: $scale× the LR size, the map in ${scale}×$scale blocks" sh -c "
    '$REFSR' -q --scale $scale --weights '$W1' -r '$T/ref.png' -o '$T/s$scale.png' \
      --dump '$T/ds$scale.safetensors' --confidence '$T/cs$scale.png' '$T/lr.png' &&
    test \"\$($PNG size '$T/s$scale.png')\" = $((31 * scale))x$((23 * scale)) &&
    $PNG confidence '$T/cs$scale.png' '$T/ds$scale.safetensors' $scale"
  n=$((n + 1))
  if python3 -c 'import PIL' 2>/dev/null; then
    if python3 - "$T/sr.png" "$T/s$scale.png" >"$T/check" 2>&1 <<'PY'
import sys
from PIL import Image
big, small = Image.open(sys.argv[1]), Image.open(sys.argv[2])
want = big.resize(small.size, Image.BICUBIC)
sys.exit(0 if want.tobytes() == small.tobytes() else 1)
PY
    then echo "ok $n - --scale $scale is Pillow's bicubic reduction of the 4× PNG"
    else echo "not ok $n - --scale $scale is Pillow's bicubic reduction of the 4× PNG"
      sed 's/^/# /' "$T/check"; fails=$((fails + 1)); fi
  else
    echo "ok $n - # SKIP --scale $scale against Pillow: no Pillow"
  fi
done
# The same told of TIFF files (the crafted cases of imagecases.py, which
# needs numpy).
n=$((n + 1))
if python3 - "$HERE" "$T" >"$T/check" 2>&1 <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import imagecases
cases = {c.name: c for c in imagecases.cases()}
for name in ("rgb16.tif", "grey16.tif", "rgb8-tiled.tif"):
    imagecases.write(cases[name], sys.argv[2])
PY
then
  for tif in rgb16 grey16 rgb8-tiled; do
    "$REFSR" -q --weights "$W1" -r "$T/ref.png" -o "$T/$tif.png" "$T/$tif.tif" &&
      echo "$tif $($PNG depth "$T/$tif.png")"
  done >"$T/depths" 2>&1
  if [ "$(tr '\n' ' ' <"$T/depths")" = "rgb16 16 grey16 16 rgb8-tiled 8 " ]; then
    echo "ok $n - 16-bit TIFF LR images give 16-bit PNGs, an 8-bit one an 8-bit PNG"
  else
    echo "not ok $n - 16-bit TIFF LR images give 16-bit PNGs"; sed 's/^/# /' "$T/depths"
    fails=$((fails + 1))
  fi
else
  echo "ok $n - # SKIP 16-bit TIFF LR images: $(tail -1 "$T/check")"
fi
check "a 16-bit LR with --scale 2 gives the 8-bit PNG of an 8-bit LR" sh -c "
  '$REFSR' -q --scale 2 --weights '$W1' -r '$T/ref.png' -o '$T/s2-16.png' '$T/lr16.png' &&
  cmp '$T/s2.png' '$T/s2-16.png'"
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
# A pool: -r twice.  The same reference twice is the single reference
# (ties go to the first); a missing second one fails before anything.
check "-r REF -r REF gives the PNG of -r REF" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/one.png' '$T/lr.png' &&
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -r '$T/ref.png' -o '$T/two.png' '$T/lr.png' &&
  cmp '$T/one.png' '$T/two.png'"
fails_cleanly "a missing second reference" "nope.png" --weights "$W1" -r "$T/ref.png" -r "$T/nope.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "a second reference that is not an image" "not an image" --weights "$W1" -r "$T/ref.png" -r "$T/bad.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "the second reference as the output" "same file as the input" --weights "$W1" -r "$T/ref.png" -r "$T/ref16.png" -o "$T/ref16.png" "$T/lr.png"
check "--search exact and --search fast run; auto is exact at this size" sh -c "
  '$REFSR' -q --weights '$W1' --search exact -r '$T/ref.png' -o '$T/exact.png' '$T/lr.png' &&
  '$REFSR' -q --weights '$W1' --search fast -r '$T/ref.png' -o '$T/fast.png' '$T/lr.png' &&
  cmp '$T/one.png' '$T/exact.png'"
check "--ref-scales 1,0.5 runs, and differs from 1" sh -c "
  '$REFSR' -q --weights '$W1' --ref-scales 1,0.5 -r '$T/ref.png' -o '$T/half.png' '$T/lr.png' &&
  '$REFSR' -q --weights '$W1' --ref-scales 1 -r '$T/ref.png' -o '$T/sone.png' '$T/lr.png' &&
  ! cmp -s '$T/half.png' '$T/sone.png'"
fails_cleanly "--search unknown" "search takes auto, exact or fast" --search slow --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
for scales in 0 1.5 1,1 abc "" 1,0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2; do
  fails_cleanly "--ref-scales '$scales'" "ref-scales" --ref-scales "$scales" --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
done
fails_cleanly "--ref-scales too small for the reference" "smaller than 4 pixels" --ref-scales 0.01 --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
# Tiles: with these weights the main network's context nearly fits in
# the margin: the float results differ by a few ulps, which for this
# pair and one reference scale round to the same bytes (other tiles
# and pairs: within 1/255, test tiling).
check "--tile 8 and --tile 5 give the PNG of --tile 0" sh -c "
  '$REFSR' -q --tile 0 --ref-scales 1 --weights '$W1' -r '$T/ref.png' -o '$T/t0.png' '$T/lr.png' &&
  '$REFSR' -q --tile 8 --ref-scales 1 --weights '$W1' -r '$T/ref.png' -o '$T/t8.png' '$T/lr.png' &&
  '$REFSR' -q --tile 5 --ref-scales 1 --weights '$W1' -r '$T/ref.png' -o '$T/t5.png' '$T/lr.png' &&
  cmp '$T/t0.png' '$T/t8.png' && cmp '$T/t0.png' '$T/t5.png'"
fails_cleanly "a budget nothing fits is refused with the numbers" "needs at least .* MB .* budget of 20 MB" --max-memory 20M --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "--max-memory below 16M" "max-memory takes a size" --max-memory 1M --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "--max-memory not a size" "not '2X'" --max-memory 2X --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "--scale 5" "scale takes 2, 3 or 4, not '5'" --scale 5 --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "--scale 1" "scale takes 2, 3 or 4, not '1'" --scale 1 --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "--scale 2.5" "scale takes 2, 3 or 4, not '2.5'" --scale 2.5 --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "--tile negative" "tile takes a tile size" --tile -3 --weights "$W1" -r "$T/ref.png" -o "$T/never.png" "$T/lr.png"
fails_cleanly "convert of a non-checkpoint" "bad.safetensors" convert "$T/bad.safetensors" "$T/ro/x.safetensors"

# Crafted cases for the output side, the options and the messages.  Each
# runs in the folder $C, where a weights file that is not one is the
# built-in model (REFSR_WEIGHTS), so a refusal that names the output
# proves it came before the model, or any image, was loaded.  Each must
# exit 1 with exactly one line on stderr, starting with "refsr: " and
# saying what is expected (the file's name, or the option), nothing on
# stdout, every file in $C unchanged (listing, modes, link counts and
# checksums) and nothing created, and /dev/null and /dev/full still
# device nodes.
C=$T/crafted
mkdir "$C" "$C/d"
cp "$T/lr.png" "$T/ref.png" "$C/"
cp "$T/lr.png" "$C/old.png"
printf 'not weights' >"$C/bad.safetensors"
ln -s ref.png "$C/ref-link.png"
ln "$C/ref.png" "$C/ref-hard.png"
ln -s old.png "$C/old-link.png"
ln -s nowhere.png "$C/dangling.png"
mkfifo "$C/fifo"
printf 'not an image' >"$C/lr-x4.png"   # what LR's default output would be

snapshot() {
  (cd "$C" && ls -lAR --time-style=+ . && find . -type f -exec cksum {} + | sort)
}

judge() {   # judge STATUS DESCRIPTION EXPECTED-TEXT SNAPSHOT-BEFORE
  why=""
  [ "$1" -eq 1 ] || why="$why exit status $1, not 1;"
  lines=$(wc -l <"$T/err")
  [ "$lines" -eq 1 ] || why="$why $lines lines on stderr, not 1;"
  grep -q '^refsr: ' "$T/err" || why="$why it does not start with 'refsr: ';"
  grep -qF -- "$3" "$T/err" || why="$why it does not say \"$3\";"
  [ ! -s "$T/out" ] || why="$why standard output is not empty;"
  [ "$(snapshot)" = "$4" ] || why="$why files were changed or created;"
  { [ -c /dev/null ] && [ -c /dev/full ]; } || why="$why a device node was replaced;"
  if [ -z "$why" ]; then echo "ok $n - $2: $(cat "$T/err")"
  else echo "not ok $n - $2:$why"; sed 's/^/# /' "$T/err"; fails=$((fails + 1)); fi
}

refused() {   # refused DESCRIPTION EXPECTED-TEXT ARGS...
  n=$((n + 1)); d=$1; want=$2; shift 2
  before=$(snapshot)
  # shellcheck disable=SC2086
  (cd "$C" && REFSR_WEIGHTS="$C/bad.safetensors" exec ${AS:-} "$REFSR" "$@") \
    >"$T/out" 2>"$T/err" </dev/null
  judge $? "$d" "$want" "$before"
}

refused "-o is the LR image" "cannot write 'lr.png': it is the same file as the input 'lr.png'" \
  -r ref.png -o lr.png lr.png
refused "-o is the reference" "cannot write 'ref.png': it is the same file as the input 'ref.png'" \
  -r ref.png -o ref.png lr.png
refused "-o is a symbolic link to the reference" "cannot write 'ref-link.png': it is the same file as the input 'ref.png'" \
  -r ref.png -o ref-link.png lr.png
refused "-o is a hard link to the reference" "cannot write 'ref-hard.png': it is the same file as the input 'ref.png'" \
  -r ref.png -o ref-hard.png lr.png
refused "-o is the reference given through a link" "cannot write 'ref.png': it is the same file as the input 'ref-link.png'" \
  -r ref-link.png -o ref.png lr.png
refused "-o is the weights file" "cannot write 'bad.safetensors': it is the same file as the input" \
  -r ref.png -o bad.safetensors lr.png
refused "the default output (LR-x4.png) is the reference" "cannot write 'lr-x4.png': it is the same file as the input 'lr-x4.png'" \
  -r lr-x4.png lr.png
refused "--dump is the LR image" "cannot write 'lr.png': it is the same file as the input 'lr.png'" \
  -r ref.png -o new.png --dump lr.png lr.png
refused "--dump is -o (a new file, spelled otherwise)" "cannot write './new.png': --dump and -o name the same file" \
  -r ref.png -o new.png --dump ./new.png lr.png
refused "--dump is -o through a symbolic link" "cannot write 'old-link.png': --dump and -o name the same file" \
  -r ref.png -o old.png --dump old-link.png lr.png
refused "--confidence is the reference" "cannot write 'ref.png': it is the same file as the input 'ref.png'" \
  -r ref.png -o new.png --confidence ref.png lr.png
refused "--confidence is -o" "cannot write './new.png': --confidence and -o name the same file" \
  -r ref.png -o new.png --confidence ./new.png lr.png
refused "--confidence is --dump through a link" "cannot write 'old-link.png': --confidence and --dump name the same file" \
  -r ref.png -o new.png --dump old.png --confidence old-link.png lr.png
refused "--confidence - (standard output)" "cannot write the confidence map to standard output: give --confidence a file name" \
  -r ref.png -o new.png --confidence - lr.png
refused "--confidence a folder" "cannot write 'd': it is a folder" \
  -r ref.png -o new.png --confidence d lr.png
refused "--dump - (standard output)" "cannot write the dump to standard output" \
  -r ref.png -o new.png --dump - lr.png
refused "-o /dev/null" "cannot write '/dev/null': it is a character device" \
  -r ref.png -o /dev/null lr.png
refused "-o /dev/full" "cannot write '/dev/full': it is a character device" \
  -r ref.png -o /dev/full lr.png
refused "--dump /dev/null" "cannot write '/dev/null': it is a character device" \
  -r ref.png -o new.png --dump /dev/null lr.png
refused "-o a FIFO" "cannot write 'fifo': it is a FIFO" \
  -r ref.png -o fifo lr.png
refused "-o a folder" "cannot write 'd': it is a folder" \
  -r ref.png -o d lr.png
refused "-o ''" "cannot write '': the name is empty" \
  -r ref.png -o "" lr.png
refused "-o a name ending in /" "cannot write 'd/': the name ends in '/'" \
  -r ref.png -o d/ lr.png
refused "-o in a missing folder" "cannot write 'nodir/x.png': no such folder 'nodir'" \
  -r ref.png -o nodir/x.png lr.png
refused "-o below a file" "cannot write 'lr.png/x.png': 'lr.png' is not a folder" \
  -r ref.png -o lr.png/x.png lr.png
# Root may write into any folder whatever its permission bits, but not
# make files in /proc: the folder check creates a file, it does not ask
# access().
refused "-o in a folder that takes no files (/proc)" "cannot write '/proc/refsr-test.png': cannot create files in the folder '/proc'" \
  -r ref.png -o /proc/refsr-test.png lr.png
refused "-o a symbolic link to nothing" "cannot write 'dangling.png': it is a symbolic link to nothing" \
  -r ref.png -o dangling.png lr.png
refused "--threads 0" "--threads takes a whole number of 1 or more, not '0'" \
  --threads 0 -r ref.png -o new.png lr.png
refused "--threads -1" "--threads takes a whole number of 1 or more, not '-1'" \
  --threads -1 -r ref.png -o new.png lr.png
refused "--threads 2x" "--threads takes a whole number of 1 or more, not '2x'" \
  --threads 2x -r ref.png -o new.png lr.png
refused "an unknown option" "Unknown option --bogus; usage: refsr" \
  --bogus -r ref.png -o new.png lr.png
refused "no -r" "no reference: -r REF is required; usage: refsr" \
  -o new.png lr.png
refused "two LR images" "one LR image only, but 'old.png' follows 'lr.png'; usage: refsr" \
  -r ref.png -o new.png lr.png old.png
refused "the LR image is a folder" "cannot read 'd': it is a folder" \
  -r ref.png -o new.png d
refused "the reference is a folder" "cannot read 'd': it is a folder" \
  -r d -o new.png lr.png
refused "the reference is a FIFO" "cannot read 'fifo': it is a FIFO" \
  -r fifo -o new.png lr.png
refused "a file name with a newline still gives one line" "cannot read 'a\x0ab.png': no such file" \
  -r ref.png -o new.png "$(printf 'a\nb.png')"
refused "convert onto its input" "cannot write 'bad.safetensors': it is the same file as the input 'bad.safetensors'" \
  convert bad.safetensors bad.safetensors

# Permissions, for a user they bind: a folder without write permission, a
# read-only file, and (it takes a file of another user) a file of root's
# in a sticky folder such as /tmp.  As root these run as nobody, in a
# folder nobody can reach ($T is private).
P=$(mktemp -d /tmp/refsr-test-cli.XXXXXX)
trap 'rm -rf "$T" "$P"' EXIT
chmod 755 "$P"
cp "$C/lr.png" "$C/ref.png" "$C/bad.safetensors" "$P/"
mkdir -m 555 "$P/locked"
mkdir -m 1777 "$P/sticky"
cp "$C/lr.png" "$P/read-only.png"
chmod 444 "$P/read-only.png"
C_SAVED=$C; C=$P
if [ "$(id -u)" -eq 0 ]; then
  AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
  cp "$P/lr.png" "$P/sticky/roots.png"
  chmod 666 "$P/sticky/roots.png"
fi
refused "-o in a folder without write permission" "cannot write 'locked/x.png': cannot create files in the folder 'locked': Permission denied" \
  -r ref.png -o locked/x.png lr.png
refused "-o a read-only file" "cannot write 'read-only.png': it may not be changed (Permission denied)" \
  -r ref.png -o read-only.png lr.png
if [ -n "${AS:-}" ]; then
  refused "-o another user's file in a sticky folder" "cannot write 'sticky/roots.png': it belongs to another user" \
    -r ref.png -o sticky/roots.png lr.png
else
  n=$((n + 1))
  echo "ok $n - # SKIP -o another user's file in a sticky folder: making one takes root"
fi
AS=""; C=$C_SAVED

# -o - with standard output appended to an input would change it.
n=$((n + 1))
before=$(snapshot)
(cd "$C" && REFSR_WEIGHTS="$C/bad.safetensors" exec "$REFSR" -r ref.png -o - lr.png) \
  >>"$C/lr.png" 2>"$T/err" </dev/null
status=$?
: >"$T/out"
judge $status "-o - with standard output appended to the LR image" \
  "cannot write to standard output: it is the same file as the input 'lr.png'" "$before"

# --dump naming the file standard output goes to (with -o -)
n=$((n + 1))
before=$(snapshot)
(cd "$C" && REFSR_WEIGHTS="$C/bad.safetensors" exec "$REFSR" -r ref.png -o - --dump old.png lr.png) \
  >>"$C/old.png" 2>"$T/err" </dev/null
status=$?
: >"$T/out"
judge $status "--dump is where standard output goes, with -o -" \
  "cannot write 'old.png': --dump and -o name the same file" "$before"

# -o - with standard output on a terminal is refused (a pseudo-terminal,
# where one can be opened; a root without /dev/pts has none)
n=$((n + 1))
before=$(snapshot)
python3 - "$REFSR" "$C" >"$T/out" 2>"$T/err" <<'PY'
import os, pty, subprocess, sys
try:
    master, slave = pty.openpty()
except OSError as e:
    print(f"no pseudo-terminal: {e}")
    sys.exit(77)
env = dict(os.environ, REFSR_WEIGHTS=os.path.join(sys.argv[2], "bad.safetensors"))
r = subprocess.run([sys.argv[1], "-r", "ref.png", "-o", "-", "lr.png"], cwd=sys.argv[2],
                   stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env)
os.close(slave)
os.set_blocking(master, False)
try:
    written = os.read(master, 4096)
except OSError:
    written = b""
sys.stderr.buffer.write(r.stderr)
sys.exit(r.returncode if not written else 99)
PY
status=$?
if [ $status -eq 77 ]; then
  echo "ok $n - # SKIP -o - on a terminal: $(cat "$T/out")"
else
  judge $status "-o - with standard output on a terminal" \
    "cannot write to standard output: it is a terminal" "$before"
fi

# -o - writes the PNG, byte for byte the file -o writes, and nothing else
# (the success line is left out), to a pipe; nothing on stderr either.
check "-o - to a pipe gives the PNG of -o FILE and nothing more" sh -c "
  { '$REFSR' --weights '$W1' -r '$T/ref.png' -o - '$T/lr.png' 2>'$T/err'; echo \$? >'$T/status'; } | cat >'$T/piped.png' &&
  test \"\$(cat '$T/status')\" = 0 && cmp '$T/sr.png' '$T/piped.png' && test ! -s '$T/err'"
# A write error on standard output: one line, exit 1, and the dump and
# the confidence map that were to go with it are not left behind.
n=$((n + 1))
"$REFSR" --weights "$W1" -r "$T/ref.png" -o - --dump "$T/never.safetensors" \
  --confidence "$T/never-confidence.png" "$T/lr.png" >/dev/full 2>"$T/err"
status=$?
if [ $status -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
   && grep -q '^refsr: cannot write to standard output: No space left on device$' "$T/err" \
   && [ ! -e "$T/never.safetensors" ] && [ ! -e "$T/never-confidence.png" ]; then
  echo "ok $n - -o - to /dev/full: $(cat "$T/err")"
else
  echo "not ok $n - -o - to /dev/full (exit $status)"; sed 's/^/# /' "$T/err"; fails=$((fails + 1))
fi
# On success: one line on stdout, nothing on stderr (not a terminal: no
# progress line).
check "success: one line on stdout, nothing on stderr" sh -c "
  '$REFSR' --weights '$W1' -r '$T/ref.png' -o '$T/sr3.png' '$T/lr.png' >'$T/out' 2>'$T/err' &&
  test \"\$(wc -l <'$T/out')\" = 1 && test ! -s '$T/err'"
# On a terminal: a progress line with the stage and, once a few percent
# are done, the time left, redrawn at most 4 times a second and ended by
# one newline at 100%.  The full model on the reference takes seconds.
n=$((n + 1))
python3 - "$REFSR" "$W16" "$T" >"$T/out" 2>"$T/err" <<'PY'
import os, pty, subprocess, sys, time
refsr, weights, t = sys.argv[1:]
try:
    master, slave = pty.openpty()
except OSError as e:
    print(f"no pseudo-terminal: {e}")
    sys.exit(77)
start = time.monotonic()
p = subprocess.Popen([refsr, "--weights", weights, "-r", f"{t}/ref.png",
                      "-o", f"{t}/progress.png", f"{t}/ref.png"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=slave)
os.close(slave)
shown = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
wall = time.monotonic() - start
text = shown.decode()
draws = text.count("\r")
sample = [d.strip() for d in text.split("\r") if "left" in d][-1:]
print(f"{draws} draws in {wall:.1f} s, such as '{''.join(sample)}'")
ok = (p.wait() == 0 and "s left" in text and "search" in text
      and text.endswith("\n") and text.count("\n") == 1
      and text.rstrip().endswith("100%  reconstruction") and draws <= 4 * wall + 2)
sys.exit(0 if ok else 1)
PY
status=$?
if [ $status -eq 77 ]; then
  echo "ok $n - # SKIP progress on a terminal: $(cat "$T/out")"
elif [ $status -eq 0 ]; then
  echo "ok $n - progress on a terminal, with the time left: $(cat "$T/out")"
else
  echo "not ok $n - progress on a terminal"; sed 's/^/# /' "$T/out" "$T/err"
  fails=$((fails + 1))
fi
# An output that is a symbolic link: the link stays, the file it points to
# is replaced and keeps its permissions.
cp "$T/lr.png" "$T/kept.png"
chmod 640 "$T/kept.png"
ln -s kept.png "$T/kept-link.png"
check "-o a link: the link is kept, its file replaced with its mode" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' -o '$T/kept-link.png' '$T/lr.png' &&
  test -L '$T/kept-link.png' && cmp '$T/sr.png' '$T/kept.png' &&
  test \"\$(stat -c %a '$T/kept.png')\" = 640"
mkdir "$T/sub"
cp "$T/lr.png" "$T/sub/lr.v1.png"
check "without -o the output is LR-x4.png beside LR" sh -c "
  '$REFSR' -q --weights '$W1' -r '$T/ref.png' '$T/sub/lr.v1.png' &&
  cmp '$T/sr.png' '$T/sub/lr.v1-x4.png'"
check "with --scale 2 and without -o it is LR-x2.png" sh -c "
  '$REFSR' -q --scale 2 --weights '$W1' -r '$T/ref.png' '$T/sub/lr.v1.png' &&
  cmp '$T/s2.png' '$T/sub/lr.v1-x2.png'"
# --help: right in the C locale (ASCII, no '?' for what ASCII lacks) and
# in UTF-8 locales (the real characters).
check "--help in the C locale: ASCII, no '?'" sh -c "
  LC_ALL=C '$REFSR' --help >'$T/help' && ! grep -q '?' '$T/help' &&
  ! LC_ALL=C grep -q '[^ -~]' '$T/help' && grep -q 'image 4x with' '$T/help' &&
  grep -q 'OPTION\.\.\.' '$T/help'"
for loc in C.UTF-8 en_US.UTF-8; do
  check "--help in $loc: no '?', the characters themselves" sh -c "
    LC_ALL=$loc '$REFSR' --help >'$T/help' && ! grep -q '?' '$T/help' &&
    grep -q 'image 4× with' '$T/help' && grep -q 'OPTION…' '$T/help'"
done

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
        --dump "$T/partial.safetensors" --confidence "$T/partial.png" \
        "$T/lr.png") >"$T/out" 2>"$T/err"; then
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
for sig in INT TERM; do
  n=$((n + 1))
  "$REFSR" --weights "$W16" -r "$T/ref.png" -o "$T/never.png" \
    --dump "$T/partial.safetensors" --confidence "$T/partial.png" \
    "$T/ref.png" >"$T/out" 2>"$T/err" &
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
