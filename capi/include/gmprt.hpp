/*
 * gmprt.hpp -- optional C++17 conveniences over <gmprt.h>: header-only, no
 * library code of its own.
 *
 *   gmprt::go(callable)             a goroutine running any callable
 *   gmprt::chan<T>                  a channel of a trivially copyable T;
 *                                   copy = gmp_chan_retain, destructor =
 *                                   gmp_chan_release
 *   gmprt::mutex                    a BasicLockable gmp_mutex_t (works with
 *                                   std::lock_guard / std::unique_lock)
 *   gmprt::waitgroup, gmprt::once   Go's WaitGroup and Once
 *   gmprt::timer, gmprt::ticker     AfterFunc and Ticker, freed by their
 *                                   destructors
 *   gmprt::after, gmprt::sleep_for  time.After and time.Sleep, std::chrono
 *   gmprt::os_thread_lock           RAII LockOSThread
 *
 * Errors stay return codes (GMP_OK or a GMP_E* value), as in the C API: no
 * exception is thrown by this header except std::bad_alloc from new.
 *
 * Rules that the C API states and this header keeps:
 *  - A callable given to go() or timer runs on a goroutine, on any of the
 *    runtime's threads, and must not let an exception escape: the
 *    trampolines are noexcept, so an escaping exception calls
 *    std::terminate (it never unwinds through the runtime).
 *  - A goroutine may resume on another thread after any blocking call, so
 *    thread_local values and std::mutex (which must be unlocked by its
 *    locking thread) must not be held across one; gmprt::mutex may.
 *  - The sync objects never move once constructed (not copyable, not
 *    movable): waiters are queued by address.
 *
 * Everything is declared in the inline namespace gmprt::hpp_v0, so that
 * these inline functions never share a mangled name with the library's
 * internal C++ (also namespace gmprt) in a program that links libgmprt.a.
 */
#ifndef GMPRT_HPP
#define GMPRT_HPP

#include <gmprt.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace gmprt {
inline namespace hpp_v0 {

namespace detail {

// to_ns: a std::chrono duration as the C API's int64_t nanoseconds.
template <class Rep, class Period>
int64_t to_ns(std::chrono::duration<Rep, Period> d) {
  return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

// run_boxed: the trampoline of go(): owns and runs one heap callable.
template <class F>
void run_boxed(void* arg) noexcept {
  std::unique_ptr<F> f(static_cast<F*>(arg));
  (*f)();
}

}  // namespace detail

// go: start a goroutine running f (copied or moved to the heap). Returns
// GMP_OK, or GMP_ENOMEM (f is then destroyed without running).
template <class F>
int go(F&& f) {
  using Fn = std::decay_t<F>;
  auto* boxed = new Fn(std::forward<F>(f));
  int rc = gmp_go(&detail::run_boxed<Fn>, boxed);
  if (rc != GMP_OK) delete boxed;
  return rc;
}

// chan<T>: a reference to a gmprt channel of T. T must be trivially
// copyable: the channel copies bytes, and C and other languages may be on
// the other end. A default-constructed chan is empty (Go's nil channel:
// in a select it is never ready; its calls give GMP_EINVAL).
template <class T>
class chan {
  static_assert(std::is_trivially_copyable<T>::value,
                "gmprt::chan<T> carries bytes: T must be trivially copyable");

 public:
  chan() noexcept = default;

  // make: a new channel with the given capacity (0: unbuffered); GMP_OK or
  // the code of gmp_chan_make.
  static int make(chan& out, size_t capacity = 0) noexcept {
    gmp_chan_t* c = nullptr;
    int rc = gmp_chan_make(&c, sizeof(T), capacity);
    if (rc == GMP_OK) out = chan(c);
    return rc;
  }

  // adopt: take over one reference the caller owns (for example from
  // gmp_after, or one that C code retained for us).
  static chan adopt(gmp_chan_t* c) noexcept { return chan(c); }

  chan(const chan& o) noexcept : c_(o.c_) { gmp_chan_retain(c_); }
  chan(chan&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  chan& operator=(chan o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~chan() { gmp_chan_release(c_); }

  // The C handle, still owned by this object.
  gmp_chan_t* get() const noexcept { return c_; }
  explicit operator bool() const noexcept { return c_ != nullptr; }

  int send(const T& v) const noexcept { return gmp_chan_send(c_, &v); }
  int try_send(const T& v) const noexcept { return gmp_chan_try_send(c_, &v); }
  template <class Rep, class Period>
  int send_for(const T& v, std::chrono::duration<Rep, Period> d) const noexcept {
    return gmp_chan_send_timeout(c_, &v, detail::to_ns(d));
  }
  // recv: GMP_OK with the value in v, or GMP_ECLOSED (v zero-filled).
  int recv(T& v) const noexcept { return gmp_chan_recv(c_, &v); }
  int try_recv(T& v) const noexcept { return gmp_chan_try_recv(c_, &v); }
  template <class Rep, class Period>
  int recv_for(T& v, std::chrono::duration<Rep, Period> d) const noexcept {
    return gmp_chan_recv_timeout(c_, &v, detail::to_ns(d));
  }
  int close() const noexcept { return gmp_chan_close(c_); }
  size_t len() const noexcept { return gmp_chan_len(c_); }
  size_t cap() const noexcept { return gmp_chan_cap(c_); }

 private:
  explicit chan(gmp_chan_t* c) noexcept : c_(c) {}
  gmp_chan_t* c_ = nullptr;
};

// select cases for gmp_select, built from chans.
template <class T>
gmp_select_case_t recv_case(const chan<T>& c, T* into) noexcept {
  return gmp_select_case_t{c.get(), GMP_RECV, into, 0};
}
template <class T>
gmp_select_case_t send_case(const chan<T>& c, const T* value) noexcept {
  return gmp_select_case_t{c.get(), GMP_SEND, const_cast<T*>(value), 0};
}

// Sync objects: the zero value of the C type is ready; none may move.
class mutex {
 public:
  mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;
  void lock() noexcept { gmp_mutex_lock(&m_); }
  bool try_lock() noexcept { return gmp_mutex_trylock(&m_) == GMP_OK; }
  void unlock() noexcept { gmp_mutex_unlock(&m_); }
  gmp_mutex_t* native_handle() noexcept { return &m_; }

 private:
  gmp_mutex_t m_{};
};

class waitgroup {
 public:
  waitgroup() noexcept = default;
  waitgroup(const waitgroup&) = delete;
  waitgroup& operator=(const waitgroup&) = delete;
  int add(int64_t delta) noexcept { return gmp_waitgroup_add(&wg_, delta); }
  int done() noexcept { return gmp_waitgroup_done(&wg_); }
  void wait() noexcept { gmp_waitgroup_wait(&wg_); }

 private:
  gmp_waitgroup_t wg_{};
};

class once {
 public:
  once() noexcept = default;
  once(const once&) = delete;
  once& operator=(const once&) = delete;
  // call: run f if no call has yet, or wait for the call that does.
  template <class F>
  void call(F&& f) noexcept {
    using Fn = std::remove_reference_t<F>;
    gmp_once_do(
        &o_, [](void* arg) noexcept { (*static_cast<Fn*>(arg))(); }, &f);
  }

 private:
  gmp_once_t o_{};
};

// os_thread_lock: LockOSThread for the guard's lifetime (nests).
class os_thread_lock {
 public:
  os_thread_lock() noexcept { gmp_lock_os_thread(); }
  ~os_thread_lock() { gmp_unlock_os_thread(); }
  os_thread_lock(const os_thread_lock&) = delete;
  os_thread_lock& operator=(const os_thread_lock&) = delete;
};

// timer: time.AfterFunc. The function runs on a goroutine of its own; the
// state it needs is shared (std::shared_ptr) between the handle and every
// firing, so a firing already started outlives the handle. A firing holds
// its reference from arming (start, or a reset that re-arms) until it has
// run; stop() and the destructor drop the reference of a firing they
// cancel.
class timer {
  using ref = std::shared_ptr<std::function<void()>>;

  static void fire(void* arg) noexcept {
    std::unique_ptr<ref> held(static_cast<ref*>(arg));
    (**held)();
  }

 public:
  timer() noexcept = default;
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  ~timer() { reset_handle(); }

  // start: run fn once after d (an earlier timer of this object is freed
  // first). GMP_OK or the code of gmp_timer_start.
  template <class Rep, class Period, class F>
  int start(std::chrono::duration<Rep, Period> d, F&& fn) {
    reset_handle();
    fn_ = std::make_shared<std::function<void()>>(std::forward<F>(fn));
    auto* arming = new ref(fn_);
    int rc = gmp_timer_start(&t_, detail::to_ns(d), &timer::fire, arming);
    if (rc != GMP_OK) {
      delete arming;
      t_ = nullptr;
    } else {
      pending_ = arming;
    }
    return rc;
  }

  // stop: true if this call stopped the timer before it fired.
  bool stop() noexcept {
    if (!t_ || gmp_timer_stop(t_) != 1) return false;
    delete pending_;
    pending_ = nullptr;
    return true;
  }

 private:
  void reset_handle() noexcept {
    if (!t_) return;
    stop();
    gmp_timer_free(t_);
    t_ = nullptr;
    pending_ = nullptr;
  }

  gmp_timer_t* t_ = nullptr;
  ref fn_;
  ref* pending_ = nullptr;  // the reference of the armed firing, while it is ours to cancel
};

// ticker: time.Ticker; the ticks (gmp_now() readings) arrive on c().
class ticker {
 public:
  ticker() noexcept = default;
  ticker(const ticker&) = delete;
  ticker& operator=(const ticker&) = delete;
  ~ticker() { gmp_ticker_stop(t_); }

  template <class Rep, class Period>
  int start(std::chrono::duration<Rep, Period> period) noexcept {
    gmp_ticker_stop(t_);
    t_ = nullptr;
    gmp_chan_t* c = nullptr;
    int rc = gmp_ticker_start(&t_, detail::to_ns(period), &c);
    if (rc == GMP_OK) c_ = chan<int64_t>::adopt(c);
    return rc;
  }
  const chan<int64_t>& c() const noexcept { return c_; }

 private:
  gmp_ticker_t* t_ = nullptr;
  chan<int64_t> c_;
};

// after: time.After: a channel receiving the time once d has passed (an
// empty chan when memory runs out).
template <class Rep, class Period>
chan<int64_t> after(std::chrono::duration<Rep, Period> d) noexcept {
  gmp_chan_t* c = nullptr;
  if (gmp_after(detail::to_ns(d), &c) != GMP_OK) return chan<int64_t>();
  return chan<int64_t>::adopt(c);
}

template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
  gmp_sleep(detail::to_ns(d));
}

}  // namespace hpp_v0
}  // namespace gmprt

#endif /* GMPRT_HPP */
