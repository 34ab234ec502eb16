#!/bin/sh
# test-plugin.sh GIMP-CONSOLE PLUG-IN REFSR PO-BUILD-DIR — the plug-in in a
# real, headless GIMP 3: installed into a throw-away profile, called from
# Script-Fu with named arguments on the fixture image pair, its output
# compared with the refsr command's for the same inputs and weights, and
# in tiles with the whole; a run refused under a tiny memory budget; then,
# in German, French and Spanish, the menu label and nine refusals, each
# checked in full against its translation in po/LANG.po.  TAP output.
# GIMP-CONSOLE "" means none was found at configure time: a skip (TAP plan
# 1..0), or a failure under CI=true, where GIMP is required.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
GIMP=$1
PLUGIN=$2
REFSR=$3
PO=$4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/gimp-tap.sh"
FIX=${REFSR_FIXTURES:?}
W=$FIX/weights-1+1+1+1-seed1.safetensors
COMPARE="python3 $HERE/pngcompare.py"
POMATCH="python3 $HERE/pomatch.py"
# REFSR_TEST_SOURCE_PO: a folder of LANG.po to compare with instead of
# po/ (translations not merged yet; the .mo files in PO-BUILD-DIR must be
# built from the same)
SOURCE_PO=${REFSR_TEST_SOURCE_PO:-$HERE/../../po}

# A profile of its own per language: GIMP keeps the translated menu labels
# in pluginrc and would otherwise re-query every plug-in on each switch.
make_profile() {   # make_profile DIR
  dir=$1/.config/GIMP/3.0/plug-ins/refsr
  mkdir -p "$dir"
  cp "$PLUGIN" "$dir/refsr"
  for mo in "$PO"/*/LC_MESSAGES/gimp30-refsr.mo; do
    [ -f "$mo" ] || continue
    lang=$(basename "$(dirname "$(dirname "$mo")")")
    mkdir -p "$dir/locale/$lang/LC_MESSAGES"
    cp "$mo" "$dir/locale/$lang/LC_MESSAGES/"
  done
}

# G_DEBUG=fatal-criticals (set for the unit tests) is dropped for GIMP: it
# emits criticals of its own at quit and when exporting 16-bit or float
# images (a thumbnail of GIMP 3.0.4's file-png), which would abort it.
run_gimp() {   # run_gimp HOME LANG INTERPRETER EXPRESSION
  HOME=$1 LANG=$2 LC_ALL= LANGUAGE= timeout 240 env -u G_DEBUG "$GIMP" -i -f -d \
    --quit --batch-interpreter="$3" -b "$4" </dev/null
}

python3 "$HERE/../pngtool.py" from-fixture "$FIX/case-a.safetensors" lr_u8 "$T/lr.png"
python3 "$HERE/../pngtool.py" from-fixture "$FIX/case-a.safetensors" ref_u8 "$T/ref.png"
make_profile "$T/home-c"
for lang in de fr es; do make_profile "$T/home-$lang"; done

# 1. Script-Fu: every case, reported as PASS/FAIL messages
run_gimp "$T/home-c" C.UTF-8 plug-in-script-fu-eval \
  "(define T \"$T\") (define W \"$W\") (define HERE \"$HERE\") (load \"$HERE/plugin-test.scm\")" \
  >"$T/scriptfu.log" 2>&1
status=$?
grep -o 'ERROR .*' "$T/scriptfu.log" | sed 's/^/# /'
verdicts "$T/scriptfu.log"
if [ $status -ne 0 ] || ! grep -q 'ref-scales half' "$T/verdicts"; then
  result fail "the Script-Fu batch ran to its end (exit $status)" "$T/scriptfu.log"
fi

check "bad input: the refusal of ref-scales 1,1 says what the scales must be" \
  grep -q "ERROR ref-scales 1,1: .*The reference scales “1,1” cannot be used: give “auto”, or scales greater than 0 and at most 1" "$T/scriptfu.log"

# 1b. a memory budget that no tiles fit (1 MiB): refused before a pixel is
#     read, the image unchanged, and the message says why (the limit, where
#     it comes from, and the engine's own figures after the colon)
REFSR_MEMORY_BUDGET_MIB=1 run_gimp "$T/home-c" C.UTF-8 plug-in-script-fu-eval \
  "(define T \"$T\") (define W \"$W\") (define HERE \"$HERE\") (load \"$HERE/plugin-budget.scm\")" \
  >"$T/budget.log" 2>&1
grep -o 'ERROR .*' "$T/budget.log" | sed 's/^/# /'
verdicts "$T/budget.log"
grep -q 'no image is left behind' "$T/verdicts" \
  || result fail "the memory budget batch ran to its end" "$T/budget.log"
check "memory budget: the refusal names the budget, its source and the engine's figures" \
  grep -q "ERROR memory budget: .*needs more memory than the 1\.0[^ ]*MB this filter allows itself (the limit set by REFSR_MEMORY_BUDGET_MIB).*: .*more than the memory budget of [0-9]* MB" "$T/budget.log"

# 1c. a budget override that is not a number: refused the same way, with
#     a message saying what it must be
REFSR_MEMORY_BUDGET_MIB=lots run_gimp "$T/home-c" C.UTF-8 plug-in-script-fu-eval \
  "(define T \"$T\") (define W \"$W\") (define HERE \"$HERE\") (load \"$HERE/plugin-budget.scm\")" \
  >"$T/budget-bad.log" 2>&1
grep -o 'ERROR .*' "$T/budget-bad.log" | sed 's/^/# /'
check "memory budget: REFSR_MEMORY_BUDGET_MIB=lots is refused, image unchanged" \
  grep -q "PASS memory budget: a run no tiles fit is refused, image unchanged" "$T/budget-bad.log"
check "memory budget: the refusal says what REFSR_MEMORY_BUDGET_MIB must be" \
  grep -q "ERROR memory budget: .*REFSR_MEMORY_BUDGET_MIB is .lots.: it must be a whole number of MiB" "$T/budget-bad.log"

# 2. the refsr command on the same inputs
check "refsr command: RGB" "$REFSR" --weights "$W" -r "$T/ref.png" -o "$T/cli-rgb.png" "$T/lr.png"
check "refsr command: grey" "$REFSR" --weights "$W" -r "$T/ref-grey.png" -o "$T/cli-grey.png" "$T/lr-grey.png"
check "refsr command: self-reference" "$REFSR" --weights "$W" -r "$T/lr.png" -o "$T/cli-self.png" "$T/lr.png"
check "refsr command: reference as is, exact search" "$REFSR" --weights "$W" -r "$T/ref.png" --ref-scales 1 --search exact -o "$T/cli-scale1.png" "$T/lr.png"

# 3. in German, French and Spanish, with a memory budget of 1 GiB: the
#    menu label and nine refusals — a layer too large for the budget even
#    in the smallest tiles with the smallest reference, tiles chosen too
#    large when automatic ones would fit (both with the fixture layer as
#    reference), a reference that makes the run too large, a layer and a
#    reference over the engine's pixel limits, a layer too large to be its
#    own reference (these six from the sizes alone, before a pixel is
#    read; the large layers are never filled, so GIMP holds no memory for
#    them), a file the engine's loader rejects, a reference the plug-in
#    finds too small, reference scales given twice —,
#    each the msgstr of po/LANG.po in full with its numbers filled in; in
#    the first language also the command's grey output converted the way
#    GIMP converts to grey.  The sizes: 11000 x 11000 (121 megapixels)
#    needs over 1.4 GB for S and the search's indices alone, which the
#    engine keeps for the whole layer; tiles of 1024 on a 1024 x 1024
#    layer need some 30 GB in the main network, automatic ones far less; a
#    5000 x 5000 reference needs some 1.6 GB even with its features in a
#    temporary file (the search's keys, the strips that build them) while
#    the fixture layer alone needs far less than 1 GiB (in all, the
#    plug-in's 8-bit copies and GEGL's cache off first; the engine's
#    figure follows the message); 12000 x 12000 is over
#    REFSR_MAX_LR_PIXELS (134 megapixels), 6000 x 6000 over
#    REFSR_MAX_REF_PIXELS (33.5 megapixels), as reference or as its own.
cat >"$T/lang.py" <<EOF
import os
from gi.repository import Gimp, Gio
def path(name): return Gio.File.new_for_path("$T/" + name)
pdb = Gimp.get_pdb()
proc = pdb.lookup_procedure("plug-in-refsr")
print("LABEL", proc.get_menu_label())
image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, path("lr.png"))
def blank(name, width, height):
    img = Gimp.Image.new(width, height, Gimp.ImageBaseType.RGB)
    layer = Gimp.Layer.new(img, name, width, height, Gimp.ImageType.RGB_IMAGE,
                           100, Gimp.LayerMode.NORMAL)
    img.insert_layer(layer, None, 0)
    return img, layer
tiny, tiny_layer = blank("winzig", 2, 2)
big, big_layer = blank("gross", 11000, 11000)
square, square_layer = blank("quadrat", 1024, 1024)
huge, huge_layer = blank("riesig", 12000, 12000)
big_ref, big_ref_layer = blank("weit", 5000, 5000)
huge_ref, huge_ref_layer = blank("enorm", 6000, 6000)
def refusal(tag, weights, reference=None, target=image, tile_size=0,
            ref_scales="auto"):
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", target)
    config.set_core_object_array("drawables", target.get_layers())
    config.set_property("weights-file", Gio.File.new_for_path(weights))
    config.set_property("reference-layer", reference)
    config.set_property("tile-size", tile_size)
    config.set_property("ref-scales", ref_scales)
    values = proc.run(config)
    print("STATUS-" + tag, values.index(0).value_nick)
    print("MESSAGE-" + tag, values.index(1) if values.length() > 1 else "")
small = image.get_layers()[0]
refusal("MEMORY-LAYER", "$W", small, big)
refusal("MEMORY-TILE", "$W", small, square, 1024)
refusal("MEMORY-REF", "$W", big_ref_layer)
refusal("PIXELS-LAYER", "$W", None, huge)
refusal("PIXELS-REF", "$W", huge_ref_layer)
refusal("PIXELS-SELF", "$W", None, huge_ref)
refusal("WEIGHTS", "$T/lr.png")
refusal("TINY", "$W", tiny_layer)
refusal("SCALES", "$W", small, ref_scales="1,1")
if os.path.exists("$T/cli-grey.png") and not os.path.exists("$T/cli-grey-y.png"):
    grey = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, path("cli-grey.png"))
    grey.convert_grayscale()
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, grey, path("cli-grey-y.png"), None)
EOF
# A menu command as GIMP shows it in LANG (menu_path in refsr-plugin.c):
# GIMP's own labels from its catalogue, without mnemonics, "..." as "…".
menu() {   # menu LANG CONTEXT MENU ITEM
  python3 -c '
import gettext, re, sys
lang, context, menu, item = sys.argv[1:]
gimp = gettext.translation("gimp30", languages=[lang], fallback=True)
def label(msgid):
    text = re.sub(r"\(_.\)|_(?=.)", "", gimp.pgettext(context, msgid))
    return text.replace("...", "…")
print(label(menu) + " ▸ " + label(item))
' "$@"
}

LR_SIZE=$(python3 "$HERE/../pngtool.py" size "$T/lr.png")   # WxH
LR_W=${LR_SIZE%x*}
LR_H=${LR_SIZE#*x}
for spec in de:de_DE:German fr:fr_FR:French es:es_ES:Spanish; do
  lang=${spec%%:*}; rest=${spec#*:}; locale=${rest%%:*}.UTF-8; name=${rest#*:}
  po=$SOURCE_PO/$lang.po
  log=$T/$lang.log
  crop=$(menu "$lang" image-action _Image "_Crop to Selection")
  scale=$(menu "$lang" layers-action _Layer "_Scale Layer...")
  REFSR_MEMORY_BUDGET_MIB=1024 run_gimp "$T/home-$lang" "$locale" python-fu-eval \
    "exec(open('$T/lang.py').read())" >"$log" 2>&1
  check "$name: the menu label is translated" \
    $POMATCH "$po" "$log" LABEL "Reference _Super-Resolution…"
  check "$name: a layer too large for the memory budget even in tiles is refused, translated" \
    $POMATCH "$po" "$log" MESSAGE-MEMORY-LAYER "Enlarging this %d × %d layer needs more memory than the %s this filter allows itself (%s), even in the smallest tiles and with the smallest reference. Enlarge a part of the layer (select the part, then %s) or make it smaller first (%s): %s" \
    11000 11000 "*" "*REFSR_MEMORY_BUDGET_MIB*" "$crop" "$scale" "*"
  check "$name: tiles too large for the memory budget are refused, translated" \
    $POMATCH "$po" "$log" MESSAGE-MEMORY-TILE "Enlarging this %d × %d layer in tiles of %d pixels needs more memory than the %s this filter allows itself (%s). Choose a smaller tile size, or 0 to let the filter choose tiles that fit: %s" \
    1024 1024 1024 "*" "*REFSR_MEMORY_BUDGET_MIB*" "*"
  check "$name: a reference that makes the run too large is named, translated" \
    $POMATCH "$po" "$log" MESSAGE-MEMORY-REF "Enlarging this %d × %d layer with the %d × %d reference layer “%s” needs more memory than the %s this filter allows itself (%s), even in the smallest tiles; the layer alone would fit. Make the reference smaller (%s in its image) or choose a smaller reference layer: %s" \
    "$LR_W" "$LR_H" 5000 5000 weit "*" "*REFSR_MEMORY_BUDGET_MIB*" "$scale" "*"
  check "$name: a layer over the engine's pixel limit is refused, translated" \
    $POMATCH "$po" "$log" MESSAGE-PIXELS-LAYER "The layer is %d × %d pixels (%s megapixels); the filter enlarges layers of at most %s megapixels. Enlarge a part of it (select the part, then %s) or make it smaller first (%s)." \
    12000 12000 "*" "*" "$crop" "$scale"
  check "$name: a reference over the engine's pixel limit is refused, translated" \
    $POMATCH "$po" "$log" MESSAGE-PIXELS-REF "The reference layer “%s” is %d × %d pixels (%s megapixels); a reference may have at most %s megapixels. Make it smaller (%s in its image) or choose another reference layer." \
    enorm 6000 6000 "*" "*" "$scale"
  check "$name: a layer too large to be its own reference is refused, translated" \
    $POMATCH "$po" "$log" MESSAGE-PIXELS-SELF "The layer is %d × %d pixels (%s megapixels); to serve as its own reference it may have at most %s megapixels. Choose a reference layer." \
    6000 6000 "*" "*"
  check "$name: the engine's refusal of a weights file is translated, its detail kept" \
    $POMATCH "$po" "$log" MESSAGE-WEIGHTS "The weights file is not a TTSR model this filter can use; choose a .safetensors file or the official TTSR .pt checkpoint: %s" \
    "*$T/lr.png*"
  check "$name: a too small reference is refused in $name" \
    $POMATCH "$po" "$log" MESSAGE-TINY "The reference layer “%s” is %d × %d pixels; a reference must be at least %d × %d. Choose a larger reference layer." \
    winzig 2 2 "*" "*"
  check "$name: reference scales that cannot be used are refused, translated" \
    $POMATCH "$po" "$log" MESSAGE-SCALES "The reference scales “%s” cannot be used: give “auto”, or scales greater than 0 and at most 1 separated by commas, each once and at most %d of them, such as 1,0.5 (%s)." \
    1,1 8 "*"
  check "$name: the nine refusals are PDB execution errors" \
    test "$(grep -c '^STATUS-[A-Z-]* execution-error$' "$log")" -eq 9
  grep '^\(LABEL\|STATUS\|MESSAGE\)' "$log" | sed 's/^/# /'
done

# 4. pixels: the plug-in's layers against the command's images.  On 8-bit
#    images at 4x the plug-in writes the engine's own 8-bit output, so
#    RGB, self-reference and the colour of the alpha case must be
#    identical, and grey (GIMP makes grey of that same RGB both times)
#    within the rounding of GIMP's own conversion.  A 16-bit
#    image keeps the engine's unrounded float output (its input, made from
#    the same 8-bit PNG, is reduced to the same 8 bits as the command's), so
#    every 16-bit value must lie within the command's 8-bit rounding step.
#    As 65535 = 255 x 257, rounding that 16-bit value to 8 bits gives the
#    command's byte except where the float sits on a rounding tie (to
#    within float noise): at most 0.1% of the values may differ, by 1.
check "RGB equals the refsr command exactly" \
  $COMPARE colour "$T/plugin-rgb.png" "$T/cli-rgb.png"
check "16-bit is the refsr command's output before its 8-bit rounding" \
  $COMPARE deep "$T/plugin-16.png" "$T/cli-rgb.png" 0.001
check "pool: a reference and its copy give the single reference's pixels exactly" \
  $COMPARE colour "$T/plugin-twin.png" "$T/plugin-rgb.png"
check "ref-scales 1, exact search: equals the refsr command's with the same options exactly" \
  $COMPARE colour "$T/plugin-scale1.png" "$T/cli-scale1.png"
check "self-reference equals the refsr command exactly" \
  $COMPARE colour "$T/plugin-self.png" "$T/cli-self.png"
# GIMP makes grey of the same RGB in two sessions, and babl picks its
# RGB-to-grey routine by timing them: under load a value now and then
# rounds the other way (1 in 12288 seen).  Within one level, then.
check "grey equals the refsr command's output made grey, within 1/255" \
  $COMPARE close "$T/plugin-grey.png" "$T/cli-grey-y.png" 1 60
check "alpha: colour equals the refsr command exactly" \
  $COMPARE colour "$T/plugin-alpha.png" "$T/cli-rgb.png"
check "alpha: enlarged 4x from the layer's own" \
  $COMPARE alpha "$T/lr-alpha.png" "$T/plugin-alpha.png" 4

# 5. tiles: the engine keeps tiled and whole results within 1/255 (README
#    "Tiles"); the plug-in adds nothing of its own to that, writing each
#    tile where it belongs; alpha does not depend on the tiles at all.
check "tiles: tile-size 32 agrees with tile-size 0 within 1/255 (PSNR >= 70 dB)" \
  $COMPARE close "$T/plugin-tile32.png" "$T/plugin-tile0.png" 1 70
check "tiles: alpha at 2x in tiles of 16 is the layer's own, enlarged" \
  $COMPARE alpha "$T/lr-alpha.png" "$T/plugin-alpha-tiled.png" 2

echo "1..$n"
[ $fails -eq 0 ]
