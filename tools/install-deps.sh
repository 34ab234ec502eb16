#!/bin/sh
# Installs every package refsr needs to build, test, fuzz and benchmark on
# Debian 13 (trixie) or Ubuntu 25.04 and newer.  Cheap when all is present.
set -eu
PKGS="meson ninja-build gcc clang libclang-rt-dev pkgconf gettext
  libglib2.0-dev libgegl-dev libbabl-dev libpng-dev libjpeg-dev libtiff-dev
  libopenblas-dev libdnnl-dev valgrind
  gimp libgimp-3.0-dev xvfb xauth locales x11-apps x11-utils
  python3-torch python3-numpy python3-pil"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
