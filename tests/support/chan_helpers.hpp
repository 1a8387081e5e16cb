// chan_helpers.hpp -- helpers shared by the channel, select and time tests
// (tests/api/chan_test.cpp, select_test.cpp, time_test.cpp,
// chan_deadlock_test.cpp). Everything goes through <gmprt.h> only.
//
//   ChanRef            a counted reference to a channel: copying retains,
//                      destruction releases (so goroutines can hold their own)
//   make_chan(e, c)    gmp_chan_make into a ChanRef (a failed make fails the test)
//   send_i64 / recv_i64  typed send and receive of int64_t elements
//   Group              start bodies on goroutines or plain threads and wait
//                      (bounded) for all of them to return
//   kMs, Stopwatch     durations; elapsed time on gmp_now and on the
//                      steady clock, for "took at least" checks only
#pragma once

#include <gmprt.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "runtime_fixture.hpp"
#include "wait_until.hpp"

namespace gmprt_test {

inline constexpr int64_t kUs = 1000;
inline constexpr int64_t kMs = 1000 * kUs;
inline constexpr int64_t kSec = 1000 * kMs;

// ChanRef: one reference to a channel. Copies take a reference of their
// own (gmp_chan_retain), destruction drops it (gmp_chan_release).
class ChanRef {
 public:
  ChanRef() = default;
  // adopt: take over a reference the caller already holds.
  static ChanRef adopt(gmp_chan_t* c) {
    ChanRef r;
    r.c_ = c;
    return r;
  }
  ChanRef(const ChanRef& o) : c_(o.c_) { gmp_chan_retain(c_); }
  ChanRef(ChanRef&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  ChanRef& operator=(ChanRef o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~ChanRef() { gmp_chan_release(c_); }

  gmp_chan_t* get() const { return c_; }
  operator gmp_chan_t*() const { return c_; }  // NOLINT: used as a plain handle
  // release: give up this reference now (returns the handle, no longer owned).
  gmp_chan_t* release() { return std::exchange(c_, nullptr); }

 private:
  gmp_chan_t* c_ = nullptr;
};

// make_chan: a new channel; a failed gmp_chan_make fails the test (and
// gives an empty ChanRef, on which every call returns GMP_EINVAL).
inline ChanRef make_chan(size_t elem_size, size_t capacity) {
  gmp_chan_t* c = nullptr;
  int rc = gmp_chan_make(&c, elem_size, capacity);
  EXPECT_EQ(rc, GMP_OK) << "gmp_chan_make(" << elem_size << ", " << capacity << ")";
  if (rc != GMP_OK) c = nullptr;
  return ChanRef::adopt(c);
}

inline int send_i64(gmp_chan_t* c, int64_t v) { return gmp_chan_send(c, &v); }

struct RecvResult {
  int rc;
  int64_t v;
};

// recv_i64: receive one int64_t; v starts as a pattern a closed receive
// must overwrite with zero.
inline RecvResult recv_i64(gmp_chan_t* c) {
  RecvResult r{0, INT64_C(0x5a5a5a5a5a5a5a5a)};
  r.rc = gmp_chan_recv(c, &r.v);
  return r;
}

// Stopwatch: elapsed time since construction, on gmp_now and (as a cross
// check that does not trust gmp_now) on the steady clock. Only ever used
// for lower bounds ("slept at least") and for upper bounds of seconds.
class Stopwatch {
 public:
  Stopwatch() : t0_(gmp_now()), s0_(std::chrono::steady_clock::now()) {}
  int64_t start() const { return t0_; }
  int64_t ns() const { return gmp_now() - t0_; }
  int64_t steady_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                s0_)
        .count();
  }
  // at_least: both clocks say at least d ns have passed.
  bool at_least(int64_t d) const { return ns() >= d && steady_ns() >= d; }

 private:
  int64_t t0_;
  std::chrono::steady_clock::time_point s0_;
};

// Group: bodies started on goroutines (go) or plain threads (thread);
// wait() waits (bounded) until all have returned. Bodies should capture
// shared state by value (shared_ptr) or outlive a failed wait otherwise.
class Group {
 public:
  Group() = default;
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  ~Group() {
    const bool done = pending_->load() == 0;
    for (auto& t : threads_) {
      if (!t.joinable()) continue;
      if (done) {
        t.join();
      } else {
        t.detach();  // a failed test: do not hang on a thread that is stuck
      }
    }
  }

  // go: run body on a new goroutine; false if gmp_go failed.
  bool go(std::function<void()> body) {
    (*pending_)++;
    auto pending = pending_;
    int rc = gmprt_test::go([body = std::move(body), pending] {
      body();
      (*pending)--;
    });
    if (rc != GMP_OK) (*pending_)--;
    EXPECT_EQ(rc, GMP_OK);
    return rc == GMP_OK;
  }

  // thread: run body on a new plain thread.
  void thread(std::function<void()> body) {
    (*pending_)++;
    auto pending = pending_;
    threads_.emplace_back([body = std::move(body), pending] {
      body();
      (*pending)--;
    });
  }

  // spawn: a goroutine when on_thread is false, else a plain thread.
  void spawn(bool on_thread, std::function<void()> body) {
    if (on_thread) {
      thread(std::move(body));
    } else {
      go(std::move(body));
    }
  }

  int pending() const { return pending_->load(); }

  // wait: true once every body has returned (threads are joined then).
  bool wait(std::chrono::milliseconds timeout = kLiveness) {
    if (!wait_until([&] { return pending_->load() == 0; }, timeout)) return false;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
    return true;
  }

 private:
  std::shared_ptr<std::atomic<int>> pending_ = std::make_shared<std::atomic<int>>(0);
  std::vector<std::thread> threads_;
};

// no_goroutines_left: wait (bounded) until no user goroutine is alive; the
// tests share one runtime per process and must leave none behind.
inline bool no_goroutines_left() {
  return wait_until([] { return gmp_num_goroutine() == 0; }, std::chrono::milliseconds(10000));
}

}  // namespace gmprt_test
