#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Consumer-group benchmark: end-to-end latency through a group member and
# rebalance time for 1, 3 and 10 members (bench/README.md).
#
#   bench/run-groups.sh [--targets sluice,kafka] [--scale 0.5]
#
# Builds a Release sluiced in build-release/ unless SLUICED names one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ -x .cache/kafka/bin/kafka-producer-perf-test.sh ]] || scripts/install-deps.sh all
if [[ -z ${SLUICED:-} ]]; then
    cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build-release -j "$(nproc)" >/dev/null
    export SLUICED=$root/build-release/sluiced
fi
exec python3 bench/groups.py "$@"
