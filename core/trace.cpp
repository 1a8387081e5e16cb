// trace.cpp -- names of states and wait reasons, as dumps, the deadlock
// report and the scheduler trace print them (Go's wording).
#include "sched.hpp"

namespace gmprt {

const char* wait_reason_string(WaitReason r) {
  switch (r) {
    case WaitReason::none: return "running";
    case WaitReason::park: return "park";
    case WaitReason::chan_receive: return "chan receive";
    case WaitReason::chan_send: return "chan send";
    case WaitReason::chan_receive_nil: return "chan receive (nil chan)";
    case WaitReason::chan_send_nil: return "chan send (nil chan)";
    case WaitReason::select: return "select";
    case WaitReason::select_no_cases: return "select (no cases)";
    case WaitReason::sleep: return "sleep";
    case WaitReason::sync_mutex_lock: return "sync.Mutex.Lock";
    case WaitReason::sync_rwmutex_rlock: return "sync.RWMutex.RLock";
    case WaitReason::sync_rwmutex_lock: return "sync.RWMutex.Lock";
    case WaitReason::sync_cond_wait: return "sync.Cond.Wait";
    case WaitReason::sync_waitgroup_wait: return "sync.WaitGroup.Wait";
    case WaitReason::semacquire: return "semacquire";
    case WaitReason::io_wait: return "IO wait";
    case WaitReason::preempted: return "preempted";
    case WaitReason::locked_thread: return "locked to thread";
  }
  return "unknown";
}

const char* gstatus_string(GStatus s) {
  switch (s) {
    case GStatus::idle: return "idle";
    case GStatus::runnable: return "runnable";
    case GStatus::running: return "running";
    case GStatus::syscall: return "syscall";
    case GStatus::waiting: return "waiting";
    case GStatus::dead: return "dead";
  }
  return "unknown";
}

}  // namespace gmprt
