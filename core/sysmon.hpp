// sysmon.hpp -- the monitor (Go's sysmon): a thread of its own, without a
// P, that keeps the scheduler honest. See sysmon.cpp.
#pragma once

namespace gmprt {

// sysmon_start: start the monitor thread (runtime start-up).
void sysmon_start();

// sysmon_stop: stop and join it (shutdown, before the Ms are stopped).
void sysmon_stop();

// sysmon_wake_locked: a P is going busy: wake the monitor if it is parked
// (every P was idle). Called with sched.lock held; cheap when not parked.
void sysmon_wake_locked();

}  // namespace gmprt
