#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs what Sluice needs on Debian 12, as root, without questions.
# Idempotent: a second run checks and does nothing slow.
#
#   scripts/install-deps.sh build   compile and run the broker, and the quick start's client:
#                                   gcc, make, cmake, ninja-build, pkg-config, libssl-dev,
#                                   libpcre2-dev, python3, kcat
#   scripts/install-deps.sh all     build + everything the tests, fuzzers and benchmarks use:
#                                   clang, libfuzzer-14-dev (libFuzzer, ASan/UBSan runtimes),
#                                   sslscan and the openssl command (the TLS tests),
#                                   Java 17 + Maven, the Python packages of tests/requirements.txt,
#                                   Apache Kafka's jars (tools/kafka/pom.xml) in .cache/kafka/libs
#                                   and wrappers .cache/kafka/bin/kafka-*.sh (scripts/kafka-tool)
#
# Environment: SLUICE_KAFKA_HOME (default <repo>/.cache/kafka).
set -euo pipefail

mode=${1:-build}
case $mode in
    build|all) ;;
    *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
kafka_home=${SLUICE_KAFKA_HOME:-$root/.cache/kafka}
export DEBIAN_FRONTEND=noninteractive

say() { echo "install-deps: $*" >&2; }
die() { echo "install-deps: $*" >&2; exit 1; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

apt_updated=0
# apt_install PKG...: installs those not installed yet (one apt-get update first).
apt_install() {
    local missing=() p
    for p in "$@"; do
        [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] ||
            missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    say "apt-get install ${missing[*]}"
    if [[ $apt_updated -eq 0 ]]; then
        as_root apt-get update -q >/dev/null
        apt_updated=1
    fi
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# --- build ------------------------------------------------------------------
# libpcre2-dev: PCRE2 runs the Java regexes of ssl.principal.mapping.rules.
apt_install gcc libc6-dev make cmake ninja-build pkg-config libssl-dev libpcre2-dev ca-certificates
# kcat: the first start prints kcat commands that produce and consume over
# SASL_SSL (README quick start), so `make run` brings it.
apt_install kcat
# The code generator (tools/gen_protocol.py) needs Python 3; the machine's own
# python3 (e.g. pyenv) is fine, Debian's is the fallback.
command -v python3 >/dev/null || apt_install python3

[[ $mode == build ]] && exit 0

# --- all: compilers and clients from Debian -----------------------------------
# clang 14 is Debian 12's clang; libfuzzer-14-dev brings libFuzzer, and
# libclang-rt-14-dev the sanitizer runtimes (named: a machine whose clang came
# without it cannot link make asan-build).
# kcat links Debian's librdkafka 2.0.2: the oldest librdkafka we test against.
# sslscan and openssl: the TLS tests scan listeners and make test keys.
apt_install clang libfuzzer-14-dev libclang-rt-14-dev sslscan openssl

# --- Java 17+ and Maven --------------------------------------------------------
java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}
if ! command -v java >/dev/null || [[ $(java_major) -lt 17 ]]; then
    apt_install openjdk-17-jdk-headless
fi
[[ $(java_major) -ge 17 ]] || die "java on PATH is $(java_major), need 17 or newer"
command -v mvn >/dev/null || apt_install maven

# --- Python packages -----------------------------------------------------------
req=$root/tests/requirements.txt
python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
# Exit 0 when every "name==version" line of the file is installed at that version.
pins_ok() {
    python3 - "$req" <<'PY'
import sys
from importlib import metadata
ok = True
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, want = line.partition("==")
    try:
        have = metadata.version(name.strip())
    except metadata.PackageNotFoundError:
        have = None
    if have != want.strip():
        ok = False
sys.exit(0 if ok else 1)
PY
}
if ! pins_ok; then
    say "pip install -r tests/requirements.txt"
    pip_args=(-q --disable-pip-version-check --no-input --root-user-action=ignore)
    # Debian's own python3 is "externally managed" (PEP 668); a test machine
    # owns its interpreter, so install into it anyway.
    if [[ -e $(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED ]]; then
        pip_args+=(--break-system-packages)
    fi
    python3 -m pip install "${pip_args[@]}" -r "$req"
    pins_ok || die "tests/requirements.txt still not satisfied after pip install"
fi

# --- Apache Kafka jars (CLI tools, Java client, reference broker) ---------------
pom=$root/tools/kafka/pom.xml
stamp=$kafka_home/libs/.stamp
want=$(sha256sum <"$pom" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    say "fetching Kafka jars ($(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")) into $kafka_home/libs"
    rm -rf "$kafka_home/libs.new"
    mkdir -p "$kafka_home/libs.new"
    mvnlog=$kafka_home/mvn.log
    if ! mvn -B -Dstyle.color=never -f "$pom" -Dkafka.libs="$kafka_home/libs.new" \
        dependency:copy-dependencies >"$mvnlog" 2>&1; then
        tail -n 40 "$mvnlog" >&2
        die "mvn dependency:copy-dependencies failed (log: $mvnlog)"
    fi
    rm -rf "$kafka_home/libs"
    mv "$kafka_home/libs.new" "$kafka_home/libs"
    SLUICE_KAFKA_HOME=$kafka_home "$root/scripts/kafka-tool" --check
    echo "$want" >"$stamp"
fi

# Wrappers: cheap, so always rewritten (a new tool in scripts/kafka-tool appears at once).
mkdir -p "$kafka_home/bin"
while read -r tool; do
    cat >"$kafka_home/bin/$tool.sh.new" <<EOF
#!/bin/sh
# Generated by scripts/install-deps.sh: Apache Kafka's $tool from $kafka_home/libs.
SLUICE_KAFKA_HOME='$kafka_home' exec '$root/scripts/kafka-tool' $tool "\$@"
EOF
    chmod 755 "$kafka_home/bin/$tool.sh.new"
    mv "$kafka_home/bin/$tool.sh.new" "$kafka_home/bin/$tool.sh"
done < <("$root/scripts/kafka-tool" --list)

exit 0
