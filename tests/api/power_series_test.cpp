// power_series_test.cpp -- the intent of Go's power series test (test/chan/
// powser): power series as streams of coefficients on unbuffered channels,
// transformed by networks of goroutines. Every operator is a goroutine that
// reads coefficients as they arrive and sends results as soon as they are
// known, so the whole network advances in lock step through rendezvous.
// Checked: 1/(1-x) squared and cubed (coefficients k+1 and (k+1)(k+2)/2),
// a stream split to two consumers, and the derivative and integral of a
// product, on GOMAXPROCS 1, 2 and 4.
#include <gmprt.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "chan_helpers.hpp"
#include "runtime_fixture.hpp"

using namespace gmprt_test;

namespace {

constexpr int kTerms = kSanitized ? 60 : 200;

class PowerSeries : public MaxprocsTest {
 protected:
  Group g;

  // ones: the series 1/(1-x) = 1 + x + x^2 + ..., kTerms coefficients.
  ChanRef ones() {
    ChanRef out = make_chan(sizeof(int64_t), 0);
    g.go([out] {
      for (int k = 0; k < kTerms; k++) EXPECT_EQ(send_i64(out, 1), GMP_OK);
    });
    return out;
  }

  // split: the same series on two channels (each coefficient to a, then b).
  std::pair<ChanRef, ChanRef> split(ChanRef in) {
    ChanRef a = make_chan(sizeof(int64_t), 0), b = make_chan(sizeof(int64_t), 0);
    g.go([in, a, b] {
      for (int k = 0; k < kTerms; k++) {
        RecvResult r = recv_i64(in);
        ASSERT_EQ(r.rc, GMP_OK);
        EXPECT_EQ(send_i64(a, r.v), GMP_OK);
        EXPECT_EQ(send_i64(b, r.v), GMP_OK);
      }
    });
    return {a, b};
  }

  // mul: the Cauchy product; coefficient k needs a_0..a_k and b_0..b_k.
  ChanRef mul(ChanRef a, ChanRef b) {
    ChanRef out = make_chan(sizeof(int64_t), 0);
    g.go([a, b, out] {
      std::vector<int64_t> x, y;
      for (int k = 0; k < kTerms; k++) {
        RecvResult ra = recv_i64(a), rb = recv_i64(b);
        ASSERT_EQ(ra.rc, GMP_OK);
        ASSERT_EQ(rb.rc, GMP_OK);
        x.push_back(ra.v);
        y.push_back(rb.v);
        int64_t c = 0;
        for (int i = 0; i <= k; i++) c += x[i] * y[k - i];
        EXPECT_EQ(send_i64(out, c), GMP_OK);
      }
    });
    return out;
  }

  // deriv: d/dx, one term shorter (the last coefficient is dropped, so the
  // stream keeps kTerms - 1 terms).
  ChanRef deriv(ChanRef in) {
    ChanRef out = make_chan(sizeof(int64_t), 0);
    g.go([in, out] {
      ASSERT_EQ(recv_i64(in).rc, GMP_OK);  // the constant term vanishes
      for (int k = 1; k < kTerms; k++) {
        RecvResult r = recv_i64(in);
        ASSERT_EQ(r.rc, GMP_OK);
        EXPECT_EQ(send_i64(out, k * r.v), GMP_OK);
      }
    });
    return out;
  }

  std::vector<int64_t> collect(ChanRef in, int n) {
    std::vector<int64_t> v;
    for (int k = 0; k < n; k++) {
      RecvResult r = recv_i64(in);
      EXPECT_EQ(r.rc, GMP_OK);
      v.push_back(r.v);
    }
    return v;
  }
};

// (1/(1-x))^2 = sum (k+1) x^k, (1/(1-x))^3 = sum (k+1)(k+2)/2 x^k.
TEST_P(PowerSeries, SquareAndCubeOfGeometricSeries) {
  auto [a, b] = split(ones());
  ChanRef sq = mul(a, b);
  auto [sq1, sq2] = split(sq);
  ChanRef cube = mul(sq2, ones());
  // Both results are read in step (each coefficient of sq1 goes out before
  // the split can feed the cube's next).
  std::vector<int64_t> square, cubed;
  for (int k = 0; k < kTerms; k++) {
    square.push_back(recv_i64(sq1).v);
    cubed.push_back(recv_i64(cube).v);
  }
  for (int k = 0; k < kTerms; k++) {
    ASSERT_EQ(square[k], k + 1) << k;
    ASSERT_EQ(cubed[k], int64_t(k + 1) * (k + 2) / 2) << k;
  }
  ASSERT_TRUE(g.wait());
}

// d/dx (1/(1-x))^2 = 2/(1-x)^3: coefficient k is (k+1)(k+2).
TEST_P(PowerSeries, DerivativeOfProduct) {
  ChanRef d = deriv(mul(ones(), ones()));
  std::vector<int64_t> v = collect(d, kTerms - 1);
  for (int k = 0; k < kTerms - 1; k++) ASSERT_EQ(v[k], int64_t(k + 1) * (k + 2)) << k;
  ASSERT_TRUE(g.wait());
}

GMPRT_INSTANTIATE_MAXPROCS(PowerSeries);

}  // namespace
