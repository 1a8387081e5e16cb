#!/usr/bin/env bash
# run_examples.sh -- build the gmprt crate's examples (release) and run
# each one small; what the ctest rust.examples runs. Any failure fails it.
# Environment: CARGO (default cargo) and what cargo and gmprt-sys read
# (CARGO_TARGET_DIR, RUSTC, GMPRT_LIB_DIR, ...), set by CMakeLists.txt.
set -euo pipefail
cd "$(dirname "$0")"
cargo=${CARGO:-cargo}
"$cargo" build --release --quiet --examples -p gmprt
bin=${CARGO_TARGET_DIR:-target}/release/examples
run() {
  echo "+ $*"
  timeout 120 "$@"
}
run "$bin/pingpong" 10000
run "$bin/sieve" 200
run "$bin/skynet" 10000
run "$bin/echo" --self-test
echo "OK: pingpong, sieve, skynet and echo ran"
