# Build driver for the PEP 554 interpreters fork of CPython 3.11.2.
#
#   make            pristine 3.11.2 + our change, built; ./python is the result
#   make owngil     the same configured --with-immortal-objects, as
#                   interpreters with their own GIL need: ./python-owngil
#                   (on Debian or Ubuntu, missing build dependencies are
#                   installed first, or make stops saying how)
#   make install    install it as python3.11 (with pip) under PREFIX
#   make test       build, then regrtest and the tooling tests (pytest)
#   make patch      our change as one patch against pristine 3.11.2
#   make docs       the HTML docs, built with -W, and their linter
#   make bench      the benchmark suite into bench/results/ (bench-quick:
#                   every benchmark once, briefly; part of make test;
#                   bench-pyperformance: only the speed comparison with
#                   pristine 3.11.2)
#   make test-owngil, test-debug, test-asan, test-tsan, test-stress,
#                   fullsuite: see
#                   README.md
#
# CPYTHON_DOWNLOAD_CACHE names a directory that may hold the tarball.
# PREFIX is where `make install` installs (CPython's default, /usr/local).

PYTHON3 ?= python3
BUILD_DIR ?= $(CURDIR)/build
export BUILD_DIR
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DRIVER = $(PYTHON3) -B -m driver
LOCK = flock $(BUILD_DIR)/.lock

.PHONY: all deps python install patch sync clean distclean

all: python

$(BUILD_DIR):
	@mkdir -p $@

# Before anything else, and before python3 is known to be there: install
# missing build dependencies (as root, or with sudo if it needs no
# password), or stop at once with the command that does.
deps:
	@sh driver/install-build-deps.sh --auto

python: deps | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build release -j $(JOBS)
	@ln -sfn $(BUILD_DIR)/release/python python

# The release build configured --with-immortal-objects, which interpreters
# with their own GIL need: ./python-owngil.
.PHONY: owngil
owngil: deps | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build owngil -j $(JOBS)
	@ln -sfn $(BUILD_DIR)/owngil/python python-owngil

# Like CPython's `make altinstall`: python3.11, its stdlib and pip under
# PREFIX, never over a python3 that is already there.
PREFIX ?= /usr/local

# `sudo make install` in a tree of your own installs what `make` built:
# building again as root would leave files of root's in it, and git
# refuses to work in a repository that another user owns.
install: | $(BUILD_DIR)
	@if [ "$$(id -u)" -ne 0 ] || [ -O "$(BUILD_DIR)" ]; then \
	    $(MAKE) --no-print-directory python; fi
	@$(LOCK) $(DRIVER) install --prefix "$(PREFIX)"

sync: | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) sync

patch: | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) patch $(BUILD_DIR)/interpreters.patch

clean:
	rm -rf $(BUILD_DIR)/release $(BUILD_DIR)/debug $(BUILD_DIR)/asan \
	    $(BUILD_DIR)/tsan $(BUILD_DIR)/owngil python-owngil \
	    $(BUILD_DIR)/venv $(BUILD_DIR)/bench-venv $(BUILD_DIR)/bench-quick \
	    $(BUILD_DIR)/pyperformance-venv $(BUILD_DIR)/pyperformance python

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
fullsuite-baseline: deps | $(BUILD_DIR)
	@$(DRIVER) fullsuite-baseline

.PHONY: test-owngil test-debug test-asan test-tsan
# Our tests on the build configured --with-immortal-objects, where
# interpreters with their own GIL run (the default build skips them).
test-owngil: owngil
	@$(DRIVER) check owngil -j $(JOBS)

# Our tests on a --with-pydebug build, hunting reference leaks (-R 3:3).
test-debug: deps | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build debug -j $(JOBS)
	@$(DRIVER) check debug -j $(JOBS)

# Our tests, stress tests included, on an ASan + UBSan build.
test-asan: deps | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build asan -j $(JOBS)
	@$(DRIVER) check asan -j $(JOBS)

# Our tests on a ThreadSanitizer build: any data race fails them.
test-tsan: deps | $(BUILD_DIR)
	@$(LOCK) $(DRIVER) build tsan -j $(JOBS)
	@$(DRIVER) check tsan -j $(JOBS)

.PHONY: test-stress
# The heavy stress tests (regrtest resource "cpu") on the release build.
test-stress: python
	@$(DRIVER) check release -j $(JOBS)

.PHONY: bench bench-quick bench-pyperformance
# The benchmark suite (bench/README.md) into bench/results/; bench-quick
# runs every benchmark once, briefly, into $(BUILD_DIR)/bench-quick/,
# but for pyperformance against pristine 3.11.2 (which the bench builds in
# $(BUILD_DIR)/pristine/release, once); bench-pyperformance runs only that.
bench: python
	@$(PYTHON3) -B -m bench

bench-quick: python
	@$(PYTHON3) -B -m bench --quick

bench-pyperformance: python
	@$(PYTHON3) -B -m bench pyperformance
