#!/usr/bin/env bash
# run.sh BUILD_DIR VERSION -- build programs against an installed gmprt, as
# its users do, and run each (liburing's test_build idea).
#
#  1. `cmake --install BUILD_DIR --prefix TMP` (what `make install PREFIX=TMP`
#     does), and check the installed files and gmprt.pc's prefix; a second
#     install with DESTDIR checks that the staged gmprt.pc names the real
#     prefix.
#  2. main.c built with `pkg-config --cflags --libs gmprt` as C, and as C++;
#     linked statically against libgmprt.a with `pkg-config --static --libs`
#     and the C compiler alone (no -lstdc++): once into a normal dynamic
#     program, once fully static.
#  3. a CMake project: find_package(gmprt VERSION), gmprt::gmprt and
#     gmprt::gmprt_static.
# Each program must print OK. Compilers: $CC (cc) and $CXX (c++).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR VERSION" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
version=$2
here=$(cd "$(dirname "$0")" && pwd)
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

# --- 1. install -------------------------------------------------------------
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
pc=$(find "$prefix" -name gmprt.pc -print -quit)
so=$(find "$prefix" -name 'libgmprt.so.0' -print -quit)
if [ -z "$pc" ] || [ -z "$so" ]; then
  cat "$tmp/install.log"
  echo "FAIL: the install has no gmprt.pc or libgmprt.so.0"
  exit 1
fi
libdir=$(dirname "$so")
for f in "$prefix/include/gmprt.h" "$libdir/libgmprt.a" "$libdir/libgmprt.so" \
  "$libdir/cmake/gmprt/gmprt-config.cmake" "$libdir/cmake/gmprt/gmprt-config-version.cmake" \
  "$libdir/cmake/gmprt/gmprt-targets.cmake"; do
  [ -e "$f" ] || fail "not installed: ${f#"$prefix"/}"
done
[ -L "$libdir/libgmprt.so" ] && [ -L "$so" ] || fail "libgmprt.so and libgmprt.so.0 must be symlinks"
[ "$(readlink "$libdir/libgmprt.so")" = libgmprt.so.0 ] || fail "libgmprt.so does not point at libgmprt.so.0"
[ "$(readlink "$so")" = "libgmprt.so.$version" ] || fail "libgmprt.so.0 does not point at libgmprt.so.$version"

export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
[ "$(pkg-config --modversion gmprt)" = "$version" ] || fail "gmprt.pc gives version $(pkg-config --modversion gmprt)"
[ "$(pkg-config --variable=prefix gmprt)" = "$prefix" ] || fail "gmprt.pc gives prefix $(pkg-config --variable=prefix gmprt)"
cflags=$(pkg-config --cflags gmprt)
libs=$(pkg-config --libs gmprt)
static_libs=$(pkg-config --static --libs gmprt)
echo "pkg-config: --cflags '$cflags' --libs '$libs' --static --libs '$static_libs'"
case "$static_libs" in *stdc++*) fail "gmprt.pc makes static users link the C++ runtime" ;; esac

DESTDIR=$tmp/stage cmake --install "$build" --prefix /opt/gmprt >/dev/null
staged=$(find "$tmp/stage" -name gmprt.pc -print -quit)
if [ -z "$staged" ] || [ "${staged#"$tmp/stage"/opt/gmprt/}" = "$staged" ]; then
  fail "DESTDIR install did not land under DESTDIR/PREFIX"
else
  grep -qx 'prefix=/opt/gmprt' "$staged" || fail "DESTDIR install: gmprt.pc has $(grep '^prefix=' "$staged")"
fi

# --- 2. pkg-config builds -----------------------------------------------------
# run_ok NAME: run $tmp/NAME against the installed library; expect "OK".
run_ok() {
  local out
  if out=$(cd "$tmp" && LD_LIBRARY_PATH=$libdir timeout 60 "./$1" 2>&1) && grep -q '^OK' <<<"$out"; then
    echo "$1: $out"
  else
    fail "$1 did not print OK: $out"
  fi
}
# needed NAME: the NEEDED entries of $tmp/NAME, on one line.
needed() { readelf -d "$tmp/$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | paste -sd ' ' -; }

# build NAME COMMAND...: compile, then run; a failed compile is one failure.
build() {
  local name=$1
  shift
  if "$@" -o "$tmp/$name" >"$tmp/$name.log" 2>&1; then
    run_ok "$name"
  else
    fail "$name did not build: $* -o $tmp/$name"
    cat "$tmp/$name.log"
  fi
}

# The pkg-config flags are left unquoted on purpose: they are word lists.
build c_shared "$CC" -std=c11 -Wall -Wextra -Werror "$here/main.c" $cflags $libs
build cxx_shared "$CXX" -std=c++11 -Wall -Wextra -Werror -x c++ "$here/main.c" -x none $cflags $libs
# libgmprt.a inside a dynamically linked C program: -Bstatic picks the archive
# for pkg-config's -lgmprt; nothing but pkg-config's flags is added.
build c_static "$CC" -std=c11 -Wall -Wextra -Werror "$here/main.c" $cflags \
  -Wl,-Bstatic $static_libs -Wl,-Bdynamic -static-libgcc
# A fully static program: nothing outside libgmprt.a and libc.
build c_static_full "$CC" -static -std=c11 -Wall -Wextra -Werror "$here/main.c" $cflags $static_libs

if [ -x "$tmp/c_shared" ]; then
  grep -q 'libgmprt.so.0' <<<"$(needed c_shared)" || fail "c_shared does not need libgmprt.so.0: $(needed c_shared)"
  where=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/c_shared" | awk '/libgmprt/ { print $3 }')
  [ "$where" = "$so" ] || fail "c_shared loads libgmprt from '$where', not from the install"
fi
if [ -x "$tmp/c_static" ]; then
  n=$(needed c_static)
  case "$n" in *libgmprt* | *stdc++*) fail "c_static needs $n" ;; esac
fi
if [ -x "$tmp/c_static_full" ] && readelf -d "$tmp/c_static_full" | grep -q NEEDED; then
  fail "c_static_full is not static: $(needed c_static_full)"
fi

# --- 3. find_package(gmprt) ---------------------------------------------------
if cmake -S "$here" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$CC" \
  -DGMPRT_WANT_VERSION="$version" >"$tmp/cmake.log" 2>&1 &&
  cmake --build "$tmp/cmake" >>"$tmp/cmake.log" 2>&1; then
  cp "$tmp/cmake/consumer_cmake" "$tmp/cmake/consumer_cmake_static" "$tmp/"
  run_ok consumer_cmake
  run_ok consumer_cmake_static
  case "$(needed consumer_cmake_static)" in *libgmprt* | *stdc++*) fail "consumer_cmake_static needs $(needed consumer_cmake_static)" ;; esac
else
  cat "$tmp/cmake.log"
  fail "the find_package(gmprt) project did not configure or build"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures consumer check(s) failed"
  exit 1
fi
echo "OK: C, C++, static, fully static and CMake consumers built against the install and ran"
