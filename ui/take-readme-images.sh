#!/bin/sh
# take-readme-images.sh BUILD-DIR — every picture of README.md's plug-in
# section, retaken in GIMP 3 under Xvfb: the dialog with its preview in
# English (docs/dialog.png) and German (docs/dialog-de.png), and the
# result next to GIMP's NoHalo (docs/comparison.png).  Run inside the
# Debian 13 root, from the source folder, after building:
#   ../shared/env/debian13 run ui/take-readme-images.sh build
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -eu
BUILD=$1
HERE=$(dirname "$0")
"$HERE/take-screenshot.sh" "$BUILD" docs/dialog.png C.UTF-8
"$HERE/take-screenshot.sh" "$BUILD" docs/dialog-de.png de_DE.UTF-8
"$HERE/take-comparison.sh" "$BUILD" docs/comparison.png
