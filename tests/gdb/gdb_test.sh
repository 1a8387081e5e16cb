#!/usr/bin/env bash
# gdb_test.sh GDB SCRIPT PROGRAM -- tools/gdb/gmprt-gdb.py against a live
# process and a core file of bindings/c/examples/debugging (mode "abort":
# four named goroutines blocked, then abort() on the main goroutine).
#
# Checks, live and on the core: `info goroutines` lists each goroutine with
# its id, state or wait reason, name and where it waits; `goroutine 5 bt`
# shows the mutex wait down to the goroutine's function. The core is the
# kernel's when core_pattern writes a file, else gdb's gcore (which cannot
# read stacks behind MADV_GUARD_INSTALL guards on recent kernels: the core
# backtrace part is then skipped with a message). Exit 77 (skip) only when
# gdb cannot run a program here (not installed, ptrace forbidden).
set -uo pipefail

gdb=$1 script=$2 prog=$3
fail=0
check() {  # check NAME TEXT REGEX
  if grep -Eq -- "$3" <<<"$2"; then
    echo "ok: $1"
  else
    echo "FAIL: $1: no line matching /$3/ in:"
    sed 's/^/    /' <<<"$2"
    fail=1
  fi
}

if ! command -v "$gdb" >/dev/null 2>&1; then
  echo "SKIP: gdb not found ($gdb)"
  exit 77
fi
probe=$("$gdb" -nx -q -batch -ex run --args /bin/true 2>&1)
if ! grep -q "exited normally" <<<"$probe"; then
  echo "SKIP: gdb cannot run a program here (ptrace?):"
  sed 's/^/    /' <<<"$probe"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gdbrun() { "$gdb" -nx -q -batch -x "$script" "$@" 2>&1; }

goroutine_checks() {  # goroutine_checks WHAT OUTPUT
  check "$1: info goroutines: main goroutine running" "$2" '^\* 1 \[running\] on thread M[0-9]+'
  check "$1: info goroutines: worker" "$2" '^  2 \[chan receive\] worker worker at .*debugging\.c:[0-9]+'
  check "$1: info goroutines: second worker" "$2" '^  3 \[chan receive\] worker worker at .*debugging\.c:[0-9]+'
  check "$1: info goroutines: sleeper" "$2" '^  4 \[sleep\] sleeper [^ ]+'
  check "$1: info goroutines: locker" "$2" '^  5 \[sync\.Mutex\.Lock\] locker locker at .*debugging\.c:[0-9]+'
}
bt_checks() {  # bt_checks WHAT OUTPUT
  check "$1: goroutine 5 bt: the semaphore wait" "$2" '^#[0-9]+ .*gmprt::semacquire'
  check "$1: goroutine 5 bt: the goroutine's function" "$2" '^#[0-9]+ .* in locker .*debugging\.c:[0-9]+'
  check "$1: goroutine 1 bt: refused, it is running" "$2" 'goroutine 1 is running'
}

# --- Live: stop at the abort, inspect, write a core with gcore.
live=$(cd "$tmp" && gdbrun -ex run -ex 'info goroutines' -ex 'goroutine 5 bt' \
  -ex 'goroutine 1 bt' -ex 'bt 1' -ex "gcore $tmp/gcore.core" --args "$prog" abort)
goroutine_checks live "$live"
bt_checks live "$live"
check "live: gdb's own backtrace through gmp_mutex_lock" "$live" '^#[0-9]+ .* in gmp_mutex_lock '
check "live: the thread's registers are restored" "$live" '^#0 .*(raise|kill|abort)'

# --- A core file: the kernel's if it writes one here, else gcore's.
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo '|')
core=""
if [[ $pattern != \|* ]]; then
  { (cd "$tmp" && ulimit -c unlimited && exec "$prog" abort) >/dev/null 2>&1; } 2>/dev/null
  core=$(find "$tmp" -maxdepth 1 -name 'core*' ! -name gcore.core -print -quit)
  [[ -z $core && $pattern == /* ]] && echo "note: kernel core goes to $pattern; using gcore's"
fi
kind=kernel
if [[ -z $core ]]; then
  core=$tmp/gcore.core
  kind=gcore
fi
if [[ ! -s $core ]]; then
  echo "FAIL: no core file"
  exit 1
fi
post=$(gdbrun -ex 'info goroutines' -ex 'goroutine 5 bt' -ex 'goroutine 1 bt' "$prog" "$core")
goroutine_checks "core ($kind)" "$post"
if [[ $kind == gcore ]] && ! grep -q ' in locker ' <<<"$post"; then
  echo "SKIP (part): gcore could not save the goroutine stacks (guard pages); core backtrace unchecked"
else
  bt_checks "core ($kind)" "$post"
fi
exit $fail
