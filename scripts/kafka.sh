#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Apache Kafka, the reference Sluice is compared with (issue 9).
#
#   scripts/kafka.sh fetch              fetch the pinned jars (tools/kafka/pom.xml) into
#                                       .cache/kafka and check every CLI tool's main class
#   scripts/kafka.sh run [PROFILE]      a single-node KRaft broker on loopback, in the
#                                       foreground, on a temporary data directory (removed
#                                       at exit). PROFILE: plaintext (default), sasl_ssl or
#                                       secure, as tests/integration/broker_profiles.py
#                                       defines them for both brokers
#
# The configuration is written by tests/integration/broker_profiles.py (the
# test harness's own, so it exists once); for the SASL profiles the SCRAM-SHA-512
# user admin (password admin-secret-pw) is created by kafka-storage format
# --add-scram, and the admin's client settings are printed (a properties file
# for --command-config). Environment: KAFKA_PORT (default 9092), KAFKA_HEAP_OPTS
# (default -Xmx1G -Xms512M).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
tool=$root/scripts/kafka-tool

fetch() {
    [[ -f $root/.cache/kafka/libs/.stamp ]] || "$root/scripts/install-deps.sh" all
    "$tool" --check
    echo "kafka.sh: Kafka jars and tools ready in $root/.cache/kafka (bin/*.sh)"
}

run() {
    local profile=${1:-plaintext}
    fetch
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-kafka-$profile.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    (cd "$root/tests/integration" && python3 broker_profiles.py write --profile "$profile" \
        --dir "$dir" --port "${KAFKA_PORT:-9092}")
    local -a fmt=()
    mapfile -t fmt < "$dir/format.args"
    local cluster_id
    # never an id starting with '-' (kafka-storage would read it as an option)
    cluster_id=$(python3 -c 'import base64,uuid
i = "-"
while i.startswith("-"):
    i = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
print(i)')
    "$tool" kafka-storage format --cluster-id="$cluster_id" -c "$dir/broker.properties" "${fmt[@]}" >/dev/null
    echo "kafka.sh: profile $profile, data in $dir; Ctrl-C stops it"
    export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms512M} KAFKA_LOG_LEVEL=${KAFKA_LOG_LEVEL:-INFO}
    # Not exec: the trap removes the data directory when the broker exits.
    "$tool" kafka-server-start "$dir/broker.properties"
}

case ${1:-} in
    fetch) fetch ;;
    run) shift; run "$@" ;;
    *) sed -n '4,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
