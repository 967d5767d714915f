# Two commands do everything on a fresh Debian machine with the Swift toolchain:
#   make run    install what is missing, build in release, run the main job
#   make test   the same set-up, then the whole test suite
# Numeric code is slow in debug builds, so everything (tests too) is built in release.

SWIFT        ?= swift
APT_PACKAGES := gnuplot-nox libpng-dev libturbojpeg0-dev zlib1g-dev pkg-config dataset-fashion-mnist
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DINO         := .build/release/dino

.PHONY: all setup build run test check bench lessons walkthroughs clean fuzz

all: run

# Install only the Debian packages that are missing (dpkg -s is quick and offline).
setup:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "system packages present: $(APT_PACKAGES)"; fi

build: setup
	$(SWIFT) build -c release

# The main job: parity of the two cores (every SIMD path this CPU runs), the kernel benchmark,
# then every lesson in order.
run: build
	$(DINO) check
	$(DINO) bench kernels --threads 1,2
	@for main in $$(ls Lessons/*/main.swift | sort); do \
	  exe=$$(basename $$(dirname $$main)); \
	  echo; echo "▶ lesson$$exe"; .build/release/lesson$$exe || exit 1; \
	done

# One release build serves the whole suite: `swift test` builds every product (dino and the
# lessons too) with testing enabled, and the checks below run those binaries.
test: setup
	$(SWIFT) test -c release -Xswiftc -enable-testing
	bash scripts/wide_path_check.sh
	$(DINO) check
	@if [ -f Tests/golden/index.json ]; then \
	  $(DINO) verify Tests/golden --kernels reference && $(DINO) verify Tests/golden --kernels simd; fi
	$(DINO) verify Tests/fixtures/official --kernels reference
	$(DINO) verify Tests/fixtures/official --kernels simd
	bash scripts/kill9_test.sh 16
	bash scripts/full_disk_test.sh
	bash scripts/walkthrough_check.sh $(FAST_LESSONS)

check: build
	$(DINO) check

# The walkthroughs paste real lesson output. This re-runs every lesson (about 45 minutes: lessons
# 07 and 09 train) and compares what it prints with what its walkthrough pastes, timings masked;
# `make test` does the same for the lessons that take seconds.
FAST_LESSONS := 01 02 03 04 05 06
walkthroughs: build
	bash scripts/walkthrough_check.sh

# libFuzzer + AddressSanitizer on every parser (IDX/gzip, PNG, safetensors, config JSON, golden JSON),
# FUZZ_SECONDS each; crashes land in .build-fuzz/crashes/.
FUZZ_SECONDS ?= 60
fuzz: setup
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	$(DINO) bench kernels --threads 1,2

clean:
	rm -rf .build
