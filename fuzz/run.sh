#!/bin/sh
# fuzz/run.sh [SECONDS] — builds the libFuzzer targets (clang, ASan+UBSan)
# in build-fuzz if needed, seeds their corpora with small generated files
# (weights files, and the images of tests/imagecases.py), runs each target
# for SECONDS (default 60), with fuzz/TARGET.dict where there is one, and
# exits non-zero if any target found a crash, leak or undefined behaviour
# (or, for images, an input that takes over 30 s).  Findings are kept in
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
ninja -C "$build" fuzz/fuzz-safetensors fuzz/fuzz-torch-checkpoint fuzz/fuzz-image
python3 fuzz/make-seeds.py "$build/seeds" "$fixtures"

status=0
for target in safetensors torch-checkpoint image; do
  corpus=$build/corpus/$target
  log=$build/fuzz-$target.log
  extra=""
  [ -f "fuzz/$target.dict" ] && extra="-dict=fuzz/$target.dict"
  [ "$target" = image ] && extra="$extra -timeout=30"
  mkdir -p "$corpus" "$build/artifacts"
  # shellcheck disable=SC2086
  if ! "$build/fuzz/fuzz-$target" -max_total_time="$seconds" \
      -max_len=262144 -rss_limit_mb=2048 -print_final_stats=1 $extra \
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
