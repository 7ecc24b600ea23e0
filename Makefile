# Build driver for the PEP 554 interpreters fork of CPython 3.11.2.
#
#   make            pristine 3.11.2 + our change, built; ./python is the result
#   make test       build, then regrtest and the tooling tests (pytest)
#   make patch      our change as one patch against pristine 3.11.2
#   make docs       the HTML docs, built with -W, and their linter
#   make bench      the benchmark suite into bench/results/ (bench-quick:
#                   every benchmark once, briefly; part of make test)
#   make test-debug, test-asan, test-stress, fullsuite: see README.md
#
# CPYTHON_DOWNLOAD_CACHE names a directory that may hold the tarball.

PYTHON3 ?= python3
BUILD_DIR ?= $(CURDIR)/build
export BUILD_DIR
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DRIVER = $(PYTHON3) -B -m driver
LOCK = flock $(BUILD_DIR)/.lock

.PHONY: all python patch sync clean distclean

all: python

$(BUILD_DIR):
	@mkdir -p $@

python: | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build release -j $(JOBS)
	@ln -sfn $(BUILD_DIR)/release/python python

sync: | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) sync

patch: | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) patch $(BUILD_DIR)/interpreters.patch

clean:
	rm -rf $(BUILD_DIR)/release $(BUILD_DIR)/debug $(BUILD_DIR)/asan \
	    $(BUILD_DIR)/venv $(BUILD_DIR)/bench-venv $(BUILD_DIR)/bench-quick \
	    python

distclean:
	rm -rf $(BUILD_DIR) python

.PHONY: test
test: python
	@$(PYTHON3) -B -m bench --quick
	@$(DRIVER) test -j $(JOBS)

.PHONY: docs
docs: python
	@$(DRIVER) docs

.PHONY: fullsuite fullsuite-baseline
# The whole regression suite, compared with pristine 3.11.2's record.
fullsuite: python
	@$(DRIVER) fullsuite

# Rebuild and rerun pristine 3.11.2 to refresh that record.
fullsuite-baseline: | $(BUILD_DIR)
	@$(DRIVER) fullsuite-baseline

.PHONY: test-debug test-asan
# Our tests on a --with-pydebug build, hunting reference leaks (-R 3:3).
test-debug: | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build debug -j $(JOBS)
	@$(DRIVER) check debug -j $(JOBS)

# Our tests, stress tests included, on an ASan + UBSan build.
test-asan: | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build asan -j $(JOBS)
	@$(DRIVER) check asan -j $(JOBS)

.PHONY: test-stress
# The heavy stress tests (regrtest resource "cpu") on the release build.
test-stress: python
	@$(DRIVER) check release -j $(JOBS)

.PHONY: bench bench-quick
# The benchmark suite (bench/README.md) into bench/results/; bench-quick
# runs every benchmark once, briefly, into $(BUILD_DIR)/bench-quick/.
bench: python
	@$(PYTHON3) -B -m bench

bench-quick: python
	@$(PYTHON3) -B -m bench --quick
