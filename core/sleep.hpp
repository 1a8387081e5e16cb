// sleep.hpp -- what the public Time section is made of, on top of the timer
// heaps of time.hpp: sleeping, time.After, time.AfterFunc and tickers.
#pragma once

#include <stdint.h>

#include "../capi/include/gmprt.h"
#include "chan.hpp"
#include "time.hpp"

namespace gmprt {

// deadline_after: nanotime() + ns, saturating.
int64_t deadline_after(int64_t ns);

// time_sleep: park the goroutine (or sleep the thread) for at least ns.
void time_sleep(int64_t ns);

// after: gmp_after. 0, GMP_ENOMEM.
int after(int64_t ns, Chan** out);

// AfterFunc: the timer behind gmp_timer_t. Its own lock serialises the
// user's stop / reset / free; the timer heap's lock does the rest.
struct AfterFunc {
  Lock lock;
  Timer timer;
  gmp_fn fn = nullptr;
  void* arg = nullptr;
};
int afterfunc_start(AfterFunc** out, int64_t ns, gmp_fn fn, void* arg);  // 0, GMP_ENOMEM
int afterfunc_stop(AfterFunc* t);                                        // 1 stopped, 0 not pending
int afterfunc_reset(AfterFunc* t, int64_t ns);  // 1 was pending, 0 not, GMP_ENOMEM
void afterfunc_free(AfterFunc* t);

// Ticker: the timer behind gmp_ticker_t, sending on a channel of capacity 1.
struct Ticker {
  Timer timer;
  Chan* c = nullptr;  // the ticker's own reference
};
int ticker_start(Ticker** out, int64_t period, Chan** c);  // 0, GMP_ENOMEM
void ticker_stop(Ticker* t);

}  // namespace gmprt
