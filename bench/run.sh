#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Core benchmark: produce/consume throughput and produce latency with Kafka's
# perf-test tools and kcat against a freshly started broker (bench/README.md).
#
#   bench/run.sh [--targets sluice,kafka] [--scale 0.5]
#
# Builds a Release sluiced in build-release/ unless SLUICED names one.
# BENCH_SCRIPT picks another benchmark of bench/ (run-groups.sh uses it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ -x .cache/kafka/bin/kafka-producer-perf-test.sh ]] || scripts/install-deps.sh all
if [[ -z ${SLUICED:-} ]]; then
    cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build-release -j "$(nproc)" >/dev/null
    export SLUICED=$root/build-release/sluiced
fi
exec python3 "bench/${BENCH_SCRIPT:-bench.py}" "$@"
