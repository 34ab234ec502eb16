#!/bin/sh
# tools/test.sh — the whole test suite: a release build's tests, the same
# tests built without BLAS and OpenMP (the portable fallbacks), again
# under AddressSanitizer + UndefinedBehaviorSanitizer, and the
# libFuzzer targets for FUZZ_SECONDS (default 60) each.  The PyTorch tests
# of tools/train run in the release build only (-Dpython_tests=false in the
# other two: they would run the same Python again).
#
# Its last line is "N passed, N failed, N skipped", counting every meson
# test of the three builds and every fuzz target.  Each build's test log is
# deleted before its tests run, so an old log is never counted: a build
# that fails to configure or compile, or whose tests leave no log, counts
# as one failure (more if its log says so).  Under CI=true a test that
# misses something CI must have (PyTorch, the fixtures, GIMP) fails
# instead of skipping, and any skip left is counted as a failure too.
# Run it after tools/install-deps.sh, from the repository root.
set -u
cd "$(dirname "$0")/.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
failed_steps=""
build_status=""   # "DIR:ok|build|test ..." for the summary

step() { printf '\n== %s\n' "$*"; }

build_and_test() {   # build_and_test DIR [meson setup options...]
  dir=$1; shift
  rm -f "$dir/meson-logs/testlog.json"
  if [ -d "$dir/meson-private" ]; then
    # the options may have changed since the folder was made
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; build_status="$build_status $dir:build"; return 1; }
  meson compile -C "$dir" || { build_status="$build_status $dir:build"; return 1; }
  if meson test -C "$dir" --print-errorlogs --num-processes 1; then
    build_status="$build_status $dir:ok"
  else
    build_status="$build_status $dir:test"
    return 1
  fi
}

step "release build"
build_and_test build-test -Dbuildtype=release -Dpython_tests=true \
  || failed_steps="$failed_steps release"

step "portable build: no BLAS, no OpenMP"
build_and_test build-portable -Dblas=disabled -Dopenmp=disabled -Dplugin=disabled \
    -Dpython_tests=false \
  || failed_steps="$failed_steps portable"

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build_and_test build-asan -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false -Dplugin=disabled \
    -Dpython_tests=false \
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
python3 - "$fuzz_passed" "$fuzz_failed" $build_status <<'PY'

import json, os, sys
passed, failed, skipped = int(sys.argv[1]), int(sys.argv[2]), 0
ci = os.environ.get("CI", "").lower() in ("true", "1")
for entry in sys.argv[3:]:
    d, status = entry.rsplit(":", 1)
    log = os.path.join(d, "meson-logs", "testlog.json")
    if status == "build" or not os.path.exists(log):
        # no tests ran: never fall back on an older log
        print(f"{d}: {'build failed' if status == 'build' else 'no test log'},"
              " counted as 1 failure")
        failed += 1
        continue
    build_failed = 0
    for line in open(log):
        r = json.loads(line)
        if r["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r["result"] == "SKIP" and not ci:
            skipped += 1
        else:
            if r["result"] == "SKIP":
                print(f"{d}: {r['name']} skipped, counted as a failure under CI=true")
            build_failed += 1
    if status == "test" and build_failed == 0:
        print(f"{d}: meson test failed but its log has no failure,"
              " counted as 1 failure")
        build_failed = 1
    failed += build_failed
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
summary_rc=$?
[ -z "$failed_steps" ] && [ "$summary_rc" -eq 0 ]
