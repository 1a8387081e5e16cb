// header_cxx.cpp -- <gmprt.h> from C++11, C++14, C++17 and C++20.
//
// Compiled (not linked) by ctest once per standard with -Wall -Wextra
// -Wpedantic -Werror (see tests/abi/CMakeLists.txt). The header must give
// every declaration C linkage and use nothing a C++ compiler rejects or warns
// about; the code below uses it the way a C++ user would.
// The second include checks the guard: clang-format must not merge them.
// clang-format off
#include <gmprt.h>
#include <gmprt.h>
// clang-format on

#include <cstdint>
#include <type_traits>

namespace {

// The error X-macro inside C++ code.
#define ABI_CASE_(name, value, msg) \
  case GMP_##name:                  \
    return msg;
const char* abi_message(int code) {
  switch (code) {
    GMP_ERRNO_MAP(ABI_CASE_)
    default:
      return "unknown error";
  }
}
#undef ABI_CASE_

static_assert(std::is_standard_layout<gmp_go_opts_t>::value, "gmp_go_opts_t is a C struct");
static_assert(std::is_trivial<gmp_go_opts_t>::value, "gmp_go_opts_t is a C struct");
static_assert(std::is_same<decltype(gmp_goid()), std::uint64_t>::value,
              "gmp_goid returns uint64_t");
static_assert(
    std::is_same<decltype(&gmp_go_ex), int (*)(gmp_fn, void*, const gmp_go_opts_t*)>::value,
    "gmp_go_ex signature");
static_assert(std::is_same<gmp_park_fn, int (*)(gmp_g_t*, void*)>::value, "gmp_park_fn");
static_assert(GMP_OK == 0 && GMP_EINVAL < 0, "error codes are negative");

}  // namespace

// A goroutine body as C++ code passes one: a function with C linkage.
extern "C" void abi_body(void* arg);
extern "C" void abi_body(void* arg) { static_cast<void>(arg); }

int abi_use();
int abi_use() {
  gmp_go_opts_t opts = {sizeof(gmp_go_opts_t), 0, "abi", 0};
  gmp_go_opts_t zero = {};
  static_cast<void>(zero);
  void (*ready)(gmp_g_t*) = gmp_ready;
  static_cast<void>(ready);
  return gmp_go_ex(abi_body, nullptr, &opts) + (abi_message(GMP_EINVAL) != nullptr);
}
