#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Replays each fuzz/corpus/<name>/ through build/fuzz_<name> (no mutation), or
# with --fuzz SECONDS fuzzes each target for that long. Fails if a target is
# missing its corpus or any input crashes.
set -euo pipefail
build=${1:?usage: fuzz-replay.sh BUILD_DIR [--fuzz SECONDS]}
mode=${2:-}
secs=${3:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
n=0
for src in "$root"/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    corpus="$root/fuzz/corpus/${name#fuzz_}"
    bin="$build/$name"
    [[ -x $bin ]] || { echo "missing fuzzer binary $bin" >&2; exit 1; }
    [[ -d $corpus ]] && [[ -n $(ls -A "$corpus") ]] || { echo "missing seed corpus $corpus" >&2; exit 1; }
    if [[ $mode == --fuzz ]]; then
        work=$(mktemp -d)
        "$bin" -max_total_time="$secs" -print_final_stats=1 "$work" "$corpus"
        rm -rf "$work"
    else
        "$bin" -runs=0 "$corpus" 2>&1 | tail -n 2
    fi
    n=$((n + 1))
done
[[ $n -gt 0 ]] || { echo "no fuzz targets found" >&2; exit 1; }
echo "fuzz: $n targets replayed"
