// errors.cpp -- gmp_strerror, generated from the header's GMP_ERRNO_MAP.
#include "capi_guard.hpp"

extern "C" GMP_API const char* gmp_strerror(int err) noexcept {
  switch (err) {
    case GMP_OK: return "success";
#define GMP_STRERROR_CASE_(name, value, msg) \
  case value: return msg;
    GMP_ERRNO_MAP(GMP_STRERROR_CASE_)
#undef GMP_STRERROR_CASE_
    default: return "unknown error";
  }
}
