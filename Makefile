# Build driver for the PEP 554 interpreters fork of CPython 3.11.2.
#
#   make            pristine 3.11.2 + our change, built; ./python is the result
#   make test       build, then regrtest and the tooling tests (pytest)
#   make patch      our change as one patch against pristine 3.11.2
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
	    $(BUILD_DIR)/venv python

distclean:
	rm -rf $(BUILD_DIR) python

.PHONY: test
test: python
	@$(DRIVER) test -j $(JOBS)
