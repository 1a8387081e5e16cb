// evtrace.cpp -- GMP_DEBUG=trace=FILE: the scheduler's events as Chrome
// trace event JSON (the "JSON Array Format"), which chrome://tracing, the
// Catapult trace viewer and Perfetto (ui.perfetto.dev) load.
//
// The file:
//
//   [
//   {"name":"process_name","ph":"M","pid":1,"args":{"name":"threads (M)"}},
//   {"name":"G7 worker","ph":"B","ts":12.345,"pid":1,"tid":2,"args":{"goid":7}},
//   {"name":"park","ph":"i","s":"t","ts":13.001,"pid":1,"tid":2,"args":{"goid":7,"reason":"chan
//   receive"}},
//   {"name":"G7 worker","ph":"E","ts":13.002,"pid":1,"tid":2},
//   ...
//   {"name":"trace_end","ph":"i","s":"g","ts":99.5,"pid":1,"tid":0}
//   ]
//
// Tracks: pid 1 holds one track per M (tid = the M's id), pid 2 one per P
// (tid = the P's id), pid 3 one per plain thread that causes an event (tid
// = its kernel thread id). Events:
//   run     a slice ("G<id> <name>") on the M's track and on its P's track
//           while a goroutine runs; direct yields end one and begin the next
//   park    an instant on the M's track, with the wait reason
//   ready   an instant where the waker runs (args: the goroutine readied)
//   steal   an instant on the thief P's track (args: the victim P)
//   syscall a slice on the M's track between entersyscall and exitsyscall;
//           the P's slice ends at entersyscall (the P may go elsewhere)
//   stack   an instant when stack memory goes back to the kernel ("stack
//           unmap": an own-size stack; "stack release": a pooled stack's
//           pages beyond the warm ones)
// Timestamps are microseconds since the trace started (ns precision).
//
// Design. Off, the cost is the branch in evtrace.hpp. On, each thread
// appends binary events to a buffer of its own (found through a
// thread_local pointer), under the buffer's own lock, which only a flush
// contends for. A full buffer is formatted and written by its owner with
// the file lock held. Buffers are never freed while tracing: a thread that
// exits leaves its events behind for the final flush. evtrace_stop (at
// gmp_shutdown, or from an atexit handler when the program exits with the
// runtime running) flushes every buffer, writes the closing event and "]".
// A process that dies without either leaves a file without its closing
// bracket, which the viewers still load.
//
// Locks: a buffer's lock, then file_lock (never the reverse). Neither is
// held across a context switch; the hooks take no other runtime lock.
//
// Each thread's events reach the file in blocks, a buffer at a time, so a P
// track's events (written by whichever M held the P) are not in timestamp
// order in the file; the format does not require it, and viewers sort.
//
// Invariants: an event's "B" and "E" on one track nest, because every run
// slice is opened and closed by the M that runs it (execute, or the direct
// yield in gosched_direct), and a syscall slice opens and closes inside
// the run slice on the same M. A P slice is closed at entersyscall and
// reopened only when exitsyscall retakes a P at once; otherwise execute
// opens a fresh one.
#include "evtrace.hpp"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>

#include "env.hpp"
#include "fatal.hpp"
#include "sched.hpp"

namespace gmprt {

std::atomic<bool> evtrace_on{false};

namespace {

constexpr uint32_t kBufEvents = 1024;

enum class Kind : uint8_t { begin, end, park, ready, steal, syscall_begin, syscall_end, stack };

struct Event {
  int64_t ts;  // nanotime()
  Kind kind;
  int8_t pid;  // 1: M track, 2: P track, 3: plain thread track
  int64_t tid;
  uint64_t goid;        // run, park, ready
  int64_t arg;          // park: WaitReason; steal: victim P; stack: bytes
  const char* what;     // stack: the static label
  char name[kNameMax];  // run begin: the goroutine's name (copied)
};

struct Buf {
  Lock lock;
  Buf* next = nullptr;   // all_bufs link (guarded by file_lock)
  uint32_t n = 0;        // guarded by lock
  int32_t open_p = -1;   // the P whose run slice this thread has open (owner only)
  G* running = nullptr;  // the goroutine of this M's open run slice (owner only)
  Event ev[kBufEvents];
};

Lock file_lock;
int trace_fd = -1;         // guarded by file_lock
Buf* all_bufs = nullptr;   // guarded by file_lock
int64_t trace_start = 0;   // nanotime() at evtrace_start; constant while tracing
bool atexit_done = false;  // guarded by file_lock
__attribute__((tls_model("initial-exec"))) thread_local Buf* tls_buf = nullptr;

// Text: a growable-free formatter into a caller's buffer (the JSON of
// kBufEvents events fits in a few hundred KB; we format one event at a time).
struct Text {
  char buf[512];
  size_t n = 0;
  void str(const char* s) {
    for (; *s && n < sizeof buf; s++) buf[n++] = *s;
  }
  void json_str(const char* s, size_t max) {  // escaped, without the quotes
    for (size_t i = 0; i < max && s[i] && n + 6 < sizeof buf; i++) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        buf[n++] = '\\';
        buf[n++] = char(c);
      } else if (c < 0x20) {
        static const char hex[] = "0123456789abcdef";
        str("\\u00");
        buf[n++] = hex[c >> 4];
        buf[n++] = hex[c & 15];
      } else {
        buf[n++] = char(c);
      }
    }
  }
  void dec(int64_t v) {
    if (v < 0) {
      str("-");
      v = -v;
    }
    char tmp[20];
    size_t k = 0;
    do {
      tmp[k++] = char('0' + v % 10);
      v /= 10;
    } while (v);
    while (k && n < sizeof buf) buf[n++] = tmp[--k];
  }
  void us(int64_t ns) {  // microseconds with three decimals
    dec(ns / 1000);
    str(".");
    int64_t frac = ns % 1000;
    buf[n++] = char('0' + frac / 100);
    buf[n++] = char('0' + frac / 10 % 10);
    buf[n++] = char('0' + frac % 10);
  }
};

void write_all(const char* p, size_t n) {  // called with file_lock held
  while (n > 0 && trace_fd >= 0) {
    ssize_t w = write(trace_fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= size_t(w);
  }
}

void head(Text& t, const char* name, const char* ph, const Event& e) {
  t.str("{\"name\":\"");
  t.str(name);
  t.str("\",\"ph\":\"");
  t.str(ph);
  t.str("\",");
  if (ph[0] == 'i') t.str("\"s\":\"t\",");
  t.str("\"ts\":");
  t.us(e.ts - trace_start);
  t.str(",\"pid\":");
  t.dec(e.pid);
  t.str(",\"tid\":");
  t.dec(e.tid);
}

void format(Text& t, const Event& e) {
  switch (e.kind) {
    case Kind::begin:
    case Kind::end: {
      char name[64];
      Text nt;
      nt.str("G");
      nt.dec(int64_t(e.goid));
      if (e.name[0]) {
        nt.str(" ");
        nt.json_str(e.name, kNameMax);
      }
      size_t k = nt.n < sizeof name - 1 ? nt.n : sizeof name - 1;
      memcpy(name, nt.buf, k);
      name[k] = 0;
      head(t, name, e.kind == Kind::begin ? "B" : "E", e);
      t.str(",\"args\":{\"goid\":");
      t.dec(int64_t(e.goid));
      t.str("}}");
      break;
    }
    case Kind::park:
      head(t, "park", "i", e);
      t.str(",\"args\":{\"goid\":");
      t.dec(int64_t(e.goid));
      t.str(",\"reason\":\"");
      t.json_str(wait_reason_string(WaitReason(e.arg)), 64);
      t.str("\"}}");
      break;
    case Kind::ready:
      head(t, "ready", "i", e);
      t.str(",\"args\":{\"goid\":");
      t.dec(int64_t(e.goid));
      t.str("}}");
      break;
    case Kind::steal:
      head(t, "steal", "i", e);
      t.str(",\"args\":{\"victim\":");
      t.dec(e.arg);
      t.str("}}");
      break;
    case Kind::syscall_begin:
    case Kind::syscall_end:
      head(t, "syscall", e.kind == Kind::syscall_begin ? "B" : "E", e);
      t.str(",\"args\":{\"goid\":");
      t.dec(int64_t(e.goid));
      t.str("}}");
      break;
    case Kind::stack:
      head(t, e.what, "i", e);
      t.str(",\"args\":{\"bytes\":");
      t.dec(e.arg);
      t.str("}}");
      break;
  }
  t.str(",\n");
}

// flush_locked: write b's events. Called with b->lock and file_lock held.
void flush_locked(Buf* b) {
  char out[16384];
  size_t n = 0;
  for (uint32_t i = 0; i < b->n; i++) {
    Text t;
    format(t, b->ev[i]);
    if (n + t.n > sizeof out) {
      write_all(out, n);
      n = 0;
    }
    memcpy(out + n, t.buf, t.n);
    n += t.n;
  }
  write_all(out, n);
  b->n = 0;
}

// my_buf: the calling thread's buffer, made and registered on first use.
// Null if memory cannot be had (the event is dropped).
Buf* my_buf() {
  if (tls_buf) return tls_buf;
  Buf* b = static_cast<Buf*>(calloc(1, sizeof(Buf)));
  if (!b) return nullptr;
  new (b) Buf();
  LockGuard guard(file_lock);
  b->next = all_bufs;
  all_bufs = b;
  tls_buf = b;
  return b;
}

// emit: append one event on the calling thread's track (pid 0 = its own
// M or plain-thread track).
Event* begin_event(Buf* b, Kind kind, int8_t pid, int64_t tid) {
  b->lock.lock();
  if (b->n == kBufEvents) {
    LockGuard guard(file_lock);
    flush_locked(b);
  }
  Event* e = &b->ev[b->n++];
  e->ts = nanotime();
  e->kind = kind;
  e->what = nullptr;
  e->goid = 0;
  e->arg = 0;
  e->name[0] = 0;
  if (pid == 0) {
    M* m = current_m();
    if (m) {
      pid = 1;
      tid = m->id;
    } else {
      pid = 3;
      tid = int64_t(syscall(SYS_gettid));
    }
  }
  e->pid = pid;
  e->tid = tid;
  return e;
}

void end_event(Buf* b) { b->lock.unlock(); }

void run_slice(Buf* b, Kind kind, int8_t pid, int64_t tid, G* g) {
  Event* e = begin_event(b, kind, pid, tid);
  e->goid = g ? g->goid : 0;
  if (g) memcpy(e->name, g->name, kNameMax);
  end_event(b);
}

void write_metadata_locked() {
  static const char meta[] =
      "[\n"
      "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"threads (M)\"}},\n"
      "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":2,\"args\":{\"name\":\"processors (P)\"}},\n"
      "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":3,\"args\":{\"name\":\"plain threads\"}},\n";
  write_all(meta, sizeof meta - 1);
}

void at_exit() { evtrace_stop(); }

}  // namespace

void evtrace_run_begin(M* m, G* g) {
  Buf* b = my_buf();
  if (!b) return;
  b->running = g;  // so that the "E" carries the "B"'s name
  run_slice(b, Kind::begin, 1, m->id, g);
  if (m->p) {
    b->open_p = m->p->id;
    run_slice(b, Kind::begin, 2, m->p->id, g);
  }
}

void evtrace_run_end(M* m) {
  Buf* b = my_buf();
  if (!b) return;
  G* g = b->running;
  b->running = nullptr;
  run_slice(b, Kind::end, 1, m->id, g);
  if (b->open_p >= 0) {
    run_slice(b, Kind::end, 2, b->open_p, g);
    b->open_p = -1;
  }
}

void evtrace_park_id(uint64_t goid, WaitReason reason) {
  Buf* b = my_buf();
  if (!b) return;
  Event* e = begin_event(b, Kind::park, 0, 0);
  e->goid = goid;
  e->arg = int64_t(reason);
  end_event(b);
}

void evtrace_ready(G* g) {
  Buf* b = my_buf();
  if (!b) return;
  Event* e = begin_event(b, Kind::ready, 0, 0);
  e->goid = g->goid;
  end_event(b);
}

void evtrace_steal(P* thief, P* victim) {
  Buf* b = my_buf();
  if (!b) return;
  Event* e = begin_event(b, Kind::steal, 2, thief->id);
  e->arg = victim->id;
  end_event(b);
}

void evtrace_syscall_enter(M* m) {
  Buf* b = my_buf();
  if (!b) return;
  G* g = m->curg;
  if (b->open_p >= 0) {
    run_slice(b, Kind::end, 2, b->open_p, g);
    b->open_p = -1;
  }
  Event* e = begin_event(b, Kind::syscall_begin, 1, m->id);
  e->goid = g ? g->goid : 0;
  end_event(b);
}

void evtrace_syscall_exit(M* m, G* g, P* p) {
  Buf* b = my_buf();
  if (!b) return;
  Event* e = begin_event(b, Kind::syscall_end, 1, m->id);
  e->goid = g->goid;
  end_event(b);
  if (p) {
    b->open_p = p->id;
    run_slice(b, Kind::begin, 2, p->id, g);
  }
}

void evtrace_stack(const char* what, size_t bytes) {
  Buf* b = my_buf();
  if (!b) return;
  Event* e = begin_event(b, Kind::stack, 0, 0);
  e->what = what;
  e->arg = int64_t(bytes);
  end_event(b);
}

void evtrace_start() {
  if (!debug_vars.trace_file[0]) return;
  int fd = open(debug_vars.trace_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    char msg[320];
    Text t;
    t.str("gmp: GMP_DEBUG trace: cannot open ");
    t.json_str(debug_vars.trace_file, sizeof debug_vars.trace_file);
    t.str("\n");
    memcpy(msg, t.buf, t.n);
    (void)!write(2, msg, t.n);
    return;
  }
  LockGuard guard(file_lock);
  trace_fd = fd;
  trace_start = nanotime();
  write_metadata_locked();
  if (!atexit_done) {
    atexit_done = true;
    atexit(at_exit);
  }
  // Relaxed: no M exists yet (see evtrace_enabled).
  evtrace_on.store(true, std::memory_order_relaxed);
}

void evtrace_stop() {
  LockGuard guard(file_lock);
  if (trace_fd < 0) return;
  // Relaxed: shutdown has stopped every M; at exit, threads still running
  // may emit a few more events into their buffers, which are then lost.
  evtrace_on.store(false, std::memory_order_relaxed);
  for (Buf* b = all_bufs; b; b = b->next) {
    // At exit another thread may hold its buffer's lock for ever (it was
    // stopped mid-event); skip such a buffer rather than hang.
    bool locked = false;
    for (int i = 0; i < 1000 && !(locked = b->lock.try_lock()); i++) sched_yield();
    if (!locked) continue;
    flush_locked(b);
    b->lock.unlock();
  }
  Text t;
  t.str("{\"name\":\"trace_end\",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
  t.us(nanotime() - trace_start);
  t.str(",\"pid\":1,\"tid\":0}\n]\n");
  write_all(t.buf, t.n);
  close(trace_fd);
  trace_fd = -1;
}

}  // namespace gmprt
