#!/bin/sh
# fuzz/run.sh [SECONDS] — builds the libFuzzer targets (clang, ASan+UBSan)
# in build-fuzz if needed, seeds their corpora with small generated files,
# runs each target for SECONDS (default 60) and exits non-zero if any
# target found a crash, leak or undefined behaviour.  Findings are kept in
# build-fuzz/artifacts/, corpora in build-fuzz/corpus/.
#
# Copyright (C) 2026 the refsr authors.  SPDX-License-Identifier: GPL-3.0-or-later
set -eu
seconds=${1:-60}
cd "$(dirname "$0")/.."
build=build-fuzz
fixtures=${REFSR_FIXTURES:-../shared/fixtures/ttsr}

if [ ! -f "$build/build.ninja" ]; then
  CC=${CC:-clang} meson setup "$build" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized -Dplugin=disabled -Dopenmp=disabled \
    -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' \
    -Dc_link_args=-fsanitize=fuzzer-no-link
fi
ninja -C "$build" fuzz/fuzz-safetensors fuzz/fuzz-torch-checkpoint
python3 fuzz/make-seeds.py "$build/seeds" "$fixtures"

status=0
for target in safetensors torch-checkpoint; do
  corpus=$build/corpus/$target
  log=$build/fuzz-$target.log
  mkdir -p "$corpus" "$build/artifacts"
  if ! "$build/fuzz/fuzz-$target" -max_total_time="$seconds" \
      -max_len=262144 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$target-" \
      "$corpus" "$build/seeds/$target" >"$log" 2>&1; then
    status=1
    echo "fuzz-$target: FINDING (see $log and $build/artifacts/)"
    grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz-$target: ${execs:-?} executions in ${seconds} s"
done
exit $status
