#!/usr/bin/env bash
# run.sh BUILD_DIR -- build the Go twins and run every benchmark side by side.
#
# Takes the C benchmarks from BUILD_DIR/bench (built by `make bench` in a
# Release build), builds the Go programs of bench/go into the same place
# (offline: no module needs fetching; GOCACHE and GOPATH live under
# BUILD_DIR so this works as root on a fresh machine), then runs each
# workload RUNS times (default 5), gmprt and Go alternately, and prints the
# median of each side and the ratio:
#   workload=NAME impl=gmprt metric=M value=X unit=ns
#   workload=NAME impl=go metric=M value=X unit=ns
#   workload=NAME ratio gmprt/go=R
# bench_context_switch (gmprt vs Boost.Context) is run RUNS times the same
# way when it was built. A benchmark that is missing or fails is reported on
# stderr and skipped; the exit status is then 1.
# Environment: RUNS (default 5), BENCH_TIMEOUT seconds per run (default 300).
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
status=0
mkdir -p "$bindir"

# --- Go twins -----------------------------------------------------------------
gobin=""
if command -v go >/dev/null 2>&1; then
  gobin=$(command -v go)
elif [ -x /usr/lib/go/bin/go ]; then
  gobin=/usr/lib/go/bin/go
fi
have_go=0
if [ -z "$gobin" ]; then
  echo "run.sh: go not found (apt-get install golang-go); skipping the Go side" >&2
  status=1
else
  export GOCACHE=$build/bench/go-cache GOPATH=$build/bench/go-path
  export GOFLAGS='' GOPROXY=off GO111MODULE=on GOTOOLCHAIN=local GOTELEMETRY=off
  have_go=1
  for w in spawn yield; do
    if ! (cd "$here/go" && "$gobin" build -o "$bindir/go_$w" "./$w"); then
      echo "run.sh: go build of bench/go/$w failed" >&2
      have_go=0
      status=1
    fi
  done
fi

# run1 BINARY ARGS...: run once, print the value= field of its first line
# with impl=gmprt or impl=go.
run1() {
  local out
  if ! out=$(timeout "$limit" "$@" 2>/dev/null); then
    echo "run.sh: $* failed or timed out" >&2
    return 1
  fi
  printf '%s\n' "$out" | sed -n 's/.* impl=\(gmprt\|go\) .*value=\([0-9.eE+-]*\).*/\2/p' | head -n 1
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "nan"}'; }

# pair NAME METRIC: RUNS alternate runs of bench_NAME and go_NAME.
pair() {
  local name=$1 metric=$2 c="$bindir/bench_$1" g="$bindir/go_$1" cv=() gv=() v i
  if [ ! -x "$c" ]; then
    echo "run.sh: $c not built; skipping workload=$name" >&2
    status=1
    return
  fi
  for ((i = 0; i < runs; i++)); do
    if v=$(run1 "$c") && [ -n "$v" ]; then cv+=("$v"); else status=1; fi
    if [ "$have_go" = 1 ]; then
      if v=$(run1 "$g") && [ -n "$v" ]; then gv+=("$v"); else status=1; fi
    fi
  done
  local cm="" gm=""
  if [ ${#cv[@]} -gt 0 ]; then
    cm=$(median "${cv[@]}")
    echo "workload=$name impl=gmprt metric=$metric value=$cm unit=ns"
  fi
  if [ ${#gv[@]} -gt 0 ]; then
    gm=$(median "${gv[@]}")
    echo "workload=$name impl=go metric=$metric value=$gm unit=ns"
  fi
  if [ -n "$cm" ] && [ -n "$gm" ]; then
    echo "workload=$name ratio gmprt/go=$(ratio "$cm" "$gm")"
  fi
}

pair spawn ns_per_goroutine
pair yield ns_per_switch

# --- Context switch: gmprt vs Boost.Context ------------------------------------
cs=$bindir/bench_context_switch
if [ -x "$cs" ]; then
  declare -A vals=()
  for ((i = 0; i < runs; i++)); do
    if ! out=$(timeout "$limit" "$cs"); then
      echo "run.sh: $cs failed or timed out" >&2
      status=1
      continue
    fi
    while read -r w impl v; do
      vals[$w.$impl]+="$v "
    done < <(printf '%s\n' "$out" |
      sed -n 's/^workload=\([a-z0-9_]*\) impl=\([a-z]*\) .*value=\([0-9.eE+-]*\).*/\1 \2 \3/p')
  done
  for w in context_switch context_swap context_switch_g0; do
    [ -n "${vals[$w.gmprt]:-}" ] || continue
    # shellcheck disable=SC2086  # the values are a space-separated list
    gm=$(median ${vals[$w.gmprt]})
    # shellcheck disable=SC2086
    bm=$(median ${vals[$w.boost]})
    echo "workload=$w impl=gmprt metric=ns_per_switch value=$gm unit=ns"
    echo "workload=$w impl=boost metric=ns_per_switch value=$bm unit=ns"
    echo "workload=$w ratio gmprt/boost=$(ratio "$gm" "$bm")"
  done
else
  echo "run.sh: $cs not built (Boost.Context missing?); skipping workload=context_switch" >&2
fi

exit $status
