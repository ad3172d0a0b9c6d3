#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Authorizer cost benchmark: produce throughput and broker CPU per GB for a
# super user (the check returns before the ACL set: "authorizer off") next
# to a user allowed by ACLs among 10,000 others, with the decision cache
# serving and defeated (256 topics), on one broker (bench/README.md).
#
#   bench/run-authz.sh [--scale 0.5] [--rounds 3] [--sizes 1024,100] [--perf]
#   QUICK=1 bench/run-authz.sh         # under a minute (--scale 0.3, one round)
#
# Same set-up as bench/run.sh (dependencies, Release build unless SLUICED).
BENCH_SCRIPT=authz.py exec "$(dirname "$0")/run.sh" "$@"
