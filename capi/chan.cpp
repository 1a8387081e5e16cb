// chan.cpp -- gmp_chan_*: the checks of the public contract, then the core
// (core/chan.cpp).
#include "../core/chan.hpp"

#include "capi_guard.hpp"

using namespace gmprt;

namespace {

Chan* from_handle(gmp_chan_t* c) { return reinterpret_cast<Chan*>(c); }

// bad_send: a send's arguments break the contract.
bool bad_send(Chan* c, const void* elem) { return !c || (!elem && c->elemsize); }

// timed: the *_timeout forms: a one-case select (which owns every timeout).
int timed(Chan* c, int dir, void* elem, int64_t timeout_ns) {
  gmp_select_case_t cas{reinterpret_cast<gmp_chan_t*>(c), dir, elem, 0};
  int rc = select_go(&cas, 1, timeout_ns);
  return rc < 0 ? rc : cas.result;
}

}  // namespace

extern "C" GMP_API int gmp_chan_make(gmp_chan_t** out, size_t elem_size, size_t capacity) noexcept {
  RuntimeCall in_runtime;
  if (!out) return GMP_EINVAL;
  plain_thread_enter();  // a thread that makes channels is a possible waker
  Chan* c;
  int rc = chan_make(&c, elem_size, capacity);
  if (rc == 0) *out = reinterpret_cast<gmp_chan_t*>(c);
  return rc;
}

extern "C" GMP_API void gmp_chan_retain(gmp_chan_t* c) noexcept {
  RuntimeCall in_runtime;
  if (c) chan_retain(from_handle(c));
}

extern "C" GMP_API void gmp_chan_release(gmp_chan_t* c) noexcept {
  RuntimeCall in_runtime;
  if (c) chan_release(from_handle(c));
}

extern "C" GMP_API int gmp_chan_send(gmp_chan_t* h, const void* elem) noexcept {
  RuntimeCall in_runtime;
  Chan* c = from_handle(h);
  if (bad_send(c, elem)) return GMP_EINVAL;
  return chan_send(c, elem, true);
}

extern "C" GMP_API int gmp_chan_recv(gmp_chan_t* h, void* elem) noexcept {
  RuntimeCall in_runtime;
  if (!h) return GMP_EINVAL;
  return chan_recv(from_handle(h), elem, true);
}

extern "C" GMP_API int gmp_chan_try_send(gmp_chan_t* h, const void* elem) noexcept {
  RuntimeCall in_runtime;
  Chan* c = from_handle(h);
  if (bad_send(c, elem)) return GMP_EINVAL;
  return chan_send(c, elem, false);
}

extern "C" GMP_API int gmp_chan_try_recv(gmp_chan_t* h, void* elem) noexcept {
  RuntimeCall in_runtime;
  if (!h) return GMP_EINVAL;
  return chan_recv(from_handle(h), elem, false);
}

extern "C" GMP_API int gmp_chan_send_timeout(gmp_chan_t* h, const void* elem,
                                             int64_t timeout_ns) noexcept {
  RuntimeCall in_runtime;
  Chan* c = from_handle(h);
  if (bad_send(c, elem)) return GMP_EINVAL;
  if (timeout_ns < 0) return chan_send(c, elem, true);
  if (timeout_ns == 0) return chan_send(c, elem, false);
  if (int rc = api_enter(in_runtime)) return rc;
  return timed(c, GMP_SEND, const_cast<void*>(elem), timeout_ns);
}

extern "C" GMP_API int gmp_chan_recv_timeout(gmp_chan_t* h, void* elem,
                                             int64_t timeout_ns) noexcept {
  RuntimeCall in_runtime;
  Chan* c = from_handle(h);
  if (!c) return GMP_EINVAL;
  if (timeout_ns < 0) return chan_recv(c, elem, true);
  if (timeout_ns == 0) return chan_recv(c, elem, false);
  if (int rc = api_enter(in_runtime)) return rc;
  return timed(c, GMP_RECV, elem, timeout_ns);
}

extern "C" GMP_API int gmp_chan_close(gmp_chan_t* h) noexcept {
  RuntimeCall in_runtime;
  if (!h) return GMP_EINVAL;
  return chan_close(from_handle(h));
}

extern "C" GMP_API size_t gmp_chan_len(gmp_chan_t* h) noexcept {
  RuntimeCall in_runtime;
  return h ? chan_len(from_handle(h)) : 0;
}

extern "C" GMP_API size_t gmp_chan_cap(gmp_chan_t* h) noexcept {
  RuntimeCall in_runtime;
  return h ? from_handle(h)->dataqsiz : 0;
}

// ---------------------------------------------------------------------------
// Select.

namespace {

constexpr size_t kSelectMaxCases = 65536;

bool valid_cases(const gmp_select_case_t* cases, size_t n) {
  if (n > kSelectMaxCases || (n && !cases)) return false;
  for (size_t i = 0; i < n; i++) {
    const gmp_select_case_t& c = cases[i];
    if (c.dir != GMP_SEND && c.dir != GMP_RECV) return false;
    if (c.dir == GMP_SEND && c.chan && bad_send(from_handle(c.chan), c.elem)) return false;
  }
  return true;
}

}  // namespace

extern "C" GMP_API int gmp_select(gmp_select_case_t* cases, size_t n, int64_t timeout_ns) noexcept {
  RuntimeCall in_runtime;
  if (!valid_cases(cases, n)) return GMP_EINVAL;
  if (timeout_ns != 0) {
    if (int rc = api_enter(in_runtime)) return rc;
  }
  return select_go(cases, n, timeout_ns);
}
