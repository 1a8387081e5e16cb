// rand.hpp -- cheap per-M pseudo-random numbers (Go's fastrand: wyrand) for
// steal order, select order and the randomize test mode. Not for anything
// that needs unpredictability.
#pragma once

#include <stdint.h>

namespace gmprt {

// fastrand: next value from the calling M's generator (or a per-thread one
// on a plain thread).
uint32_t fastrand();

// fastrandn: uniform in [0, n) (Lemire's multiply-shift).
inline uint32_t fastrandn(uint32_t n) { return uint32_t((uint64_t(fastrand()) * n) >> 32); }

// wyrand_next: one step of the generator over a caller-held state.
inline uint64_t wyrand_next(uint64_t* state) {
  *state += 0xa0761d6478bd642fULL;
  __uint128_t m = __uint128_t(*state) * (*state ^ 0xe7037ed1a0b428dbULL);
  return uint64_t(m >> 64) ^ uint64_t(m);
}

}  // namespace gmprt
