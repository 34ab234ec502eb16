# tap.sh — shared by the shell tests (sourced): a temporary folder $T
# removed on exit, TAP output, and
#   check DESCRIPTION COMMAND...   passes when COMMAND succeeds
#   tap_end                        prints the plan; exit status 0 if all passed
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
echo "TAP version 13"

check() {
  n=$((n + 1)); d=$1; shift
  if "$@" >"$T/check" 2>&1; then echo "ok $n - $d"
  else echo "not ok $n - $d"; sed 's/^/# /' "$T/check"; fails=$((fails + 1)); fi
}

tap_end() {
  echo "1..$n"
  [ "$fails" -eq 0 ]
}
