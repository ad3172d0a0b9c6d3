#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# SASL cost benchmark: connection set-up rate (TCP, TLS, TLS + PLAIN/SCRAM)
# and produce/consume throughput over SASL_SSL next to PLAINTEXT, on one
# broker (bench/README.md).
#
#   bench/run-sasl.sh [--scale 0.5] [--workers 4] [--part connections|throughput]
#   QUICK=1 bench/run-sasl.sh          # under a minute (--scale 0.1)
#
# Same set-up as bench/run.sh (dependencies, Release build unless SLUICED).
BENCH_SCRIPT=sasl.py exec "$(dirname "$0")/run.sh" "$@"
