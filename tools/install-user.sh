#!/bin/sh
# install-user.sh [BUILDDIR] — installs the GIMP plug-in built in BUILDDIR
# (default: build) for the current user only, no root needed, into the
# folder where GIMP 3 looks for a user's plug-ins (the one
# `gimptool-3.0 --install-bin` uses):
#
#   PROFILE/plug-ins/refsr/refsr                                  the plug-in
#   PROFILE/plug-ins/refsr/locale/LANG/LC_MESSAGES/gimp30-refsr.mo its translations
#   PROFILE/plug-ins/refsr/refsr-default.safetensors              the built-in model
#   PROFILE/plug-ins/refsr/help/LANG/...                          its help pages
#
# PROFILE is $GIMP3_DIRECTORY (a relative one is taken under $HOME), else
# ${XDG_CONFIG_HOME:-$HOME/.config}/GIMP/3.0, as in GIMP's gimp_directory().
# Normally run through meson, which builds first:
#   meson compile -C build install-user
# Run it again to update; remove the folder to uninstall.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -eu
say() { printf 'install-user.sh: %s\n' "$*" >&2; }

source_dir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
plugin=$build/plug-in/refsr
model=$source_dir/data/refsr-default.safetensors
if [ ! -x "$plugin" ]; then
  say "$plugin is missing: build first (meson compile -C $build)"
  exit 1
fi

if [ -n "${GIMP3_DIRECTORY:-}" ]; then
  case $GIMP3_DIRECTORY in
    /*) profile=$GIMP3_DIRECTORY ;;
    *)  profile=${HOME:?}/$GIMP3_DIRECTORY ;;
  esac
else
  profile=${XDG_CONFIG_HOME:-${HOME:?}/.config}/GIMP/3.0
fi
dest=$profile/plug-ins/refsr

# Each file is written beside its final name and renamed, so that a GIMP
# running meanwhile never starts a half-copied plug-in.
put() {   # put SOURCE TARGET MODE
  cp "$1" "$2.part"
  chmod "$3" "$2.part"
  mv -f "$2.part" "$2"
}

mkdir -p "$dest"
put "$plugin" "$dest/refsr" 755
for mo in "$build"/po/*/LC_MESSAGES/gimp30-refsr.mo; do
  [ -f "$mo" ] || continue
  lang=$(basename "$(dirname "$(dirname "$mo")")")
  mkdir -p "$dest/locale/$lang/LC_MESSAGES"
  put "$mo" "$dest/locale/$lang/LC_MESSAGES/gimp30-refsr.mo" 644
done
if [ -f "$model" ]; then
  put "$model" "$dest/refsr-default.safetensors" 644
else
  say "no built-in model in $source_dir/data: the plug-in will need a weights file"
fi
for page in "$source_dir"/data/help/*/*; do
  [ -f "$page" ] || continue
  lang=$(basename "$(dirname "$page")")
  mkdir -p "$dest/help/$lang"
  put "$page" "$dest/help/$lang/$(basename "$page")" 644
done
echo "installed the refsr plug-in in $dest"
