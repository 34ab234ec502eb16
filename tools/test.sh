#!/bin/sh
# tools/test.sh — the whole test suite: a release build's tests, the same
# tests under AddressSanitizer + UndefinedBehaviorSanitizer, and the
# libFuzzer targets for FUZZ_SECONDS (default 60) each.  Ends with the line
# "N passed, N failed" counting every meson test and fuzz target.
# Run it after tools/install-deps.sh, from the repository root.
set -u
cd "$(dirname "$0")/.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
failed_steps=""

step() { printf '\n== %s\n' "$*"; }

build_and_test() {   # build_and_test DIR [meson setup options...]
  dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  meson compile -C "$dir" || return 1
  meson test -C "$dir" --print-errorlogs --num-processes 1
}

step "release build"
build_and_test build-test -Dbuildtype=release || failed_steps="$failed_steps release"

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build_and_test build-asan -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false -Dplugin=disabled \
  || failed_steps="$failed_steps sanitizers"

fuzz_passed=0
fuzz_failed=0
if [ "$FUZZ_SECONDS" -gt 0 ] && [ -x fuzz/run.sh ]; then
  step "libFuzzer targets, $FUZZ_SECONDS s each"
  fuzz/run.sh "$FUZZ_SECONDS" >build-fuzz.log 2>&1 || failed_steps="$failed_steps fuzz"
  grep '^fuzz-' build-fuzz.log || tail -30 build-fuzz.log
  fuzz_failed=$(grep -c '^fuzz-.*FINDING' build-fuzz.log)
  fuzz_passed=$(($(grep -c '^fuzz-.*executions in' build-fuzz.log) - fuzz_failed))
  case "$failed_steps" in
    *fuzz*) [ "$fuzz_failed" -gt 0 ] || fuzz_failed=1 ;;
  esac
fi

step "summary"
[ -n "$failed_steps" ] && echo "failed steps:$failed_steps"
python3 - "$fuzz_passed" "$fuzz_failed" <<'PY'
import json, sys, os
passed, failed = int(sys.argv[1]), int(sys.argv[2])
for d in ("build-test", "build-asan"):
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        failed += 1
        continue
    for line in open(log):
        r = json.loads(line)
        if r["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r["result"] != "SKIP":
            failed += 1
print(f"{passed} passed, {failed} failed")
PY
[ -z "$failed_steps" ]
