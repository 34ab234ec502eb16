# gimp-tap.sh — shared by the plug-in's tests in a real GIMP (sourced, with
# GIMP set to gimp-console's path): TAP output; when GIMP is "" (none was
# found at configure time) a skip, or a failure under CI=true, where GIMP
# is required; a temporary folder $T removed on exit; and
#   result ok|fail DESCRIPTION [DETAIL-FILE]
#   check DESCRIPTION COMMAND...   passes when COMMAND succeeds
#   verdicts LOG                   a result for each "PASS what" or
#                                  "FAIL what" a Script-Fu batch printed
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
echo "TAP version 13"
if [ -z "$GIMP" ] || [ ! -x "$GIMP" ]; then
  why="gimp-console-3.0 was not found when the build was configured (install gimp, then reconfigure)"
  case "${CI:-}" in
    true|TRUE|True|1) echo "not ok 1 - GIMP is available (CI=true requires it): $why"
                      echo "1..1"; exit 1 ;;
  esac
  echo "1..0 # SKIP $why"
  exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0

result() {
  n=$((n + 1))
  if [ "$1" = ok ]; then echo "ok $n - $2"
  else echo "not ok $n - $2"; fails=$((fails + 1)); fi
  [ $# -gt 2 ] && sed 's/^/# /' "$3"
  return 0
}

check() {
  d=$1; shift
  if "$@" >"$T/out" 2>&1; then result ok "$d" "$T/out"
  else result fail "$d" "$T/out"; fi
}

verdicts() {
  grep -o '\(PASS\|FAIL\) .*' "$1" >"$T/verdicts"
  while read -r verdict what; do
    if [ "$verdict" = PASS ]; then result ok "$what"; else result fail "$what"; fi
  done <"$T/verdicts"
}
