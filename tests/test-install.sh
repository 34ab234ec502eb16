#!/bin/sh
# test-install.sh MESON BUILDDIR GIMP-PLUGIN-DIR-OPTION INSTALL-USER [GIMP-CONSOLE]
# — where the plug-in lands.  `meson install --destdir` into a temporary
# folder: the plug-in must be in the folder GIMP searches (gimplibdir of
# gimp-3.0.pc, which GIMP's own tools confirm), its translations in
# locale/ beside it, the built-in model where the plug-in looks for it.
# Then the per-user install (tools/install-user.sh) with a throw-away HOME:
# the folder gimptool-3.0 --install-bin uses, and, when GIMP is there,
# plug-in-refsr called from Script-Fu with the built-in model.  TAP output.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
MESON=$1
BUILD=$2
PLUGIN_DIR=$3   # -Dgimp_plugin_dir: empty = GIMP's own folder
INSTALL_USER=$4
GIMP=${5:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/tests/tap.sh"
D=$T/dest
MODEL=$SRC/data/refsr-default.safetensors

skip() {   # skip DESCRIPTION REASON
  n=$((n + 1)); echo "ok $n - $1 # SKIP $2"
}

# --- the system install, into $D
check "meson install --destdir" \
  "$MESON" install -C "$BUILD" --no-rebuild --destdir "$D"

gimplibdir=$(pkg-config --variable=gimplibdir gimp-3.0)
prefix=$("$MESON" introspect "$BUILD" --buildoptions | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
# what refsr-config.h tells the plug-in: where the built-in model is
datadir=$(sed -n 's/^#define REFSR_DATADIR "\(.*\)"$/\1/p' "$BUILD/refsr-config.h")

if [ -z "$PLUGIN_DIR" ]; then
  PLUGIN_DIR=$gimplibdir/plug-ins/refsr
  check "the plug-in is GIMP's gimplibdir/plug-ins/refsr/refsr ($gimplibdir)" \
    test -x "$D$PLUGIN_DIR/refsr"
else
  skip "the plug-in is in GIMP's gimplibdir" "gimp_plugin_dir=$PLUGIN_DIR"
  check "the plug-in is in gimp_plugin_dir" test -x "$D$PLUGIN_DIR/refsr"
fi

# GIMP itself: the plug-in folder it was built with, and that its
# plug-in-path (gimprc) searches it
gimp_searches() {
  tool=$(command -v gimptool-3.0) || { echo "no gimptool-3.0"; return 1; }
  dir=$("$tool" --gimpplugindir)
  echo "gimptool-3.0 --gimpplugindir: $dir"
  [ "$dir" = "$gimplibdir" ] || return 1
  path=$(env -u G_DEBUG "$GIMP" --dump-gimprc 2>/dev/null | grep '^(plug-in-path ')
  echo "$path"
  case $path in *'${gimp_plug_in_dir}/plug-ins'*) ;; *) return 1 ;; esac
}
if [ -n "$GIMP" ] && command -v gimptool-3.0 >/dev/null; then
  check "GIMP searches gimplibdir/plug-ins" gimp_searches
else
  skip "GIMP searches gimplibdir/plug-ins" "no gimp-console-3.0 or gimptool-3.0"
fi

translations_in() {   # translations_in PLUG-IN-FOLDER: one catalog per language
  for lang in $(sed 's/#.*//' "$SRC/po/LINGUAS"); do
    test -f "$1/locale/$lang/LC_MESSAGES/gimp30-refsr.mo" \
      || { echo "missing $1/locale/$lang/LC_MESSAGES/gimp30-refsr.mo"; return 1; }
  done
}
check "translations in locale/ beside the plug-in" translations_in "$D$PLUGIN_DIR"

if [ -f "$MODEL" ]; then
  check "the built-in model is where the plug-in looks ($datadir)" \
    cmp "$MODEL" "$D$datadir/refsr-default.safetensors"
else
  skip "the built-in model is where the plug-in looks" "no data/refsr-default.safetensors"
fi

only_expected() {   # nothing outside the prefix but the plug-in's folder
  (cd "$D" && find . ! -type d) | sed 's/^\.//' | while read -r f; do
    case $f in
      "$prefix"/*|"$PLUGIN_DIR"/*) ;;
      *) echo "unexpected: $f"; exit 1 ;;
    esac
  done
}
check "nothing installed outside $prefix but the plug-in's folder" only_expected

# --- one user's install: tools/install-user.sh with a throw-away HOME
user_install() {   # user_install HOME [VAR=VALUE...]: install, print the folder
  home=$1; shift
  env -u XDG_CONFIG_HOME -u GIMP3_DIRECTORY HOME="$home" "$@" \
    "$INSTALL_USER" "$BUILD" >"$T/install-user.log" 2>&1 \
    || { cat "$T/install-user.log"; return 1; }
  sed -n 's/^installed the refsr plug-in in //p' "$T/install-user.log"
}

user_files() {   # user_files HOME: the default per-user folder is complete
  dir=$(user_install "$1") || return 1
  echo "installed in $dir"
  [ "$dir" = "$1/.config/GIMP/3.0/plug-ins/refsr" ] || return 1
  test -x "$dir/refsr" || { echo "no executable $dir/refsr"; return 1; }
  translations_in "$dir" || return 1
  if [ -f "$MODEL" ]; then
    cmp "$MODEL" "$dir/refsr-default.safetensors" || return 1
  fi
}
check "install-user: ~/.config/GIMP/3.0/plug-ins/refsr/ with translations and model" \
  user_files "$T/home"

like_gimptool() {   # like_gimptool HOME [VAR=VALUE...]: the folder gimptool uses
  home=$1; shift
  dir=$(user_install "$home" "$@") || return 1
  # gimptool-3.0 -n prints the command it would run: cp 'refsr' 'DIR/'
  theirs=$(cd "$T" && env -u XDG_CONFIG_HOME -u GIMP3_DIRECTORY HOME="$home" "$@" \
             gimptool-3.0 -n --install-bin refsr | sed -n "s/^cp 'refsr' '\(.*\)\/'$/\1/p")
  echo "install-user.sh: $dir"
  echo "gimptool-3.0:    $theirs"
  [ -n "$theirs" ] && [ "$dir" = "$theirs" ]
}
if command -v gimptool-3.0 >/dev/null; then
  check "install-user: the folder gimptool-3.0 --install-bin uses" \
    like_gimptool "$T/home"
  check "install-user: ... with XDG_CONFIG_HOME" \
    like_gimptool "$T/home" XDG_CONFIG_HOME="$T/xdg"
  check "install-user: ... with an absolute GIMP3_DIRECTORY" \
    like_gimptool "$T/home" GIMP3_DIRECTORY="$T/g3"
  check "install-user: ... with a relative GIMP3_DIRECTORY" \
    like_gimptool "$T/home" GIMP3_DIRECTORY=profile
else
  skip "install-user: the folder gimptool-3.0 --install-bin uses" "no gimptool-3.0"
fi

# GIMP finds the per-user install and the plug-in its model beside itself
run_in_gimp() {
  python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
from pngtool import write_png
def image(path, w, h, step):
    rows = [bytes((x * step + y * 7) % 256 if c == 0 else (x * y + c * 40) % 256
                  for x in range(w) for c in range(3)) for y in range(h)]
    write_png(path, w, h, rows, 8)
image(sys.argv[2] + "/soft.png", 12, 10, 9)
image(sys.argv[2] + "/sharp.png", 40, 36, 3)
' "$SRC/tests" "$T" || return 1
  HOME=$T/home LANG=C.UTF-8 LC_ALL= LANGUAGE= timeout 180 \
    env -u G_DEBUG -u REFSR_WEIGHTS -u XDG_CONFIG_HOME -u GIMP3_DIRECTORY \
    "$GIMP" -i -f -d --quit --batch-interpreter=plug-in-script-fu-eval -b "
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$T/soft.png\")))
       (reference (car (gimp-file-load RUN-NONINTERACTIVE \"$T/sharp.png\")))
       (result (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE
                      #:image image
                      #:drawables (car (gimp-image-get-selected-layers image))
                      #:reference-layer (vector-ref (car (gimp-image-get-layers reference)) 0)
                      #:output \"new-image\"))))
  (gimp-message (string-append \"RESULT \"
    (number->string (car (gimp-drawable-get-width result))) \"x\"
    (number->string (car (gimp-drawable-get-height result))))))" \
    </dev/null >"$T/gimp.log" 2>&1
  status=$?
  grep -E 'RESULT|ERROR|rror' "$T/gimp.log"
  [ $status -eq 0 ] && grep -q 'RESULT 48x40' "$T/gimp.log"
}
if [ -z "$GIMP" ]; then
  skip "GIMP runs the per-user plug-in" "no gimp-console-3.0"
elif [ ! -f "$MODEL" ]; then
  skip "GIMP runs the per-user plug-in" "no data/refsr-default.safetensors"
else
  check "GIMP runs the per-user plug-in with the model beside it: 12x10 -> 48x40" \
    run_in_gimp
fi

tap_end
