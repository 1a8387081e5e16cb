// sysmon.hpp -- the monitor (Go's sysmon): a thread of its own, without a
// P, that keeps the scheduler honest. See sysmon.cpp.
#pragma once

namespace gmprt {

// sysmon_start: start the monitor thread (runtime start-up).
void sysmon_start();

// sysmon_stop: stop and join it (shutdown, before the Ms are stopped).
void sysmon_stop();

// sysmon_syscall_hint: a P with goroutines waiting entered a system call:
// wake the monitor if it is in a back-off sleep longer than its shortest.
// Cheap when it is not. Any thread.
void sysmon_syscall_hint();

// sysmon_wake_locked: a P is going busy: wake the monitor if it is parked
// (every P was idle). Called with sched.lock held; cheap when not parked.
void sysmon_wake_locked();

}  // namespace gmprt
