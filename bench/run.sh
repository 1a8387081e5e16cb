#!/usr/bin/env bash
# run.sh BUILD_DIR -- build the Go twins and run every benchmark side by side.
#
# Takes the C benchmarks from BUILD_DIR/bench (built by `make bench` in a
# Release build), builds the Go programs of bench/go into the same place
# (offline: no module needs fetching; GOCACHE and GOPATH live under
# BUILD_DIR so this works as root on a fresh machine), then runs each
# workload RUNS times (default 5), gmprt and Go alternately, and prints, for
# each metric the workload reports, the median of each side and the ratio:
#   workload=NAME impl=gmprt metric=M value=X unit=U
#   workload=NAME impl=go metric=M value=X unit=U
#   workload=NAME ratio gmprt/go=R
# A workload that reports several metrics (timers) gets one such group per
# metric, its ratio line naming the metric: workload=NAME metric=M ratio
# gmprt/go=R. For a time a ratio below 1 means gmprt is faster; for a rate
# (a unit ending in /s, e.g. Mmsg/s) the ratio line says "higher is better",
# and a ratio above 1 means gmprt is faster.
# bench_context_switch (gmprt vs Boost.Context) is run RUNS times the same
# way when it was built. Last, bench/rust.sh compares skynet written with the
# Rust crate against skynet.c (workload=skynet_rust, ratio rust/c). Programs
# without a twin (preempt_point, idle) are run RUNS times alone and print the
# median of each metric, with no ratio. A benchmark that is missing or fails
# (a failed result check included) is reported on stderr and skipped; the
# exit status is then 1.
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

# The programs with a Go twin (bench/go/NAME and bench_NAME).
programs="spawn yield pingpong chanthroughput skynet select timers mutex sieve echo syscall"

# --- Go twins -----------------------------------------------------------------
gobin=""
if command -v go >/dev/null 2>&1; then
  gobin=$(command -v go)
elif [ -x /usr/lib/go/bin/go ]; then
  gobin=/usr/lib/go/bin/go
fi
if [ -z "$gobin" ]; then
  echo "run.sh: go not found (apt-get install golang-go); skipping the Go side" >&2
  status=1
else
  export GOCACHE=$build/bench/go-cache GOPATH=$build/bench/go-path
  export GOFLAGS='' GOPROXY=off GO111MODULE=on GOTOOLCHAIN=local GOTELEMETRY=off
  for w in $programs; do
    rm -f "$bindir/go_$w"
    if ! (cd "$here/go" && "$gobin" build -o "$bindir/go_$w" "./$w"); then
      echo "run.sh: go build of bench/go/$w failed" >&2
      status=1
    fi
  done
fi

# run1 WORKLOAD BINARY ARGS...: run once; print "METRIC VALUE UNIT" for each
# line of WORKLOAD with impl=gmprt or impl=go.
run1() {
  local name=$1 out
  shift
  if ! out=$(timeout "$limit" "$@" 2>/dev/null); then
    echo "run.sh: $* failed or timed out" >&2
    return 1
  fi
  printf '%s\n' "$out" | sed -n "s/^workload=$name impl=\\(gmprt\\|go\\) metric=\\([^ ]*\\) value=\\([0-9.eE+-]*\\) unit=\\([^ ]*\\).*/\\2 \\3 \\4/p"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "nan"}'; }

# pair WORKLOAD [PROGRAM [ARGS...]]: RUNS alternate runs of bench_PROGRAM
# and go_PROGRAM (PROGRAM defaults to WORKLOAD), both given ARGS; the lines
# of WORKLOAD they print are collected per metric.
pair() {
  local name=$1 prog=${2:-$1}
  shift
  [ $# -gt 0 ] && shift
  local c="$bindir/bench_$prog" g="$bindir/go_$prog" side bin m v u i out
  local -A vals=() units=()
  local metrics=()
  if [ ! -x "$c" ]; then
    echo "run.sh: $c not built; skipping workload=$name" >&2
    status=1
    return
  fi
  if [ ! -x "$g" ]; then
    echo "run.sh: $g not built; workload=$name runs without its Go twin" >&2
    status=1
  fi
  for ((i = 0; i < runs; i++)); do
    for side in gmprt go; do
      if [ $side = gmprt ]; then bin=$c; else bin=$g; fi
      [ -x "$bin" ] || continue
      if ! out=$(run1 "$name" "$bin" "$@"); then
        status=1
        continue
      fi
      if [ -z "$out" ]; then
        echo "run.sh: $bin printed no workload=$name line" >&2
        status=1
        continue
      fi
      while read -r m v u; do
        [ -n "${units[$m]:-}" ] || metrics+=("$m")
        units[$m]=$u
        vals[$m.$side]+="$v "
      done <<<"$out"
    done
  done
  local cm gm label note
  for m in "${metrics[@]}"; do
    cm="" gm=""
    # shellcheck disable=SC2086  # the values are a space-separated list
    [ -z "${vals[$m.gmprt]:-}" ] || cm=$(median ${vals[$m.gmprt]})
    # shellcheck disable=SC2086
    [ -z "${vals[$m.go]:-}" ] || gm=$(median ${vals[$m.go]})
    [ -z "$cm" ] || echo "workload=$name impl=gmprt metric=$m value=$cm unit=${units[$m]}"
    [ -z "$gm" ] || echo "workload=$name impl=go metric=$m value=$gm unit=${units[$m]}"
    if [ -n "$cm" ] && [ -n "$gm" ]; then
      label="workload=$name"
      [ ${#metrics[@]} -eq 1 ] || label="$label metric=$m"
      note=""
      case ${units[$m]} in */s) note=" (higher is better: above 1 means gmprt is faster)" ;; esac
      echo "$label ratio gmprt/go=$(ratio "$cm" "$gm")$note"
    fi
  done
}

pair spawn
pair yield
pair pingpong_p1 pingpong 1000000 1
pair pingpong_p2 pingpong 1000000 2
pair chanthroughput
pair skynet
pair select
pair timers
pair mutex
pair sieve
pair echo
pair syscall

# solo WORKLOAD [ARGS...]: RUNS runs of bench_WORKLOAD, which has no twin;
# the median of each metric, no ratio.
solo() {
  local name=$1 c="$bindir/bench_$1" m v u i out
  shift
  local -A vals=() units=()
  local metrics=()
  if [ ! -x "$c" ]; then
    echo "run.sh: $c not built; skipping workload=$name" >&2
    status=1
    return
  fi
  for ((i = 0; i < runs; i++)); do
    if ! out=$(run1 "$name" "$c" "$@"); then
      status=1
      continue
    fi
    if [ -z "$out" ]; then
      echo "run.sh: $c printed no workload=$name line" >&2
      status=1
      continue
    fi
    while read -r m v u; do
      [ -n "${units[$m]:-}" ] || metrics+=("$m")
      units[$m]=$u
      vals[$m]+="$v "
    done <<<"$out"
  done
  for m in "${metrics[@]}"; do
    # shellcheck disable=SC2086  # the values are a space-separated list
    echo "workload=$name impl=gmprt metric=$m value=$(median ${vals[$m]}) unit=${units[$m]}"
  done
}

solo preempt_point
solo idle

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

# --- The Rust binding against C: skynet (bench/rust.sh) ------------------------
"$here/rust.sh" "$build" || status=1

exit $status
