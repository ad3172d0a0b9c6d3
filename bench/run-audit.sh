#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Audit log cost benchmark: produce throughput and broker CPU per GB with
# auditing off and on at each authorization level (none, first, all), four
# brokers in the same run (bench/audit.py, bench/README.md).
#
#   bench/run-audit.sh [--scale 0.5] [--rounds 3]
#
# Same set-up as bench/run.sh (dependencies, Release build unless SLUICED).
BENCH_SCRIPT=audit.py exec "$(dirname "$0")/run.sh" "$@"
