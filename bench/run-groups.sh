#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Consumer-group benchmark: end-to-end latency through a group member and
# rebalance time for 1, 3 and 10 members (bench/README.md).
#
#   bench/run-groups.sh [--targets sluice,kafka] [--scale 0.5]
#
# Same set-up as bench/run.sh (dependencies, Release build unless SLUICED).
BENCH_SCRIPT=groups.py exec "$(dirname "$0")/run.sh" "$@"
