#!/usr/bin/env bash
# check_installed.sh BUILD_DIR -- the C examples as a newcomer builds them:
# against an installed copy of gmprt, with nothing but the compiler and
# pkg-config. What the ctest c.examples_installed runs.
#
#  1. `cmake --install BUILD_DIR --prefix TMP` (what `make install
#     PREFIX=TMP` does); gmprt.h and gmprt.hpp must be there.
#  2. Every bindings/c/examples/*.c is compiled with
#     `cc -std=c11 -Wall -Wextra -Wpedantic -Werror ... $(pkg-config --cflags --libs gmprt)`
#     and run small against the installed library; each must exit 0.
#  3. tests/cxx/gmprt_hpp_test.cpp is compiled the same way as C++17
#     against the installed <gmprt.hpp> and run.
# Compilers: $CC (cc) and $CXX (c++).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CC=${CC:-cc}
CXX=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
pc=$(find "$prefix" -name gmprt.pc -print -quit)
[ -n "$pc" ] || { cat "$tmp/install.log"; echo "FAIL: no gmprt.pc installed"; exit 1; }
for h in gmprt.h gmprt.hpp; do
  [ -f "$prefix/include/$h" ] || fail "not installed: include/$h"
done
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir gmprt)

# args NAME: the arguments that make an example small and self-checking.
args() {
  case $1 in
    demo) echo 10000 ;;
    chan_demo) echo 10000 ;;
    echo_server) echo --self-test ;;
    *) echo "" ;;
  esac
}

# build_run NAME COMPILER FLAGS... SOURCE: compile against the install, run.
build_run() {
  local name=$1 out
  shift
  # The pkg-config flags are left unquoted on purpose: they are word lists.
  # shellcheck disable=SC2046
  if ! "$@" $(pkg-config --cflags gmprt) -o "$tmp/$name" $(pkg-config --libs gmprt) -pthread \
    >"$tmp/$name.log" 2>&1; then
    fail "$name did not build: $*"
    cat "$tmp/$name.log"
    return
  fi
  # shellcheck disable=SC2046
  if out=$(LD_LIBRARY_PATH=$libdir timeout 120 "$tmp/$name" $(args "$name") 2>&1); then
    echo "$name: ok ($(tail -n 1 <<<"$out"))"
  else
    fail "$name exited $?: $(tail -n 5 <<<"$out")"
  fi
}

n=0
for src in "$here"/examples/*.c; do
  name=$(basename "$src" .c)
  build_run "$name" "$CC" -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror "$src"
  n=$((n + 1))
done
build_run gmprt_hpp_test "$CXX" -std=c++17 -O2 -Wall -Wextra -Wpedantic -Werror "$top/tests/cxx/gmprt_hpp_test.cpp"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "OK: $n C examples and the C++17 header test built against the install with pkg-config and ran"
