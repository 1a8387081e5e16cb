#!/usr/bin/env bash
# rust.sh BUILD_DIR -- the Rust binding against C on the same runtime:
# skynet written with the safe gmprt crate
# (bindings/rust/gmprt/examples/skynet.rs) next to bench_skynet (skynet.c).
# run.sh calls it last; it also runs alone on a `make bench` build.
#
# The Rust program is built with Debian's cargo (offline, as the tests do)
# against BUILD_DIR's libgmprt.a (GMPRT_STATIC=1), the archive bench_skynet
# links, into BUILD_DIR/bench/rust-target. Then both run RUNS times
# (default 5), alternately, with the same leaf count (SKYNET_LEAVES,
# default 1,000,000), and the medians and their ratio are printed in
# run.sh's format:
#   workload=skynet_rust impl=c metric=ms value=X unit=ms
#   workload=skynet_rust impl=rust metric=ms value=X unit=ms
#   workload=skynet_rust ratio rust/c=R
# A ratio below 1 means the Rust program is faster. Exit status 1 when
# something could not be built or run.
# Environment: RUNS, BENCH_TIMEOUT (as run.sh), CARGO (/usr/bin/cargo),
# RUSTC (/usr/bin/rustc), SKYNET_LEAVES.
set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
bindir=$build/bench
runs=${RUNS:-5}
limit=${BENCH_TIMEOUT:-300}
leaves=${SKYNET_LEAVES:-1000000}
cargo=${CARGO:-/usr/bin/cargo}
rustc=${RUSTC:-/usr/bin/rustc}

c=$bindir/bench_skynet
r=$bindir/rust_skynet
if [ ! -x "$c" ]; then
  echo "rust.sh: $c not built; skipping workload=skynet_rust" >&2
  exit 1
fi
if [ ! -x "$cargo" ] || [ ! -x "$rustc" ]; then
  echo "rust.sh: $cargo or $rustc not found (apt-get install cargo rustc librust-bindgen-dev" \
    "librust-libc-dev librust-pkg-config-dev libclang-dev); skipping workload=skynet_rust" >&2
  exit 1
fi
if ! (cd "$here/../bindings/rust" &&
  env GMPRT_STATIC=1 GMPRT_LIB_DIR="$build" GMPRT_INCLUDE_DIR="$here/../capi/include" \
    CARGO_TARGET_DIR="$bindir/rust-target" CARGO_HOME="$bindir/cargo-home" RUSTC="$rustc" \
    "$cargo" build --release --quiet --example skynet -p gmprt); then
  echo "rust.sh: cargo build of the skynet example failed" >&2
  exit 1
fi
cp "$bindir/rust-target/release/examples/skynet" "$r"

# value IMPL BINARY: run once; the ms value of its workload=skynet line.
value() {
  timeout "$limit" "$2" "$leaves" 2>/dev/null |
    sed -n "s/^workload=skynet impl=$1 metric=ms value=\\([0-9.eE+-]*\\) unit=ms.*/\\1/p"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }

status=0
cv=() rv=()
for ((i = 0; i < runs; i++)); do
  v=$(value gmprt "$c") && [ -n "$v" ] && cv+=("$v") || { echo "rust.sh: $c failed" >&2; status=1; }
  v=$(value rust "$r") && [ -n "$v" ] && rv+=("$v") || { echo "rust.sh: $r failed" >&2; status=1; }
done
if [ ${#cv[@]} -eq 0 ] || [ ${#rv[@]} -eq 0 ]; then
  exit 1
fi
cm=$(median "${cv[@]}")
rm_=$(median "${rv[@]}")
echo "workload=skynet_rust impl=c metric=ms value=$cm unit=ms"
echo "workload=skynet_rust impl=rust metric=ms value=$rm_ unit=ms"
echo "workload=skynet_rust ratio rust/c=$(awk -v a="$rm_" -v b="$cm" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "nan"}')"
exit $status
