#!/usr/bin/env python3
"""ctypes_example.py -- gmprt from Python with nothing but the standard
library's ctypes: goroutines whose bodies are Python functions, and a
channel the Python main thread reads.

    python3 ctypes_example.py [path/to/libgmprt.so.0]

Without an argument the library is looked up as the loader does
(ctypes.util.find_library("gmprt"), then "libgmprt.so.0"). Prints what it
does and exits 0 when every check passed (the test suite runs it).

Two rules keep Python sound on goroutines:
  * A goroutine may resume on another OS thread after any blocking call,
    but Python's per-thread state (the thread state ctypes makes for a
    callback) belongs to the thread it was made on. So a Python goroutine
    body locks its goroutine to its thread (gmp_lock_os_thread) for as long
    as it runs Python code that may block, and unlocks before returning.
  * ctypes releases the GIL around every foreign call (CDLL), so a Python
    thread blocked in gmp_chan_recv lets the goroutines' callbacks run.
"""
import ctypes
import ctypes.util
import sys

GMP_OK, GMP_ECLOSED, GMP_ETIMEDOUT = 0, -3, -5


def load(path=None):
    """Load libgmprt and declare the calls this example uses."""
    name = path or ctypes.util.find_library("gmprt") or "libgmprt.so.0"
    lib = ctypes.CDLL(name)
    chan_p = ctypes.c_void_p
    lib.gmp_go.argtypes = [GOFN, ctypes.c_void_p]
    lib.gmp_go.restype = ctypes.c_int
    lib.gmp_goid.restype = ctypes.c_uint64
    lib.gmp_maxprocs.argtypes = [ctypes.c_int]
    lib.gmp_chan_make.argtypes = [ctypes.POINTER(chan_p), ctypes.c_size_t, ctypes.c_size_t]
    lib.gmp_chan_send.argtypes = [chan_p, ctypes.c_void_p]
    lib.gmp_chan_recv.argtypes = [chan_p, ctypes.c_void_p]
    lib.gmp_chan_recv_timeout.argtypes = [chan_p, ctypes.c_void_p, ctypes.c_int64]
    lib.gmp_chan_close.argtypes = [chan_p]
    lib.gmp_chan_release.argtypes = [chan_p]
    lib.gmp_after.argtypes = [ctypes.c_int64, ctypes.POINTER(chan_p)]
    lib.gmp_now.restype = ctypes.c_int64
    lib.gmp_sleep.argtypes = [ctypes.c_int64]
    lib.gmp_runtime_version.restype = ctypes.c_char_p
    lib.gmp_strerror.argtypes = [ctypes.c_int]
    lib.gmp_strerror.restype = ctypes.c_char_p
    return lib


# gmp_fn: void (*)(void *arg). The CFUNCTYPE objects must stay alive while
# goroutines may call them: they are kept at module level.
GOFN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def main():
    lib = load(sys.argv[1] if len(sys.argv) > 1 else None)
    print("gmprt", lib.gmp_runtime_version().decode(), "with GOMAXPROCS", lib.gmp_maxprocs(0))

    results = ctypes.c_void_p()
    check(lib, lib.gmp_chan_make(ctypes.byref(results), 16, 0), "gmp_chan_make")

    class Result(ctypes.Structure):
        _fields_ = [("n", ctypes.c_int64), ("goid", ctypes.c_uint64)]

    @GOFN
    def square(arg):
        # The goroutine's body, in Python. Locked to its thread while it
        # runs (see the module's docstring), unlocked before it returns.
        lib.gmp_lock_os_thread()
        try:
            n = arg or 0
            lib.gmp_sleep(1000000 * (n % 3))  # blocks: parks the goroutine
            r = Result(n * n, lib.gmp_goid())
            check(lib, lib.gmp_chan_send(results, ctypes.byref(r)), "gmp_chan_send")
        finally:
            lib.gmp_unlock_os_thread()

    main.keep = square  # alive as long as the goroutines may run

    n = 20
    for i in range(1, n + 1):
        check(lib, lib.gmp_go(square, ctypes.c_void_p(i)), "gmp_go")

    total, ids = 0, set()
    for _ in range(n):
        r = Result()
        check(lib, lib.gmp_chan_recv(results, ctypes.byref(r)), "gmp_chan_recv")
        total += r.n
        ids.add(r.goid)
    want = sum(i * i for i in range(1, n + 1))
    assert total == want, (total, want)
    assert len(ids) == n and 0 not in ids, ids
    print("%d Python goroutines sent their squares: sum %d" % (n, total))

    # A channel made by the runtime's timer: time.After from Python.
    timeout = ctypes.c_void_p()
    check(lib, lib.gmp_after(5000000, ctypes.byref(timeout)), "gmp_after")
    t0 = lib.gmp_now()
    fired = ctypes.c_int64()
    check(lib, lib.gmp_chan_recv(timeout, ctypes.byref(fired)), "gmp_chan_recv (after)")
    assert fired.value >= t0, (fired.value, t0)
    lib.gmp_chan_release(timeout)
    print("gmp_after fired %.1f ms after the wait began" % ((fired.value - t0) / 1e6))

    # Errors are the C codes; gmp_strerror names them.
    empty = Result()
    rc = lib.gmp_chan_recv_timeout(results, ctypes.byref(empty), 1000000)
    assert rc == GMP_ETIMEDOUT, rc
    check(lib, lib.gmp_chan_close(results), "gmp_chan_close")
    rc = lib.gmp_chan_recv(results, ctypes.byref(empty))
    assert rc == GMP_ECLOSED, rc
    print("after close: %s" % lib.gmp_strerror(rc).decode())
    lib.gmp_chan_release(results)
    print("OK")


def check(lib, rc, what):
    """Raise on a negative GMP_E* code."""
    if rc != GMP_OK:
        raise RuntimeError("%s: %s (%d)" % (what, lib.gmp_strerror(rc).decode(), rc))


if __name__ == "__main__":
    main()
