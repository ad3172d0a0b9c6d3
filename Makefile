# SPDX-License-Identifier: Apache-2.0
#
# Entry points. `make run` and `make test` work on a fresh machine: each
# installs what it is missing first (scripts/install-deps.sh is idempotent).
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
DATA_DIR ?= ./data
PYTEST ?= python3 -m pytest
JOBS ?= $(shell nproc)

.PHONY: all build run test deps deps-build unit integration asan asan-unit asan-integration \
        fuzz fuzz-replay check-gen gen bench bench-acl docs clean \
        kafka kafka-run test-differential bench-compare

all: build

deps-build:
	@scripts/install-deps.sh build

deps:
	@scripts/install-deps.sh all

build: deps-build
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The broker with its embedded defaults on ./data: the first start generates
# the TLS material and the admin user and prints how to connect (README).
# SLUICED_ARGS adds options, e.g. SLUICED_ARGS="--config server.properties".
SLUICED_ARGS ?=
run: build
	./$(BUILD)/sluiced --data-dir $(DATA_DIR) $(SLUICED_ARGS)

# Everything CI checks: generated code up to date, unit tests, integration
# tests with real clients, the same under ASan+UBSan, and the fuzz corpora.
test: deps build check-gen unit integration asan fuzz-replay
	@echo "make test: all suites passed"

unit: build
	ctest --test-dir $(BUILD) --output-on-failure

integration: build
	SLUICED=$(abspath $(BUILD))/sluiced SLUICE_CLI=$(abspath $(BUILD))/sluice \
	    $(PYTEST) tests/integration -q -p no:cacheprovider -m "not differential_full"

asan: asan-unit asan-integration

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	    -DSL_SANITIZE='address;undefined' >/dev/null

asan-build: deps-build $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

asan-unit: asan-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir $(ASAN_BUILD) --output-on-failure

# The integration suite against the sanitized broker (the long-running
# scenarios are marked `slow` and run only against the release build).
asan-integration: asan-build
	SLUICED=$(abspath $(ASAN_BUILD))/sluiced SLUICE_CLI=$(abspath $(ASAN_BUILD))/sluice \
	    SLUICE_SANITIZED=1 $(PYTEST) tests/integration -q \
	    -p no:cacheprovider -m "not slow and not differential_full"

$(FUZZ_BUILD)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	    -DSL_FUZZ=ON -DSL_SANITIZE='address;undefined' >/dev/null

fuzz-build: deps-build $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Replays every seed corpus through its fuzzer (no mutation): CI's check that
# no known input crashes a parser.
fuzz-replay: fuzz-build
	scripts/fuzz-replay.sh $(FUZZ_BUILD)

# Fuzz each target for FUZZ_SECONDS (default 60) seconds.
fuzz: fuzz-build
	scripts/fuzz-replay.sh $(FUZZ_BUILD) --fuzz $${FUZZ_SECONDS:-60}

gen:
	python3 tools/gen_protocol.py

check-gen:
	python3 tools/gen_protocol.py --check

docs: build
	./$(BUILD)/sluiced --help-markdown > docs/CONFIG.md

bench: deps build
	bench/run.sh

# ns per ACL decision for 10 to 100,000 bindings; writes bench/results/<date>-acl.md.
bench-acl: build
	@mkdir -p bench/results
	./$(BUILD)/sl_bench_acl bench/results/$$(date -u +%F)-acl.md "$$(git rev-parse --short HEAD)"

# Apache Kafka, the reference (issue 9): fetch and check the pinned jars, or
# run a single-node KRaft broker in the foreground (PROFILE=plaintext|sasl_ssl|secure).
kafka:
	@scripts/kafka.sh fetch

PROFILE ?= plaintext
kafka-run:
	@scripts/kafka.sh run $(PROFILE)

# Every differential scenario, Sluice against Kafka (make test runs a subset).
test-differential: deps build
	SLUICED=$(abspath $(BUILD))/sluiced SLUICE_CLI=$(abspath $(BUILD))/sluice \
	    $(PYTEST) tests/integration/18-differential.py -q -p no:cacheprovider -m "differential or differential_full"

# Sluice and Kafka on this machine, same clients, one after the other; writes
# bench/results/<date>-comparison.md and its plots. QUICK=1: a few seconds a case.
bench-compare: deps build
	python3 bench/compare.py $(if $(QUICK),--quick)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
