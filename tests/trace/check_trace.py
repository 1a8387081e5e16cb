#!/usr/bin/env python3
"""check_trace.py FILE -- the scheduler trace (GMP_DEBUG=trace=FILE) of
tests/api/evtrace_test.cpp's EvtraceProgram is valid Chrome trace event JSON
and holds the events that program must produce.

Checks: the file parses as JSON (an array of events); the three process
names; on every track, taken in time order, "B" and "E" events nest and
every slice is closed; run slices of goroutines on M tracks
(pid 1) and P tracks (pid 2); park with the reason "chan receive"; ready;
steal on a P track; a syscall slice inside a run slice; a "stack unmap" of
the 64 KiB goroutine's stack; trace_end last. Prints what it found; exit 1
on any failure."""

import json
import sys


def main(path):
    with open(path) as f:
        events = json.load(f)
    failures = []

    def expect(cond, what):
        print(("ok: " if cond else "FAIL: ") + what)
        if not cond:
            failures.append(what)

    expect(isinstance(events, list) and len(events) > 0, "a non-empty JSON array")
    names = {(e["pid"], e["args"]["name"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "process_name"}
    expect(names == {(1, "threads (M)"), (2, "processors (P)"), (3, "plain threads")},
           "process names for M, P and plain-thread tracks")

    # Each thread writes its events a buffer at a time, so a track's events
    # need not be in timestamp order in the file (the format allows that;
    # viewers sort): sort each track by time, keeping file order for ties.
    tracks = {}
    for e in events:
        if e.get("ph") == "M":
            continue
        for key in ("name", "ph", "ts", "pid", "tid"):
            if key not in e:
                failures.append("event without %s: %r" % (key, e))
        tracks.setdefault((e["pid"], e["tid"]), []).append(e)
    stacks, unbalanced = {}, []
    syscall_in_run = False
    for track, evs in tracks.items():
        for e in sorted(evs, key=lambda x: x["ts"]):
            st = stacks.setdefault(track, [])
            if e["ph"] == "B":
                if e["name"] == "syscall" and st and st[-1].startswith("G"):
                    syscall_in_run = True
                st.append(e["name"])
            elif e["ph"] == "E":
                if not st or st[-1] != e["name"]:
                    unbalanced.append(e)
                else:
                    st.pop()
    expect(not unbalanced, "every E closes the B on its track (%d bad)" % len(unbalanced))
    open_slices = {t: s for t, s in stacks.items() if s}
    expect(not open_slices, "no slice left open: %r" % open_slices)

    def count(pred):
        return sum(1 for e in events if pred(e))

    runs_m = count(lambda e: e["ph"] == "B" and e["pid"] == 1 and e["name"].startswith("G"))
    runs_p = count(lambda e: e["ph"] == "B" and e["pid"] == 2 and e["name"].startswith("G"))
    expect(runs_m >= 5, "run slices on M tracks (%d)" % runs_m)
    expect(runs_p >= 5, "run slices on P tracks (%d)" % runs_p)
    expect(count(lambda e: e["name"].startswith("G1 ") or e["name"] == "G1") > 0,
           "the main goroutine G1 runs")
    expect(count(lambda e: e["name"].startswith("G") and "pinger" in e["name"]) > 0,
           "a named goroutine's slices carry its name")
    expect(count(lambda e: e["name"] == "park" and e["args"]["reason"] == "chan receive") >= 1,
           "park with reason chan receive")
    expect(count(lambda e: e["name"] == "ready" and e["args"]["goid"] >= 1) >= 1, "ready")
    expect(count(lambda e: e["name"] == "steal" and e["pid"] == 2) >= 1, "steal on a P track")
    expect(count(lambda e: e["name"] == "syscall" and e["ph"] == "B") >= 1, "syscall slice")
    expect(syscall_in_run, "the syscall slice nests inside a run slice")
    expect(count(lambda e: e["name"] == "stack unmap" and e["args"]["bytes"] >= 65536) >= 1,
           "stack unmap of the 64 KiB stack")
    expect(events[-1]["name"] == "trace_end", "trace_end last")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
