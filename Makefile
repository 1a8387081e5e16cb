# gmprt -- the front door. CMakeLists.txt is the real build; this file only
# installs what the build needs, picks the build directories and runs things.
#
#   make run         build, then run the C demos (demo, chan_demo, echo_server --self-test)
#   make rust        build, then the Rust tests, examples and polyglot program (ctest -L rust)
#   make test        the normal suite, then the ASan+UBSan suite (both must pass)
#   make help        every target
#
# Variables: BUILD (build), BUILD_TYPE (RelWithDebInfo), JOBS (2),
# PREFIX (/usr/local) and DESTDIR for install, CMAKE_ARGS (extra -D options),
# RUN_ARGS (passed to the demos), NO_DEPS=1 to skip the Debian package check.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
MAKEFLAGS += --no-print-directory

BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_BENCH ?= build-bench
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
DESTDIR ?=
JOBS ?= 2
CTEST_JOBS ?= $(JOBS)
# Default for tests that set no TIMEOUT of their own (seconds).
CTEST_TIMEOUT ?= 600
CMAKE_ARGS ?=
NO_DEPS ?=
RUN_ARGS ?=

# Debian packages. The build and test ones are installed by every target that
# builds; the others only by the target that needs them. RUST_PKGS: Debian's
# cargo and rustc (1.63 on Debian 12; the build calls /usr/bin/cargo, never a
# rustup one) and the crates the Rust bindings build from, offline
# (bindings/rust/.cargo/config.toml); python3 runs the ctypes example.
RUST_PKGS := cargo rustc librust-bindgen-dev librust-libc-dev librust-pkg-config-dev \
             libclang-dev python3
DEPS_PKGS := build-essential cmake ninja-build pkgconf libgtest-dev libgmock-dev \
             libgmp-dev valgrind gdb $(RUST_PKGS)
BENCH_PKGS := golang-go libboost-context-dev
FORMAT_PKGS := clang-format
TIDY_PKGS := clang-tidy

# Sources clang-format owns (C and C++; assembly and generated Rust are not).
FORMAT_FILES = $(shell git ls-files -- '*.c' '*.h' '*.cpp' '*.hpp' 2>/dev/null \
                 || find capi core tests bench bindings -name '*.[ch]' -o -name '*.[ch]pp')

# $(call ensure_pkgs,PACKAGES): install exactly the missing ones. Idempotent:
# nothing is fetched when everything is there. Needs root to install; anyone
# else gets the command to run.
define ensure_pkgs
if [ -n "$(NO_DEPS)" ]; then exit 0; fi; \
if ! command -v dpkg-query >/dev/null 2>&1; then \
  echo "deps: dpkg-query not found (not Debian?); make sure these are installed: $(strip $(1))"; \
  exit 0; \
fi; \
missing=""; \
for p in $(1); do \
  dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -qx 'install ok installed' \
    || missing="$$missing $$p"; \
done; \
missing="$${missing# }"; \
if [ -z "$$missing" ]; then exit 0; fi; \
if [ "$$(id -u)" -ne 0 ]; then \
  echo "deps: missing Debian packages: $$missing" >&2; \
  echo "deps: install them with:  sudo apt-get install -y $$missing" >&2; \
  echo "deps: (or run this make target as root; NO_DEPS=1 skips the check)" >&2; \
  exit 1; \
fi; \
echo "deps: installing $$missing"; \
export DEBIAN_FRONTEND=noninteractive; \
apt-get update -qq </dev/null && \
apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends $$missing </dev/null
endef

# $(call configure,DIR,EXTRA-CMAKE-ARGS): configure DIR (re-running is cheap
# and applies changed options; later -D options win). Ninja when available,
# else make; the generator is chosen only when DIR is new.
define configure
{ gen=(); \
  if [ ! -f $(1)/CMakeCache.txt ]; then \
    if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); else gen=(-G "Unix Makefiles"); fi; \
  fi; \
  cmake -S . -B $(1) "$${gen[@]}" -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(2) $(CMAKE_ARGS); }
endef

# $(call build,DIR,TARGETS)
define build
cmake --build $(1) -j $(JOBS) $(if $(2),--target $(2))
endef

# $(call suite,DIR,EXTRA-CMAKE-ARGS,ENV): configure, build, run ctest; the
# ctest output stays in DIR/ctest.log for the summary. One && chain, so that
# it fails as a whole even where the caller tests its status.
define suite
rm -f $(1)/ctest.log && \
$(call configure,$(1),$(2)) && \
$(call build,$(1)) && \
( cd $(1) && $(3) ctest --output-on-failure --no-tests=error -j $(CTEST_JOBS) --timeout $(CTEST_TIMEOUT) ) 2>&1 \
  | tee $(1)/ctest.log
endef

# $(call tally,DIR,LABEL): one summary fragment, e.g. "normal: 57/57 passed".
define tally
line=$$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' $(1)/ctest.log 2>/dev/null | tail -n 1 || true); \
if [ -z "$$line" ]; then \
  printf '%s: did not build or run' "$(2)"; \
else \
  total=$$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$$line"); \
  failed=$$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$$line"); \
  printf '%s: %d/%d passed' "$(2)" $$((total - failed)) "$$total"; \
fi
endef

# Normal builds leave the benchmarks out: they have their own build (Release,
# with their own dependencies) behind `make bench`.
NORMAL_ARGS := -DGMPRT_BUILD_BENCH=OFF
ASAN_ARGS := -DGMPRT_BUILD_BENCH=OFF -DGMPRT_SANITIZE=address
TSAN_ARGS := -DGMPRT_BUILD_BENCH=OFF -DGMPRT_SANITIZE=thread
ASAN_ENV := UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1}
TSAN_ENV := TSAN_OPTIONS=$${TSAN_OPTIONS:-second_deadlock_stack=1}

.PHONY: all build run rust test test-asan test-tsan install bench format check-format tidy clean \
        deps deps-bench deps-format deps-tidy help

all build: deps
	@$(call configure,$(BUILD),$(NORMAL_ARGS))
	@$(call build,$(BUILD))

run: deps
	@$(call configure,$(BUILD),$(NORMAL_ARGS))
	@$(call build,$(BUILD),demo chan_demo echo_server)
	./$(BUILD)/bindings/c/examples/demo $(RUN_ARGS)
	./$(BUILD)/bindings/c/examples/chan_demo $(RUN_ARGS)
	./$(BUILD)/bindings/c/examples/echo_server --self-test

# The Rust bindings alone: cargo test (unit, integration and doc tests of
# gmprt-sys and gmprt), the examples, and the polyglot program.
rust: deps
	@$(call configure,$(BUILD),$(NORMAL_ARGS))
	@$(call build,$(BUILD))
	cd $(BUILD) && ctest --output-on-failure -L rust

test: deps
	@status=0; \
	{ $(call suite,$(BUILD),$(NORMAL_ARGS)); } || status=1; \
	{ $(call suite,$(BUILD_ASAN),$(ASAN_ARGS),$(ASAN_ENV)); } || status=1; \
	normal=$$($(call tally,$(BUILD),normal)); \
	asan=$$($(call tally,$(BUILD_ASAN),asan+ubsan)); \
	if [ $$status -eq 0 ]; then verdict=PASSED; else verdict=FAILED; fi; \
	echo; echo "make test: $$verdict ($$normal; $$asan)"; \
	exit $$status

test-asan: deps
	@status=0; { $(call suite,$(BUILD_ASAN),$(ASAN_ARGS),$(ASAN_ENV)); } || status=1; \
	echo; echo "make test-asan: $$( $(call tally,$(BUILD_ASAN),asan+ubsan) )"; exit $$status

test-tsan: deps
	@status=0; { $(call suite,$(BUILD_TSAN),$(TSAN_ARGS),$(TSAN_ENV)); } || status=1; \
	echo; echo "make test-tsan: $$( $(call tally,$(BUILD_TSAN),tsan) )"; exit $$status

# The library, its header, gmprt.pc and the CMake package. gmprt.pc is written
# at install time, so its prefix is PREFIX (not DESTDIR).
install: deps
	@$(call configure,$(BUILD),$(NORMAL_ARGS) -DCMAKE_INSTALL_PREFIX=$(PREFIX))
	@$(call build,$(BUILD),gmprt gmprt_static)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

bench: deps deps-bench
	@$(call configure,$(BUILD_BENCH),-DCMAKE_BUILD_TYPE=Release -DGMPRT_BUILD_BENCH=ON \
	  -DGMPRT_BUILD_TESTS=OFF)
	@$(call build,$(BUILD_BENCH))
	bench/run.sh $(BUILD_BENCH)

format: deps-format
	clang-format -i $(FORMAT_FILES)

check-format: deps-format
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "check-format: clean"

# clang-tidy (.clang-tidy) over the library's sources, with the normal
# build's compile commands.
tidy: deps deps-tidy
	@$(call configure,$(BUILD),$(NORMAL_ARGS) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
	clang-tidy -p $(BUILD) --quiet $(wildcard core/*.cpp capi/*.cpp)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_BENCH)

deps:
	@$(call ensure_pkgs,$(DEPS_PKGS))

deps-bench:
	@$(call ensure_pkgs,$(BENCH_PKGS))

deps-format:
	@$(call ensure_pkgs,$(FORMAT_PKGS))

deps-tidy:
	@$(call ensure_pkgs,$(TIDY_PKGS))

help:
	@echo "make [all]      configure and build into $(BUILD)/ (installs missing Debian packages)"
	@echo "make run        build, then run the C demos ($(BUILD)/bindings/c/examples/demo, chan_demo,"
	@echo "                echo_server --self-test)"
	@echo "make rust       build, then the Rust bindings' tests, examples and the polyglot program"
	@echo "make test       normal suite in $(BUILD)/ (Rust and Python included), then ASan+UBSan"
	@echo "                suite in $(BUILD_ASAN)/"
	@echo "make test-asan  the ASan+UBSan suite alone"
	@echo "make test-tsan  the TSan suite in $(BUILD_TSAN)/"
	@echo "make install    install into PREFIX=$(PREFIX) (DESTDIR honoured)"
	@echo "make bench      Release build in $(BUILD_BENCH)/, then bench/run.sh (gmprt vs Go)"
	@echo "make format | check-format   clang-format the C and C++ sources | check them"
	@echo "make tidy       clang-tidy over core/ and capi/"
	@echo "make deps | deps-bench | deps-format | deps-tidy   only install missing Debian packages"
	@echo "make clean      remove every build directory"
