#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Encryption-at-rest benchmark (bench/crypt.py): the same cases on a broker
# with encryption at rest on and one with it off, in one run.
#
#   bench/run-crypt.sh [--scale 0.5]
exec env BENCH_SCRIPT=crypt.py "$(dirname "$0")/run.sh" "$@"
