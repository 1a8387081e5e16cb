// time.cpp -- gmp_now, gmp_sleep, gmp_after, gmp_timer_*, gmp_ticker_*:
// the checks of the public contract, then the core (core/sleep.cpp).
#include "../core/sleep.hpp"

#include "capi_guard.hpp"

using namespace gmprt;

namespace {

AfterFunc* from_handle(gmp_timer_t* t) { return reinterpret_cast<AfterFunc*>(t); }
Ticker* from_handle(gmp_ticker_t* t) { return reinterpret_cast<Ticker*>(t); }

}  // namespace

extern "C" GMP_API int64_t gmp_now(void) noexcept { return nanotime(); }

extern "C" GMP_API void gmp_sleep(int64_t ns) noexcept {
  RuntimeCall in_runtime;
  if (ns <= 0) return;
  plain_thread_enter();  // a sleeping thread is a possible waker
  time_sleep(ns);
}

extern "C" GMP_API int gmp_after(int64_t ns, gmp_chan_t** out) noexcept {
  RuntimeCall in_runtime;
  if (!out) return GMP_EINVAL;
  if (int rc = api_enter(in_runtime)) return rc;
  Chan* c;
  int rc = after(ns, &c);
  if (rc == 0) *out = reinterpret_cast<gmp_chan_t*>(c);
  return rc;
}

extern "C" GMP_API int gmp_timer_start(gmp_timer_t** out, int64_t ns, gmp_fn fn,
                                       void* arg) noexcept {
  RuntimeCall in_runtime;
  if (!out || !fn) return GMP_EINVAL;
  if (int rc = api_enter(in_runtime)) return rc;
  AfterFunc* t;
  int rc = afterfunc_start(&t, ns, fn, arg);
  if (rc == 0) *out = reinterpret_cast<gmp_timer_t*>(t);
  return rc;
}

extern "C" GMP_API int gmp_timer_stop(gmp_timer_t* t) noexcept {
  RuntimeCall in_runtime;
  return t ? afterfunc_stop(from_handle(t)) : 0;
}

extern "C" GMP_API int gmp_timer_reset(gmp_timer_t* t, int64_t ns) noexcept {
  RuntimeCall in_runtime;
  if (!t) return GMP_EINVAL;
  if (int rc = api_enter(in_runtime)) return rc;
  return afterfunc_reset(from_handle(t), ns);
}

extern "C" GMP_API void gmp_timer_free(gmp_timer_t* t) noexcept {
  RuntimeCall in_runtime;
  if (t) afterfunc_free(from_handle(t));
}

extern "C" GMP_API int gmp_ticker_start(gmp_ticker_t** out, int64_t period_ns,
                                        gmp_chan_t** c) noexcept {
  RuntimeCall in_runtime;
  if (!out || !c || period_ns <= 0) return GMP_EINVAL;
  if (int rc = api_enter(in_runtime)) return rc;
  Ticker* t;
  Chan* ch;
  int rc = ticker_start(&t, period_ns, &ch);
  if (rc == 0) {
    *out = reinterpret_cast<gmp_ticker_t*>(t);
    *c = reinterpret_cast<gmp_chan_t*>(ch);
  }
  return rc;
}

extern "C" GMP_API void gmp_ticker_stop(gmp_ticker_t* t) noexcept {
  RuntimeCall in_runtime;
  if (t) ticker_stop(from_handle(t));
}
