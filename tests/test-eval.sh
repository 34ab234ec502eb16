#!/bin/sh
# test-eval.sh EVAL MAKE_DEMO — refsr-eval on a tiny validation folder:
#   demo      crops of the procedural demo scene, HR larger than 4× LR (it
#             is cropped), the reference doubling as the unrelated one;
#   official  fixture case b with the official model output as "HR", so the
#             model column must be near-perfect and beat the unrelated one.
# Checks the table's format, its numbers against Pillow + numpy where
# those are installed, and a one-line error for each kind of bad input.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PNG="python3 $HERE/pngtool.py"
EVAL=$1
MAKE_DEMO=$2
FIX=${REFSR_FIXTURES:?}
W1=$FIX/weights-1+1+1+1-seed1.safetensors
. "$HERE/tap.sh"

fails_cleanly() {   # fails_cleanly DESCRIPTION EXPECTED-TEXT ARGS...
  n=$((n + 1)); d=$1; want=$2; shift 2
  if "$EVAL" "$@" >"$T/out" 2>"$T/err"; then
    echo "not ok $n - $d (exit 0)"; fails=$((fails + 1))
  elif [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "$want" "$T/err" \
       && [ ! -s "$T/out" ]; then
    echo "ok $n - $d: $(cat "$T/err")"
  else
    echo "not ok $n - $d"; sed 's/^/# /' "$T/err"; fails=$((fails + 1))
  fi
}

"$MAKE_DEMO" "$T/demo" >/dev/null || { echo "Bail out! refsr-make-demo failed"; exit 1; }
V=$T/val
mkdir "$V" "$T/empty"
$PNG crop "$T/demo/hr.png" "$V/demo_hr.png" 0 0 98 101
$PNG crop "$T/demo/lr.png" "$V/demo_lr.png" 0 0 24 24
$PNG crop "$T/demo/ref.png" "$V/demo_ref.png" 0 0 96 96
cp "$V/demo_ref.png" "$V/demo_unrelated.png"
$PNG from-fixture "$FIX/case-b.safetensors" lr_u8 "$V/official_lr.png"
$PNG from-fixture "$FIX/case-b.safetensors" ref_u8 "$V/official_ref.png"
$PNG from-fixture "$FIX/case-b.safetensors" sr_u8 "$V/official_hr.png"
cp "$V/demo_ref.png" "$V/official_unrelated.png"

check "refsr-eval runs on the folder" sh -c "'$EVAL' --weights '$W1' --threads 2 '$V' >'$T/table'"
sed 's/^/# /' "$T/table"
check "the table has a header, a separator, a row per pair and a mean row" sh -c "
  test \$(wc -l <'$T/table') -eq 5 &&
  sed -n 1p '$T/table' | grep -q '^| image | bicubic PSNR | bicubic SSIM | model PSNR' &&
  sed -n 2p '$T/table' | grep -q '^|---|---:|' &&
  sed -n 3p '$T/table' | grep -q '^| demo | ' &&
  sed -n 4p '$T/table' | grep -q '^| official | ' &&
  sed -n 5p '$T/table' | grep -q '^| \*\*mean\*\* | '"
check "every row has eight finite numbers, PSNRs positive, SSIMs in (0, 1]" awk -F'|' '
  NR > 2 { if (NF != 11) exit 1
           for (i = 3; i <= 10; i++) if ($i !~ /^ [0-9]+\.[0-9]+ $/) exit 1
           for (i = 3; i <= 10; i += 2) if ($i <= 0) exit 1
           for (i = 4; i <= 10; i += 2) if ($i <= 0 || $i > 1) exit 1 }
  END { exit NR == 5 ? 0 : 1 }' "$T/table"
check "the mean row is the mean of the rows" awk -F'|' '
  NR == 3 || NR == 4 { for (i = 3; i <= 10; i++) sum[i] += $i / 2 }
  NR == 5 { for (i = 3; i <= 10; i++) if (sum[i] - $i > 0.0011 || $i - sum[i] > 0.0011) exit 1 }' "$T/table"
check "official pair: the model with its reference reproduces the official output" awk -F'|' '
  $2 == " official " && !($5 > 40 && $6 > 0.99 && $5 > $7 + 5) { exit 1 }' "$T/table"
check "demo pair: the same reference in both model columns gives the same scores" awk -F'|' '
  $2 == " demo " && ($5 != $7 || $6 != $8) { exit 1 }' "$T/table"

# A pair whose references are its own LR image: the self-ref column is the
# model run with the LR image as reference, so all three model columns agree.
S=$T/selfval
mkdir "$S"
cp "$V/demo_hr.png" "$V/demo_lr.png" "$S/"
cp "$V/demo_lr.png" "$S/demo_ref.png"
cp "$V/demo_lr.png" "$S/demo_unrelated.png"
check "self-ref column: the model with the LR image as reference" sh -c "
  '$EVAL' --weights '$W1' --threads 2 '$S' | awk -F'|' '
    \$2 == \" demo \" { found = 1; print \"model\", \$5, \"unrelated\", \$7, \"self\", \$9
      exit !(\$5 == \$9 && \$6 == \$10 && \$7 == \$9) }
    END { exit !found }'"
check "self-ref column differs from the related-reference column on the demo" awk -F'|' '
  $2 == " demo " && $5 == $9 && $6 == $10 { exit 1 }' "$T/table"

# Pillow's BICUBIC x4 and the official calc_psnr formula, in numpy float32
PIL_PSNR='
import sys, numpy as np
from PIL import Image
d, name = sys.argv[1:3]
lr = Image.open(f"{d}/{name}_lr.png").convert("RGB")
up = np.asarray(lr.resize((4 * lr.width, 4 * lr.height), Image.BICUBIC), np.float32)
hr = np.asarray(Image.open(f"{d}/{name}_hr.png").convert("RGB"), np.float32)
diff = (up - hr[:up.shape[0], :up.shape[1]]) / 255.0
y = diff[..., 0] * 65.738 / 256 + diff[..., 1] * 129.057 / 256 + diff[..., 2] * 25.064 / 256
print("%.3f" % (-10 * np.log10(np.mean(y ** 2))))'
if python3 -c "import PIL, numpy" 2>/dev/null; then
  for name in demo official; do
    check "$name: bicubic PSNR equals Pillow + the official formula" sh -c "
      want=\$(python3 -c '$PIL_PSNR' '$V' $name) &&
      awk -F'|' -v want=\"\$want\" '\$2 == \" $name \" { d = \$3 - want; found = 1
        print \"bicubic PSNR\", \$3, \"Pillow\", want; exit (d > 0.0011 || d < -0.0011) }
        END { exit !found }' '$T/table'"
  done
else
  n=$((n + 1)); echo "ok $n - bicubic PSNR against Pillow # SKIP Pillow or numpy not installed"
fi

fails_cleanly "missing folder" "$T/nowhere" --weights "$W1" "$T/nowhere"
fails_cleanly "folder without pairs" "No validation pairs" --weights "$W1" "$T/empty"
fails_cleanly "no --weights" "usage" "$V"
fails_cleanly "missing weights file" "$T/none.safetensors" --weights "$T/none.safetensors" "$V"
echo "not a PNG" >"$V/official_unrelated.png"
fails_cleanly "unreadable image" "official_unrelated.png.*not an image" --weights "$W1" "$V"
cp "$V/demo_ref.png" "$V/official_unrelated.png"
$PNG crop "$T/demo/hr.png" "$V/official_hr.png" 0 0 91 124
fails_cleanly "HR smaller than 4x LR" "official_hr.png is 91×124, smaller than 4× official_lr.png (31×23)" --weights "$W1" "$V"
rm "$V/official_unrelated.png"
fails_cleanly "pair without its unrelated reference" "official_unrelated.png" --weights "$W1" "$V"

tap_end
